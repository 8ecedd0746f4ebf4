"""Call the Excel functions the way xlwings Lite hands them their arguments, with no Lite.

xlwings Lite runs ``main.py`` in Pyodide inside Excel. Its decorators
(``from xlwings import func, arg``) and its call path are xlwings' PRO modules
(``xlwings/pro/udfs_officejs.py``, PolyForm Noncommercial or a commercial
licence), which this project neither ships nor runs. What they do is stated here
from their source, and the function bodies (``ptbilling.excel_functions``, which
``ptbilling.udfs`` only decorates) are called directly with those values:

- Office.js declares every parameter ``matrix`` of type ``any``, so every
  argument arrives as a list of rows, a single cell as ``[[x]]``;
- Lite unwraps a 1×1 matrix to its value (``to_scalar``), and an argument that is
  then None (omitted, or one empty cell) gets the Python default;
- an empty cell is Office.js' ``null`` or ``""``; an error cell is an error object
  ``{"type": "Error", "basicValue": "#N/A"}`` or, in older runtimes, its text;
- a date is its serial day number (the workbook's date system; 1900 unless the
  workbook is set to 1904).

Lite's own conversion then turns ``""`` and ``null`` into None and an error
object into None; the functions are fed the raw forms instead, so they are
proven to give the desktop's answer for either. This module is copied into
Pyodide by the CI test, so it uses only the standard library.
"""
from __future__ import annotations

import datetime as dt
import inspect

EXCEL_EPOCH_1900 = dt.datetime(1899, 12, 30)
EXCEL_EPOCH_1904 = dt.datetime(1904, 1, 1)
MISSING = -2147352572  # what VBA passes for an omitted argument (the desktop harness' marker)
ERROR_CODES = {  # the desktop's COM error codes -> Excel's error text
    -2146826281: "#DIV/0!", -2146826246: "#N/A", -2146826259: "#NAME?", -2146826288: "#NULL!",
    -2146826252: "#NUM!", -2146826265: "#REF!", -2146826273: "#VALUE!",
}
#: the ways Lite may hand a blank and an error cell; every case runs with each
VARIANTS = {"null-blanks+error-objects": (None, "object"), "empty-text-blanks+error-text": ("", "text")}


def serial(value: dt.datetime | dt.date, date1904: bool = False) -> float:
    """A date as Excel stores it: days since the workbook's epoch (1900 system by default)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    delta = value - (EXCEL_EPOCH_1904 if date1904 else EXCEL_EPOCH_1900)
    return delta.days + delta.seconds / 86400


def office_js_cell(value, blank=None, error="object", date1904=False):
    """One cell as the desktop harness writes it -> as Office.js hands it to Lite."""
    if value is None:
        return blank
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in ERROR_CODES:
        text = ERROR_CODES[value]
        return {"type": "Error", "basicValue": text} if error == "object" else text
    if isinstance(value, (dt.datetime, dt.date)):
        return serial(value, date1904)
    return value


def office_js(value, blank=None, error="object", date1904=False):
    """An argument as the desktop harness writes it -> the matrix Office.js passes (None: omitted)."""
    if isinstance(value, int) and not isinstance(value, bool) and value == MISSING:
        return None
    if isinstance(value, (tuple, list)):
        return [[office_js_cell(c, blank, error, date1904) for c in row] for row in value]
    return [[office_js_cell(value, blank, error, date1904)]]


def to_scalar(arg):
    """Lite's first step on each argument: a 1×1 matrix becomes its value, and JS null None."""
    if isinstance(arg, list) and len(arg) == 1 and isinstance(arg[0], list) and len(arg[0]) == 1:
        arg = arg[0][0]
    return None if type(arg).__name__ == "JsNull" else arg  # Pyodide >= 0.28 hands JS null as JsNull


def call_as_lite(functions, name: str, *office_js_args):
    """Call ``functions.<name>`` with Office.js-shaped arguments as Lite does: unwrap, then defaults."""
    func = getattr(functions, name)
    params = list(inspect.signature(func).parameters.values())
    args = list(office_js_args) + [None] * (len(params) - len(office_js_args))
    for i, (arg, param) in enumerate(zip(args, params)):
        arg = to_scalar(arg)
        if arg is None and param.default is not inspect.Parameter.empty:
            arg = param.default
        args[i] = arg
    return as_cells(func(*args))


def as_cells(result):
    """What Excel shows: a list of rows, an empty cell as "" (as both xlwings doors write it)."""
    if not isinstance(result, list):
        result = [[result]]
    return [["" if v is None else v for v in row] for row in result]
