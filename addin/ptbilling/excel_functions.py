"""The four Excel functions as plain Python, with no xlwings: what both Excel front doors call.

``ptbilling.udfs`` puts xlwings' decorators on them. Classic xlwings (Windows
desktop Excel, a local Python) and xlwings Lite (Pyodide inside Excel on
Windows, Mac and the web) both import that module; this one has no
dependency beyond the standard library, so the CI can run it in Pyodide without
xlwings' PRO-licensed Lite modules.

Each function only (1) coerces what Excel hands over, (2) calls the rules core,
(3) turns errors into a short text in the cell. Nothing here may raise into a
cell: a traceback in a cell is a bug.

What arrives, on each door (every range argument sets ``ndim=2``, so a range is
a list of rows and a column and a row can be told apart):

- numbers as floats (97110 -> 97110.0);
- an empty cell as None; xlwings Lite hands Office.js' ``null`` (Pyodide's
  ``JsNull``) or ``""`` the same way, and a raw one that reaches us is read as
  None too (:func:`_cell`);
- an error cell (#N/A...) as None on the desktop. Lite hands it as None, as
  Office.js' error object, or as its text; all three are read as None, so a
  function answers exactly what the desktop answers;
- a date as a datetime on the desktop, as its serial day number (1900 date
  system) in Lite; the coercion of dates takes both.
"""
from __future__ import annotations

import functools

from .data_folder import on_pyodide, use_default
from .logs.cells import EXCEL_ERRORS, check_table, coerce_date, date_cells, modifier_args
from .logs.fees import cell_value, price_column
from .rules import errors as _errors
from .rules.service_units import explain_visit, log_units

MAX_CELL_TEXT = 255  # keep messages readable in a cell and in the Function Wizard

ERROR_TEXTS = EXCEL_ERRORS  # Excel's error values as text (one list, in logs.cells)

_JsNull: type = type(None)
_blankish: set[object] = set(ERROR_TEXTS) | {""}  # hashable cells that read as None
if on_pyodide():  # Office.js' null, as Pyodide >= 0.28 surfaces it
    try:
        # pyodide.ffi exists only inside Pyodide (mypy runs on CPython); its JsNull replaces the default
        from pyodide.ffi import JsNull as _JsNull  # type: ignore[import-not-found,no-redef]
        from pyodide.ffi import jsnull as _jsnull

        _blankish.add(_jsnull)
    except (ImportError, TypeError):  # older Pyodide hands None
        pass
_BLANKISH = frozenset(_blankish)

use_default()  # the user data folder of this platform (Lite: /data/ptbilling when present)


def _cell(value):
    """One cell as the desktop hands it: blank, error text, error object or JsNull -> None."""
    cls = value.__class__
    if cls is str:
        return None if value == "" or value in ERROR_TEXTS else value
    if cls is dict:  # an Office.js value object: an error, or a formatted number / data type
        return None if value.get("type") == "Error" else _cell(value.get("basicValue"))
    if cls is _JsNull:
        return None
    return value


def _column(cells: list) -> list:
    """_cell of every cell; a column with nothing to change passes at the cost of one set check."""
    try:
        if _BLANKISH.isdisjoint(cells):
            return cells
    except TypeError:  # an unhashable cell: an Office.js value object (an error)
        pass
    return [_cell(c) for c in cells]


def _message(name: str, exc: BaseException) -> str:
    if isinstance(exc, _errors.PtBillingError):
        text = str(exc)
    else:  # a bug of ours: still a message, never a traceback
        text = f"internal error ({type(exc).__name__}: {exc})"
    return f"{name}: {text}"[:MAX_CELL_TEXT]


def _never_raises(f):
    @functools.wraps(f)
    def wrapper(*args):
        try:
            return f(*args)
        except Exception as exc:  # noqa: BLE001 - the whole point: nothing reaches the cell
            return _message(f.__name__, exc)

    return wrapper


