"""The Excel functions: the module xlwings imports (UDF Modules = ptbilling.udfs).

A thin front door. Each function only (1) coerces what Excel hands over,
(2) calls the rules core, (3) turns errors into a short text in the cell.
Nothing here may raise into a cell: a traceback in a cell is a bug.

What xlwings hands a UDF: numbers as floats (97110 -> 97110.0), empty and error
cells as None, and a single cell as a scalar, unless ``ndim`` is set; every
range argument here sets ``ndim=2`` so a column and a row can be told apart and
the result returned in the same orientation.
"""
from __future__ import annotations

import functools

import xlwings as xw

from .rules import errors as _errors
from .logs.fees import cell_value, price_column
from .logs.cells import assistant_flags, check_table
from .rules.service_units import explain_visit, log_units

MAX_CELL_TEXT = 255  # keep messages readable in a cell and in the Function Wizard


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
    if value is None:
        return [None], (1, 1)
    if not isinstance(value, list) or not value or not isinstance(value[0], list):
        return [value], (1, 1)  # a scalar reached us without conversion
    rows, cols = len(value), len(value[0])  # xlwings hands rectangular ranges
    if rows > 1 and cols > 1:
        raise _errors.BadValue(f"{what} must be one column or one row, not {rows}×{cols}")
    return ([r[0] for r in value] if cols == 1 else list(value[0])), (rows, cols)


def _matching(value, what: str, n: int, base: str = "minutes") -> list | None:
    """An optional range that must line up with ``base`` (the first argument); a single cell applies to all lines."""
    if value is None:
        return None
    flat, shape = _lines(value, what)
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


@xw.func
@xw.arg("minutes", ndim=2, doc="Minutes of each service line: a number or a one-column (or one-row) range.")
@xw.arg("codes", ndim=2, doc="Optional. CPT/HCPCS code of each line (97110, \"g0283\"). Blank means a timed code.")
@xw.arg("method", doc="Optional. \"CMS\" (8-minute rule on the visit total, default) or \"AMA\" (each code on its own).")
@xw.arg("visits", ndim=2, doc="Optional. Visit key of each line (e.g. patient & date); same key = one visit. Omitted: one visit.")
@xw.arg("modifiers", ndim=2, doc="Optional. Modifiers of each line (\"GP CQ\"). CMS: a code's units are divided between its CQ/CO line and its therapist line.")
@_never_raises
def PT_UNITS(minutes, codes=None, method="CMS", visits=None, modifiers=None):
    """Billable units per service line by the Medicare 8-minute rule (CMS) or per code (AMA). Returns one value per line, same shape; blank lines stay blank, bad lines get a message."""
    flat, shape = _lines(minutes, "minutes")
    n = len(flat)
    mods = _matching(modifiers, "modifiers", n)
    result = log_units(flat, _matching(codes, "codes", n), method, _matching(visits, "visits", n),
                       assisted=assistant_flags(mods) if mods is not None else None)
    return _shaped(result, shape)


@xw.func
@xw.arg("minutes", ndim=2, doc="Minutes of each line of ONE visit: a number or a one-column (or one-row) range.")
@xw.arg("codes", ndim=2, doc="Optional. CPT/HCPCS code of each line. Blank means a timed code.")
@xw.arg("method", doc="Optional. \"CMS\" (default) or \"AMA\".")
@_never_raises
def PT_EXPLAIN(minutes, codes=None, method="CMS"):
    """One line of text saying how the units of one visit were reached, with the rule's source. Paste it into notes or hand it to an auditor."""
    flat, _ = _lines(minutes, "minutes")
    return explain_visit(flat, _matching(codes, "codes", len(flat)), method)


@xw.func
@xw.arg("log", ndim=2, doc="The session log WITH its header row, e.g. SessionLog[#All]. Headers: Patient, Date, Payer, Provider, Code, Modifiers, Minutes, Units; optional Assistant Minutes, Prior Allowed.")
@xw.arg("payer", doc="Optional. Payer for every row when the log has no Payer column (e.g. \"Medicare\").")
@xw.arg("method", doc="Optional. Unit method for non-Medicare payers: \"AMA\" (default) or \"CMS\". Traditional Medicare always uses CMS.")
@_never_raises
def PT_VALIDATE(log, payer=None, method=None):
    """Checks each claim line of a session log: codes, GP/GO/GN, CQ/CO, units, evaluations, provider, NCCI edits, MUEs, KX. One text per row: Check (header), OK, or findings with rule IDs and fixes."""
    if not isinstance(log, list) or not log or not isinstance(log[0], list) or len(log) < 2:
        raise _errors.BadValue("select the log with its header row and at least one data row")
    return [[t] for t in check_table(log, payer, method)]


@xw.func
@xw.arg("codes", ndim=2, doc="CPT/HCPCS code of each line: one column or one row.")
@xw.arg("units", ndim=2, doc="Units billed on each line (matching codes).")
@xw.arg("modifiers", ndim=2, doc="Optional. Modifiers of each line, e.g. \"GP CQ\" (CQ/CO are paid at 85% from 2022).")
@xw.arg("dates", ndim=2, doc="Optional. Date of service of each line; picks the year's RVUs and conversion factor. Omitted: the newest year installed.")
@xw.arg("locality", doc="Optional. Medicare locality \"<MAC>-<locality>\", e.g. \"02102-01\". Omitted: national amount (GPCI = 1).")
@xw.arg("visits", ndim=2, doc="Optional. Visit key of each line; the therapy MPPR applies within a visit. Omitted: all lines are one visit.")
@_never_raises
def PT_FEE(codes, units, modifiers=None, dates=None, locality=None, visits=None):
    """Medicare allowed amount per line, to the cent: non-facility RVUs x GPCI x conversion factor, with the therapy MPPR (50% PE) per visit and CQ/CO at 85% from 2022."""
    flat, shape = _lines(codes, "codes")
    n = len(flat)
    fees = price_column(flat, _matching(units, "units", n, "codes"), _matching(modifiers, "modifiers", n, "codes"),
                        _matching(dates, "dates", n, "codes"), locality, _matching(visits, "visits", n, "codes"))
    return _shaped([cell_value(f) for f in fees], shape)
