"""xlwings Lite: paste this into the workbook's main.py (xlwings Lite task pane, main.py tab).

Lite registers the functions that main.py holds. ``ptbilling.udfs`` declares them
with ``xw.func``/``xw.arg``, which in Lite are Lite's own ``from xlwings import
func, arg`` decorators, so importing the four names is all there is to it:
=PT_UNITS(), =PT_VALIDATE(), =PT_FEE() and =PT_EXPLAIN(), with their help texts.
"""
from ptbilling.udfs import PT_EXPLAIN, PT_FEE, PT_UNITS, PT_VALIDATE

__all__ = ["PT_EXPLAIN", "PT_FEE", "PT_UNITS", "PT_VALIDATE"]