def _lines(value, what: str) -> tuple[list, tuple[int, int]]:
    """A 2-D value (ndim=2) -> its cells as one list, and the shape to answer in."""
    value = _cell(value) if not isinstance(value, list) else value
    if value is None:
        return [None], (1, 1)
    if not isinstance(value, list) or not value or not isinstance(value[0], list):
        return [value], (1, 1)  # a scalar reached us without conversion
    rows, cols = len(value), len(value[0])  # xlwings hands rectangular ranges
    if rows > 1 and cols > 1:
        raise _errors.BadValue(f"{what} must be one column or one row, not {rows}×{cols}")
    return _column([r[0] for r in value] if cols == 1 else list(value[0])), (rows, cols)


def _matching(value, what: str, n: int, optional: bool = True, base: str = "minutes") -> list | None:
    """A range that must line up with ``base`` (the first argument); a single cell applies to all lines.

    An optional argument that is one blank cell counts as omitted, as Lite
    hands it (its call path turns a single empty cell into the default).
    """
    if value is None:
        return None
    flat, shape = _lines(value, what)
    if shape == (1, 1) and optional and flat[0] is None:
        return None
    if shape == (1, 1) and n != 1:
        return flat * n
    if len(flat) != n:
        raise _errors.BadValue(f"{what} has {len(flat)} cells but {base} has {n} — give ranges of the same size")
    return flat


def _shaped(values: list, shape: tuple[int, int]):
    """Answer in the caller's orientation; problems become their short message."""
    def cell(v):
        return v if v is None or v.__class__ in (int, float) else str(v)[:MAX_CELL_TEXT]

    if shape == (1, 1):
        return cell(values[0])
    if shape[1] == 1:
        return [[v] if v.__class__ is int or v is None else [cell(v)] for v in values]
    return [[cell(v) for v in values]]


@_never_raises
def PT_UNITS(minutes, codes=None, method="CMS", visits=None, modifiers=None, assistant_minutes=None, dates=None):
    flat, shape = _lines(minutes, "minutes")
    n = len(flat)
    mods = _matching(modifiers, "modifiers", n)
    days = _matching(dates, "dates", n)
    result = log_units(flat, _matching(codes, "codes", n), _cell(method), _matching(visits, "visits", n),
                       assistant_minutes=_matching(assistant_minutes, "assistant_minutes", n),
                       dates=date_cells(days) if days is not None else None, **modifier_args(mods))
    return _shaped(result, shape)


@_never_raises
def PT_EXPLAIN(minutes, codes=None, method="CMS", modifiers=None, assistant_minutes=None, date=None):
    flat, _ = _lines(minutes, "minutes")
    n = len(flat)
    mods = _matching(modifiers, "modifiers", n)
    day = _cell(date)
    dos = coerce_date(day) if day is not None and not (isinstance(day, str) and not day.strip()) else None
    return explain_visit(flat, _matching(codes, "codes", n), _cell(method),
                         assistant_minutes=_matching(assistant_minutes, "assistant_minutes", n), dos=dos,
                         **modifier_args(mods))


@_never_raises
def PT_VALIDATE(log, payer=None, method=None):
    if not isinstance(log, list) or not log or not isinstance(log[0], list) or len(log) < 2:
        raise _errors.BadValue("select the log with its header row and at least one data row")
    table = [_column(row) for row in log]
    return [[t] for t in check_table(table, _cell(payer), _cell(method))]


@_never_raises
def PT_FEE(codes, units, modifiers=None, dates=None, locality=None, visits=None):
    flat, shape = _lines(codes, "codes")
    n = len(flat)
    fees = price_column(flat, _matching(units, "units", n, optional=False, base="codes"),
                        _matching(modifiers, "modifiers", n, base="codes"), _matching(dates, "dates", n, base="codes"),
                        _cell(locality), _matching(visits, "visits", n, base="codes"))
    return _shaped([cell_value(f) for f in fees], shape)
