"""Scalar reference implementations replaced in production by whole-log passes: the test oracles
of the randomised equivalence tests (``tests/test_equivalence_<area>.py``)."""
