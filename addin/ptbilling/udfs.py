"""The Excel functions: the module xlwings imports (UDF Modules = ptbilling.udfs).

A thin front door: xlwings' decorators (the Function Wizard's help texts, which
arguments are ranges) on the plain functions of ``excel_functions``, which
coerce what Excel hands over, call the rules core and turn errors into a short
text in the cell.

The same module serves both Excel front doors. On Windows desktop Excel,
``xw.func``/``xw.arg`` are classic xlwings' COM decorators. In xlwings Lite
(Pyodide inside Excel on Windows, Mac and the web) they are Lite's own
``from xlwings import func, arg`` (the Office.js custom functions), so the Lite
workbook's ``main.py`` only imports these four names (``addin/lite/main.py``).
Every range argument sets ``ndim=2`` so a column and a row can be told apart and
the result returned in the same orientation.
"""
from __future__ import annotations

import xlwings as xw

from . import excel_functions as _f


@xw.func
@xw.arg("minutes", ndim=2, doc="Minutes of each service line: a number or a one-column (or one-row) range.")
@xw.arg("codes", ndim=2, doc="Optional. CPT/HCPCS code of each line (97110, \"g0283\"). Blank means a timed code.")
@xw.arg("method", doc="Optional. \"CMS\" (8-minute rule on the visit total, default) or \"AMA\" (each code on its own).")
@xw.arg("visits", ndim=2, doc="Optional. Visit key of each line (e.g. patient & date); same key = one visit. Omitted: one visit.")
@xw.arg("modifiers", ndim=2, doc="Optional. Modifiers of each line (\"GP CQ\"): a service's units are divided between its CQ/CO line and its therapist line by 42 CFR 410.59/410.60.")
@xw.arg("assistant_minutes", ndim=2, doc="Optional. The PTA/OTA's independent minutes within each line (the Assistant Minutes column). Blank: a CQ/CO line is all the assistant's.")
@xw.arg("dates", ndim=2, doc="Optional. Date of service of each line: picks the dated CQ/CO rule (2022 rule; March 2021 guidance for 2020-2021; none before 2020). Omitted: the 2022 rule.")
def PT_UNITS(minutes, codes=None, method="CMS", visits=None, modifiers=None, assistant_minutes=None, dates=None):
    """Billable units per service line by the Medicare 8-minute rule (CMS) or per code (AMA). Returns one value per line, same shape; blank lines stay blank, bad lines get a message."""
    return _f.PT_UNITS(minutes, codes, method, visits, modifiers, assistant_minutes, dates)


@xw.func
@xw.arg("minutes", ndim=2, doc="Minutes of each line of ONE visit: a number or a one-column (or one-row) range.")
@xw.arg("codes", ndim=2, doc="Optional. CPT/HCPCS code of each line. Blank means a timed code.")
@xw.arg("method", doc="Optional. \"CMS\" (default) or \"AMA\".")
@xw.arg("modifiers", ndim=2, doc="Optional. Modifiers of each line (\"GP CQ\"): the text then says how each service's units divide between CQ/CO and the therapist, with the citation.")
@xw.arg("assistant_minutes", ndim=2, doc="Optional. The PTA/OTA's independent minutes within each line (the Assistant Minutes column).")
@xw.arg("date", doc="Optional. Date of service of the visit: picks the dated CQ/CO rule. Omitted: the 2022 rule.")
def PT_EXPLAIN(minutes, codes=None, method="CMS", modifiers=None, assistant_minutes=None, date=None):
    """One line of text saying how the units of one visit were reached, and how CQ/CO units were assigned, with the rules' sources. Paste it into notes or hand it to an auditor."""
    return _f.PT_EXPLAIN(minutes, codes, method, modifiers, assistant_minutes, date)


@xw.func
@xw.arg("log", ndim=2, doc="The session log WITH its header row, e.g. SessionLog[#All]. Headers: Patient, Date, Payer, Provider, Code, Modifiers, Minutes, Units (or EMR names: DOS, CPT, Modifier 1-4...); optional Assistant Minutes, Prior Allowed.")
@xw.arg("payer", doc="Optional. Payer for every row when the log has no Payer column (e.g. \"Medicare\").")
@xw.arg("method", doc="Optional. Unit method for non-Medicare payers: \"AMA\" (default) or \"CMS\". Traditional Medicare always uses CMS.")
def PT_VALIDATE(log, payer=None, method=None):
    """Checks each claim line of a session log: codes, GP/GO/GN, CQ/CO, units, evaluations, provider, NCCI edits, MUEs, KX. One text per row: Check (header), OK, or findings with rule IDs and fixes."""
    return _f.PT_VALIDATE(log, payer, method)


@xw.func
@xw.arg("codes", ndim=2, doc="CPT/HCPCS code of each line: one column or one row.")
@xw.arg("units", ndim=2, doc="Units billed on each line (matching codes).")
@xw.arg("modifiers", ndim=2, doc="Optional. Modifiers of each line, e.g. \"GP CQ\" (CQ/CO are paid at 85% from 2022).")
@xw.arg("dates", ndim=2, doc="Optional. Date of service of each line; picks the year's RVUs and conversion factor. Omitted: the newest year installed.")
@xw.arg("locality", doc="Optional. Medicare locality \"<MAC>-<locality>\", e.g. \"02102-01\". Omitted: national amount (GPCI = 1).")
@xw.arg("visits", ndim=2, doc="Optional. Visit key of each line; the therapy MPPR applies within a visit. Omitted: all lines are one visit.")
def PT_FEE(codes, units, modifiers=None, dates=None, locality=None, visits=None):
    """Medicare allowed amount per line, to the cent: non-facility RVUs x GPCI x conversion factor, with the therapy MPPR (50% PE) per visit and CQ/CO at 85% from 2022."""
    return _f.PT_FEE(codes, units, modifiers, dates, locality, visits)
