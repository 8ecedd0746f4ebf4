"""Scalar reference implementations, kept only as oracles for the randomised equivalence tests.

Production has one implementation of every rule; when a rule became a whole-log pass, its
former per-line or per-visit version moved here, unchanged in what it answers.
"""
