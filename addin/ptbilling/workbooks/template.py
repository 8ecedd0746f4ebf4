"""The session-log template workbook, built from code (``ptbilling template``).

``write_template(path)`` writes the empty template, ``write_sample(path)`` the
same workbook filled with about 40 visits of 2025 (the Medicare manual's four
8-minute-rule examples and a few lines of each kind of error PT_VALIDATE
reports). The files in ``workbook_templates/`` are exactly these bytes; a test
regenerates them and compares.

Library: XlsxWriter, not openpyxl.
- Deterministic bytes: XlsxWriter stamps every zip entry 1980-01-01 (in memory
  mode) and takes the document's created/modified time from
  ``set_properties``; openpyxl stamps zip entries with the current time, so its
  output would need re-zipping to be reproducible.
- Cached results: XlsxWriter writes a formula *and* the value it gives. The
  values are computed here by calling ``ptbilling.udfs`` itself, so readers
  that do not calculate (python-calamine, openpyxl ``data_only``, file
  previews) see what the add-in shows. openpyxl cannot store both. (Excel
  recalculates on opening; LibreOffice has no PT_ functions and shows #NAME?.)
- Everything else the template needs (tables, legacy array formulas, data
  validation with prompts, conditional formats, sheet protection options,
  print set-up) is documented XlsxWriter API.

Layout (why it works in Excel 365 and in Excel 2016/2019):
the inputs are the Excel Table ``SessionLog`` (header on sheet row 4, below the
locality and totals); the computed columns that call the add-in stand
immediately to the right of the table, outside it, each ONE legacy multi-cell
array formula (the Ctrl+Shift+Enter kind) over the table's rows, e.g.
``{=PT_VALIDATE(SessionLog[#All])}`` in O4:O504. PT_UNITS, PT_FEE and
PT_VALIDATE must see the whole log (units are shared out per visit), so each returns a column
of answers. As a dynamic-array formula that column would spill: Excel
2016/2019 cannot spill at all, and inside a Table a spilling formula shows
#SPILL!. A legacy array formula fills exactly the cells it was entered in, in
every Excel version, and is legal outside a Table. One call per column also
keeps recalculation to a few Python calls instead of one per row. Keeping the
formulas out of the Table leaves every Table cell an unlocked input cell, so
staff can sort and filter the protected sheet (Excel refuses to sort a range
that holds locked cells); the arrays read the Table's columns, so their rows
stay aligned with the Table's rows after a sort.

Units by Rule follows the payer, as PT_VALIDATE does when its method is left
blank (``claim_lines.unit_method``): a payer whose name contains "Medicare"
(traditional and Medicare Advantage) gets the CMS 8-minute rule, every other
payer the per-code (AMA) method. With one fixed "CMS" the column would promise
3 units for a commercial 97110 20 min + 97140 18 min visit while Check flags 3
as UNITS-OVER (per code allows 2). PT_UNITS takes one method per call, so the
column is ``IF(<payer mentions MEDICARE>, PT_UNITS(..,"CMS",..),
PT_UNITS(..,"AMA",..))``; the visit key is ``Patient & "|" & Date & "|" & Payer``
(the date's serial number, so it does not depend on Excel's language; blank
when Patient is, so PT_UNITS says "no visit key" as Check says INPUT), as
PT_VALIDATE forms visits (one patient, date and payer), and the Modifiers
column lets PT_UNITS divide a code's units between its CQ/CO line and its
therapist line, as the claim bills them.

Money: *Est. Allowed* is one more array, ``PT_FEE`` over the log with the same
visit key (the therapy MPPR works per visit) and the locality typed in the
input cell above the table (``LOCALITY_CELL``; blank = national). It is shown
for Medicare and Medicare Advantage rows only: Medicare's figure is not what
other payers pay. The locality dropdown lists "<MAC>-<locality> <state> <name>"
from the *shipped* GPCI release (not an imported one, so the template's bytes
do not depend on the user's data folder); the formula hands PT_FEE the text's
first 8 characters. *Visit Allowed* and *Contract Amount* are plain per-row
formulas (``per_row``: SUMIFS/COUNTIFS, native in every Excel version, readable
by staff): the visit's sum of Est. Allowed, and Units x the rate for the row's
payer and code on the **Fee Schedule** sheet (the Table ``FeeSchedule``, left
unprotected so it grows as staff type; its rows ship as made-up examples). The
log totals above the table are ``ROUND(SUM(<column>),2)`` of whole columns, so
they need no change when the log is made longer. The per-row formulas refer to
cells by position ($A5), as the arrays do by row: after a sort each row's
formulas read that row.

Protection (no password): input cells unlocked, computed cells locked; staff
may still insert and delete rows, sort, filter and format (``PROTECTION``).
Each of the ``READY_ROWS`` rows is already formatted, validated and covered by
every array, so a new visit is typed on the next empty row with the sheet
protected. Excel does not grow a Table on a protected sheet, and nobody can
insert sheet rows through a multi-cell array; to go past the ready rows,
unprotect, resize the Table and re-enter the arrays (Instructions sheet).

Adding a computed column is one line in ``COMPUTED`` (header, array formula
or per-row formula, width, and optionally how to compute its cached values);
keep ``Check`` last so its long text can run on to the right.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell

from .. import __version__
from ..rules import datasets, gpci_file
from ..rules.code_catalog import TIMED, UNTIMED, catalog_for
from ..rules.validate import RULES
from ..logs.cells import to_serial

TABLE = "SessionLog"
LOG_SHEET = "Session Log"
CODES_SHEET = "Codes"
HELP_SHEET = "Instructions"
CONF_SHEET = "xlwings.conf"  # the name xlwings' VBA (GetConfigFromSheet) and Python (read_config_sheet) look for
LISTS_SHEET = "Lists"
FEE_SHEET = "Fee Schedule"
FEE_TABLE = "FeeSchedule"
READY_ROWS = 500  # data rows of the table, each already formatted, validated and computed
HEADER_ROW = 3  # 0-based sheet row of the table's header; the rows above hold the locality and the log totals
LOCALITY_CELL = "C1"  # the Medicare locality input (blank = national); labels in A:B, values in column C
TOTAL_CELLS = {"Log total (est. allowed)": "C2", "Log total (contract)": "C3"}
FEE_READY_ROWS = 200  # Fee Schedule rows with the payer/code/rate dropdowns and limits
CATALOG_DATE = dt.date(2025, 1, 1)
FIXED_TIME = dt.datetime(2025, 1, 1)  # the workbook's created/modified time: no clock in the bytes
UDF_MODULE = "ptbilling.udfs"
MIN_DATE, MAX_DATE = dt.date(2017, 1, 1), dt.date(2099, 12, 31)
MAX_MINUTES, MAX_UNITS = 600, 96

PROVIDERS = ("PT", "PTA", "OT", "OTA", "SLP", "MD", "DO", "NP", "PA", "DC", "LMT", "ATC")
PAYERS = ("Medicare", "Medicare Advantage", "Commercial", "Medicaid", "Workers Comp", "Self-pay")

#: protection: what staff may still do on the Session Log sheet (no password)
PROTECTION = {
    "insert_rows": True, "delete_rows": True, "sort": True, "autofilter": True,
    "format_cells": True, "format_columns": True, "format_rows": True,
    "select_locked_cells": True, "select_unlocked_cells": True,
}


@dataclass(frozen=True)
class Input:
    """A column of the SessionLog table: typed by staff."""

    header: str
    width: float
    kind: str  # text, date, payer, provider, code, modifiers, minutes, units, notes
    prompt: str  # the input message shown when the cell is selected (<= 255 characters)


INPUTS = (
    Input("Patient", 13, "text", "Patient ID or name. Spell it the same on every line of a visit."),
    Input("Date", 11.5, "date", "Date of service, e.g. 3/14/2025. One patient on one date is one visit."),
    Input("Payer", 19, "payer", "Pick the payer. Medicare and Medicare Advantage use the 8-minute rule; "
          "the others are counted per code."),
    Input("Provider", 9, "provider", "Credential of who furnished the service: PT, PTA, OT, OTA, SLP, MD, DO, "
          "NP, PA, DC, LMT or ATC."),
    Input("Code", 9, "code", "CPT/HCPCS code from the list (see the Codes sheet). One code per row."),
    Input("Modifiers", 11, "modifiers", "Modifiers separated by spaces or commas, e.g. GP CQ 59."),
    Input("Minutes", 8.5, "minutes", "Direct one-on-one minutes of this code (all of this code's minutes "
          "of the visit on one row), 0-600."),
    Input("Units", 7, "units", "Units billed on this row, 0-96 (24 hours of 15-minute units)."),
    Input("Assistant Minutes", 10.5, "minutes", "Optional: minutes the PTA/OTA furnished on their own, "
          "for the CQ/CO 10% test. 0-600."),
    Input("Notes", 26, "notes", "Free text; not checked."),
)


def _col(header: str) -> str:
    return f"{TABLE}[{header}]"


#: one visit = one patient, date and payer, as PT_VALIDATE groups them (rules/claim_lines.py); a row
#: without a patient gets no key, so PT_UNITS says so instead of merging such rows into one visit
_VISITS = f'IF({_col("Patient")}="","",{_col("Patient")}&"|"&{_col("Date")}&"|"&{_col("Payer")})'
_MEDICARE = f'ISNUMBER(FIND("MEDICARE",UPPER({_col("Payer")})))'
_UNITS_ARGS = f'{_col("Minutes")},{_col("Code")},"{{method}}",{_VISITS},{_col("Modifiers")}'
UNITS_FORMULA = (
    f'=IF({_MEDICARE},'
    f'PT_UNITS({_UNITS_ARGS.format(method="CMS")}),PT_UNITS({_UNITS_ARGS.format(method="AMA")}))'
)
_LOCALITY = xl_rowcol_to_cell(*xl_cell_to_rowcol(LOCALITY_CELL), row_abs=True, col_abs=True)
#: the Medicare estimate, for Medicare and Medicare Advantage lines only; the locality cell may hold
#: "02102-01 AK ALASKA" (the dropdown's text): its first 8 characters are the key PT_FEE takes
FEE_FORMULA = (
    f'=IF({_MEDICARE},PT_FEE({_col("Code")},{_col("Units")},{_col("Modifiers")},{_col("Date")},'
    f'LEFT(TRIM({_LOCALITY}),8),{_VISITS}),"")'
)
CHECK_FORMULA = f"=PT_VALIDATE({TABLE}[#All])"

# Plain per-row formulas: {Header} is that column's absolute letter ($L), {row} the sheet row number.
VISIT_FORMULA = ('=IF(AND(ISNUMBER({Est. Allowed}{row}),{Patient}{row}<>"",{Date}{row}<>""),'
                 'ROUND(SUMIFS({Est. Allowed}:{Est. Allowed},{Patient}:{Patient},{Patient}{row},'
                 '{Date}:{Date},{Date}{row}),2),"")')
_RATE_OF = f"{FEE_TABLE}[Payer],{{Payer}}{{row}},{FEE_TABLE}[Code],{{Code}}{{row}}"
DUPLICATE_RATE = "Fee Schedule has 2+ rates for this payer and code"
CONTRACT_FORMULA = (
    '=IF(OR({Payer}{row}="",{Code}{row}="",{Units}{row}=""),"",'
    f'IF(COUNTIFS({_RATE_OF})=0,"",IF(COUNTIFS({_RATE_OF})>1,"{DUPLICATE_RATE}",'
    f'{{Units}}{{row}}*SUMIFS({FEE_TABLE}[Rate per unit],{_RATE_OF}))))'
)
TOTAL_FORMULAS = {
    "Log total (est. allowed)": "=ROUND(SUM({Est. Allowed}:{Est. Allowed}),2)",
    "Log total (contract)": "=ROUND(SUM({Contract Amount}:{Contract Amount}),2)",
}


def _first(header: str) -> str:
    """A column's cell on the first data row, relative (H5): for the formulas quoted to staff."""
    return fill("{%s}{row}" % header, HEADER_ROW + 2).replace("$", "")


def fill(formula: str, row: int | None = None) -> str:
    """A per-row formula for sheet row ``row`` (1-based): {Header} -> $L, {row} -> 5."""
    letters = {h: "$" + xl_col_to_name(j)
               for j, h in enumerate([c.header for c in INPUTS] + [c.header for c in COMPUTED])}
    return re.sub(r"\{([^{}]+)\}", lambda m: str(row) if m[1] == "row" else letters[m[1]], formula)


# --- what the add-in answers, for the cached values -----------------------------------------

def _excel_text(value: object) -> str:
    """What Excel's & makes of a cell: dates are serial numbers, whole numbers lose '.0'."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        value = to_serial(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _columns(table: list[list]) -> dict[str, list[list]]:
    """Each table column's data cells as xlwings hands a one-column range (ndim=2)."""
    header = table[0]
    return {h: [[row[j]] for row in table[1:]] for j, h in enumerate(header)}


def _visit_keys(c: dict[str, list[list]]) -> list[list]:
    return [["" if _excel_text(p[0]) == "" else _excel_text(p[0]) + "|" + _excel_text(d[0]) + "|" + _excel_text(y[0])]
            for p, d, y in zip(c["Patient"], c["Date"], c["Payer"])]


def _is_medicare(payer: object) -> bool:
    return "MEDICARE" in _excel_text(payer).upper()


def _cells(result, i: int):
    """Cell i of a UDF's column answer (a whole-column message fills every cell)."""
    return result[i][0] if isinstance(result, list) else result


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def units_by_rule(table: list[list], done: dict | None = None) -> list:
    """The Units by Rule column: PT_UNITS with CMS for Medicare payers, AMA for the rest."""
    from .. import udfs

    c = _columns(table)
    visits = _visit_keys(c)
    cms = udfs.PT_UNITS(c["Minutes"], c["Code"], "CMS", visits, c["Modifiers"])
    ama = udfs.PT_UNITS(c["Minutes"], c["Code"], "AMA", visits, c["Modifiers"])
    return [_cells(cms if _is_medicare(payer[0]) else ama, i) for i, payer in enumerate(c["Payer"])]


def est_allowed(table: list[list], done: dict | None = None) -> list:
    """The Est. Allowed column: PT_FEE over the log, Medicare lines only. The built workbooks' locality
    cell is blank, which LEFT(TRIM(..),8) hands PT_FEE as "": the national amount."""
    from .. import udfs

    c = _columns(table)
    fees = udfs.PT_FEE(c["Code"], c["Units"], c["Modifiers"], c["Date"], "", _visit_keys(c))
    return [_cells(fees, i) if _is_medicare(payer[0]) else None for i, payer in enumerate(c["Payer"])]


def _criteria_key(v: object):
    """What SUMIFS/COUNTIFS compare: text without regard to case, numbers (and dates) as numbers."""
    if isinstance(v, dt.datetime):
        return to_serial(v)
    return v.casefold() if isinstance(v, str) else v


def visit_allowed(table: list[list], done: dict) -> list:
    """The Visit Allowed column: per row, the sum of Est. Allowed over the rows of its patient and date."""
    c, est = _columns(table), done["Est. Allowed"]
    keys = [(_criteria_key(p[0]), _criteria_key(d[0])) for p, d in zip(c["Patient"], c["Date"])]
    totals: dict = {}
    for key, v in zip(keys, est):
        if _is_number(v):
            totals[key] = totals.get(key, 0) + v
    return [round(totals[key], 2) if _is_number(v) and None not in key else None for key, v in zip(keys, est)]


def contract_amount(table: list[list], done: dict | None = None) -> list:
    """The Contract Amount column: Units x the Fee Schedule's rate for the row's payer and code."""
    c = _columns(table)
    out = []
    for payer, code, units in zip(c["Payer"], c["Code"], c["Units"]):
        payer, code, units = payer[0], code[0], units[0]
        if payer is None or code is None or units is None:
            out.append(None)
            continue
        rates = [rate for p, k, rate in FEE_EXAMPLES
                 if _criteria_key(p) == _criteria_key(payer) and _criteria_key(k) == _criteria_key(code)]
        out.append(None if not rates else DUPLICATE_RATE if len(rates) > 1 else units * rates[0])
    return out


def check_column(table: list[list], done: dict | None = None) -> list:
    """The Check column: PT_VALIDATE over the table with its header row."""
    from .. import udfs

    result = udfs.PT_VALIDATE(table)
    return [r[0] for r in result] if isinstance(result, list) else [result] * len(table)


@dataclass(frozen=True)
class Computed:
    """A column right of the table: ONE legacy array formula over the table's rows, or (per_row) a plain
    formula on each row, written with {Header} and {row} placeholders (see ``fill``)."""

    header: str
    formula: str
    width: float
    #: (table as xlwings hands it (header + rows), earlier columns' values by header) -> one cached value
    #: per cell; None: left empty
    values: Callable[[list[list], dict], list] | None = None
    spans_header: bool = False  # the array starts on the header row (PT_VALIDATE answers 'Check' there)
    number_format: str = "General"
    align: str | None = "left"  # None: Excel's default (numbers right, text left)
    per_row: bool = False


MONEY = '"$"#,##0.00'

COMPUTED = (
    Computed("Units by Rule", UNITS_FORMULA, 8.5, units_by_rule, number_format="0", align="center"),
    Computed("Est. Allowed", FEE_FORMULA, 10.5, est_allowed, number_format=MONEY, align=None),
    Computed("Visit Allowed", VISIT_FORMULA, 10.5, visit_allowed, number_format=MONEY, align=None, per_row=True),
    Computed("Contract Amount", CONTRACT_FORMULA, 10.5, contract_amount, number_format=MONEY, align=None,
             per_row=True),
    Computed("Check", CHECK_FORMULA, 80, check_column, spans_header=True),
)

#: Fee Schedule sheet: (payer, code, rate per unit). Made-up round numbers to show the layout,
#: NOT any payer's contract; staff replace them with their own.
FEE_EXAMPLES = (
    ("Commercial", "97110", 31.50),
    ("Commercial", "97140", 29.25),
    ("Commercial", "97530", 34.75),
    ("Commercial", "97150", 18.00),
    ("Workers Comp", "97110", 45.00),
    ("Workers Comp", "97140", 42.50),
    ("Self-pay", "97140", 40.00),
    ("Self-pay", "97010", 10.00),
)
FEE_HEADERS = ("Payer", "Code", "Rate per unit", "Note")


def contract_formulas() -> tuple[str, str]:
    """The Contract Amount's lookup for the first data row, as the Instructions quote it:
    (SUMIFS, for Excel 2016 and later; XLOOKUP, Excel 365/2021)."""
    u, p, c = _first("Units"), _first("Payer"), _first("Code")
    t = FEE_TABLE
    return (f"={u}*SUMIFS({t}[Rate per unit],{t}[Payer],{p},{t}[Code],{c})",
            f'=IFERROR({u}*XLOOKUP({p}&"|"&{c},{t}[Payer]&"|"&{t}[Code],{t}[Rate per unit]),"")')
FEE_EXAMPLE_NOTE = "EXAMPLE only, not a real contract: replace with your rate"


# --- the sample --------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    code: str
    modifiers: str
    minutes: int | None
    units: int | None
    assistant: int | None = None
    note: str = ""
    provider: str | None = None  # when not the visit's provider


def _visit(patient, date, payer, provider, *lines):
    return (patient, dt.date.fromisoformat(date), payer, provider, lines)


L = Line
#: (patient, date, payer, provider, lines) — realistic 2025 visits, then one or more of each error
SAMPLE_VISITS = (
    _visit("M1001", "2025-01-06", "Medicare", "PT",
           L("97112", "GP", 24, 2, note="Pub. 100-04 ch.5 §20.2 example 1: 47 min = 3 units"),
           L("97110", "GP", 23, 1)),
    _visit("M1002", "2025-01-06", "Medicare", "PT",
           L("97112", "GP", 20, 1, note="Example 2: 40 min = 3 units; tie, extra unit to the lower code"),
           L("97110", "GP", 20, 2)),
    _visit("M1003", "2025-01-07", "Medicare", "PT",
           L("97110", "GP", 33, 2, note="Example 3: 7 leftover min of 97140 beat 3 of 97110"),
           L("97140", "GP", 7, 1)),
    _visit("M1004", "2025-01-07", "Medicare", "PT",
           L("97110", "GP", 18, 1, note="Example 4: 49 min = 3 units; 97035 gets none"),
           L("97140", "GP", 13, 1), L("97116", "GP", 10, 1), L("97035", "GP", 8, 0)),
    _visit("M1005", "2025-01-08", "Medicare", "PT",
           L("97161", "GP", 40, 1, note="Initial evaluation"), L("97110", "GP", 15, 1)),
    _visit("M1006", "2025-01-08", "Medicare", "PTA",
           L("97110", "GP CQ", 38, 3, 38, note="PTA treats: CQ, paid at 85%"),
           L("97112", "GP CQ", 15, 1, 15)),
    _visit("C2001", "2025-01-09", "Commercial", "PT",
           L("97110", "GP", 20, 1, note="Per code: 20 min = 1, 18 min = 1 (CMS would give 3)"),
           L("97140", "GP", 18, 1)),
    _visit("A8001", "2025-01-09", "Medicare Advantage", "PT",
           L("97530", "GP", 30, 2), L("97140", "GP", 10, 1)),
    _visit("O3001", "2025-01-10", "Medicare", "OT",
           L("97165", "GO", 50, 1, note="OT evaluation"), L("97535", "GO", 25, 2)),
    _visit("O3002", "2025-01-10", "Medicare", "OTA",
           L("97530", "GO CO", 40, 3, 40, note="OTA treats: CO")),
    _visit("S4001", "2025-01-13", "Medicare", "SLP",
           L("92507", "GN", 45, 1, note="Speech treatment: untimed, 1 unit")),
    _visit("M1001", "2025-01-13", "Medicare", "PT",
           L("97110", "GP", 25, 2), L("G0283", "GP", 15, 1, note="Unattended e-stim: G0283 for Medicare")),
    _visit("W5001", "2025-01-14", "Workers Comp", "PT",
           L("97110", "GP", 30, 2), L("97140", "GP", 25, 2)),
    _visit("D6001", "2025-01-14", "Medicaid", "PT",
           L("97116", "GP", 23, 2)),
    _visit("P7001", "2025-01-15", "Self-pay", "PT",
           L("97140", "", 30, 2), L("97010", "", 10, 1, note="Hot pack: fine for self-pay")),
    _visit("M1008", "2025-01-15", "Medicare", "PT",
           L("97164", "GP", 30, 1, note="Re-evaluation"), L("97110", "GP", 23, 2)),
    _visit("C2002", "2025-01-16", "Commercial", "PT",
           L("97150", "GP", 45, 1, note="Group therapy: 1 unit per session")),
    _visit("M1009", "2025-01-16", "Medicare", "PT",
           L("97113", "GP", 45, 3, note="Aquatic therapy")),
    _visit("M1010", "2025-01-17", "Medicare", "PT",
           L("97110", "GP", 12, 1, note="20 min = 1 unit, to the code with more minutes"),
           L("97140", "GP", 8, 0)),
    _visit("O3003", "2025-01-17", "Commercial", "OT",
           L("97166", "GO", 60, 1), L("97530", "GO", 15, 1)),
    _visit("M1003", "2025-01-21", "Medicare", "PTA",
           L("97110", "GP CQ", 30, 2, 30, note="PTA and PT in one visit"),
           L("97112", "GP", 15, 1, provider="PT")),
    # --- lines with errors: each kind at least once ------------------------------------
    _visit("M1011", "2025-02-03", "Medicare", "PT",
           L("97111", "GP", 30, 2, note="Error: unknown code (typo for 97110)")),
    _visit("M1012", "2025-02-03", "Medicare", "PT",
           L("97010", "GP", 10, 1, note="Error: 97010 is bundled for Medicare"), L("97110", "GP", 30, 2)),
    _visit("M1013", "2025-02-04", "Medicare", "PT",
           L("97014", "GP", 15, 1, note="Error: 97014 is not valid for Medicare (G0283)"),
           L("97140", "GP", 23, 2)),
    _visit("M1014", "2025-02-04", "Medicare", "PT",
           L("97110", "", 30, 2, note="Error: no GP"), L("97140", "GP", 15, 1)),
    _visit("M1024", "2025-02-05", "Medicare Advantage", "PT",
           L("97530", "", 38, 3, note="Error: no GP")),
    _visit("O3004", "2025-02-05", "Medicare", "OT",
           L("97166", "GP", 55, 1, note="Error: OT evaluation with GP")),
    _visit("M1015", "2025-02-06", "Medicare", "PTA",
           L("97110", "GP", 30, 2, 30, note="Error: PTA without CQ")),
    _visit("M1006", "2025-02-06", "Medicare", "PTA",
           L("97112", "GP", 23, 2, 23, note="Error: PTA without CQ")),
    _visit("O3005", "2025-02-07", "Medicare", "OTA",
           L("97535", "GO CQ", 30, 2, 30, note="Error: CQ with GO (use CO)")),
    _visit("M1016", "2025-02-07", "Medicare", "PT",
           L("97110", "GP", 35, 3, note="Error: 35 min is 2 units, not 3")),
    _visit("C2003", "2025-02-10", "Commercial", "PT",
           L("97110", "GP", 20, 2, note="Error: per code 20 min is 1 unit"), L("97140", "GP", 18, 1)),
    _visit("M1017", "2025-02-10", "Medicare", "PT",
           L("G0283", "GP", 15, 2, note="Error: untimed code, 1 unit"), L("97110", "GP", 23, 2)),
    _visit("M1018", "2025-02-11", "Medicare", "PT",
           L("97140", "GP", 7, 1, note="Error: 7 min alone is not billable")),
    _visit("M1019", "2025-02-11", "Medicare", "PT",
           L("97110", "GP", 15, 1), L("97110", "GP", 15, 1, note="Error: 97110 twice in one visit")),
    _visit("M1020", "2025-02-12", "Medicare", "PT",
           L("97161", "GP", 40, 1), L("97162", "GP", 45, 1, note="Error: two PT evaluations")),
    _visit("M1021", "2025-02-12", "Medicare", "PT",
           L("97162", "GP", 45, 1), L("97164", "GP", 30, 1, note="Error: evaluation and re-evaluation")),
    _visit("M1022", "2025-02-13", "Medicare", "DC",
           L("97110", "GP", 23, 2, note="Error: chiropractor, Medicare pays 98940-98942 only")),
    _visit("M1025", "2025-02-13", "Medicare", "LMT",
           L("97124", "GP", 30, 2, note="Error: massage therapist as provider")),
    _visit("C2005", "2025-02-14", "Commercial", "PT",
           L("97150", "GP", 45, 3, note="Error: group therapy is 1 unit per session")),
    _visit("M1023", "2025-02-14", "Medicare", "PT",
           L("97110", "GP", 40, 2, note="Warning: 40 min allow 3 units")),
    _visit("M1026", "2025-02-17", "Medicare", "PT",
           L("97001", "GP", 45, 1, note="Error: 97001 was replaced by 97161-97163 in 2017")),
    _visit("M1009", "2025-02-17", "Medicare", "PT",
           L("97140", "GP", 25, 2), L("97010", "GP", 10, 1, note="Error: 97010 is bundled for Medicare")),
    _visit("S4002", "2025-02-18", "Medicare", "SLP",
           L("92507", "GP", 45, 1, note="Error: speech treatment takes GN")),
    _visit("M1027", "2025-02-18", "Medicare", "PT",
           L("97112", "GP", 6, 1, note="Error: 6 min alone is not billable")),
    _visit("M1028", "2025-02-19", "Medicare", "PTA",
           L("97110", "GP CQ", 23, 0, 23, note="Warning: the PTA's 97110 unit is billed on the PT line (100%, not 85%)"),
           L("97110", "GP", 13, 2, 0, provider="PT"), L("97140", "GP", 30, 2, 0, provider="PT")),
)


def sample_rows() -> list[list]:
    """The sample's data rows, in table column order (dates as datetime.date)."""
    rows = []
    for patient, date, payer, provider, lines in SAMPLE_VISITS:
        for ln in lines:
            rows.append([patient, date, payer, ln.provider or provider, ln.code, ln.modifiers or None, ln.minutes,
                         ln.units, ln.assistant, ln.note or None])
    return rows


# --- building the workbook -----------------------------------------------------------------

def _xlwings_table(rows: Sequence[Sequence]) -> list[list]:
    """The table as xlwings hands SessionLog[#All] to a UDF: header + rows of 500, numbers as
    floats, empty cells as None, dates as datetime."""
    out = [[i.header for i in INPUTS]]
    for r in range(READY_ROWS):
        row = list(rows[r]) if r < len(rows) else [None] * len(INPUTS)
        conv = []
        for v in row:
            if isinstance(v, bool) or v is None or isinstance(v, str):
                conv.append(v if v != "" else None)
            elif isinstance(v, dt.datetime):
                conv.append(v)
            elif isinstance(v, dt.date):
                conv.append(dt.datetime.combine(v, dt.time()))
            else:
                conv.append(float(v))
        out.append(conv)
    return out


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        base = {"font_name": "Calibri", "font_size": 11, "valign": "top"}
        self.header_in = wb.add_format({**base, "bold": True, "text_wrap": True, "font_color": "#FFFFFF",
                                        "bg_color": "#1F4E78", "valign": "vcenter", "border": 1})
        self.header_out = wb.add_format({**base, "bold": True, "text_wrap": True, "font_color": "#FFFFFF",
                                         "bg_color": "#595959", "valign": "vcenter", "border": 1})
        grid = {"border": 1, "border_color": "#BFBFBF"}  # a visible form, also where table styles are not drawn
        unlocked = {**base, **grid, "locked": False}
        self.inputs = {
            "text": wb.add_format({**unlocked, "num_format": "@"}),
            "date": wb.add_format({**unlocked, "num_format": "mm/dd/yyyy", "align": "left"}),
            "payer": wb.add_format({**unlocked, "num_format": "@"}),
            "provider": wb.add_format({**unlocked, "num_format": "@", "align": "center"}),
            "code": wb.add_format({**unlocked, "num_format": "@", "align": "center"}),
            "modifiers": wb.add_format({**unlocked, "num_format": "@"}),
            "minutes": wb.add_format({**unlocked, "num_format": "0", "align": "center"}),
            "units": wb.add_format({**unlocked, "num_format": "0", "align": "center"}),
            "notes": wb.add_format({**unlocked, "num_format": "@"}),
        }
        self.computed = {
            c.header: wb.add_format({**base, **grid, "locked": True, "bg_color": "#F2F2F2", "font_color": "#202020",
                                     "num_format": c.number_format, **({"align": c.align} if c.align else {})})
            for c in COMPUTED
        }
        self.top_label = wb.add_format({**base, "bold": True, "align": "right", "valign": "vcenter"})
        self.top_input = wb.add_format({**base, "locked": False, "num_format": "@", "valign": "vcenter",
                                        "border": 1, "border_color": "#1F4E78"})
        self.top_total = wb.add_format({**base, **grid, "locked": True, "bold": True, "bg_color": "#F2F2F2",
                                        "num_format": MONEY, "valign": "vcenter"})
        self.top_note = wb.add_format({**base, "italic": True, "font_color": "#595959", "valign": "vcenter"})
        self.top_blank = wb.add_format({**base, "valign": "vcenter"})  # no fill or grid: not the columns' format
        self.money_in = wb.add_format({"num_format": MONEY})
        self.text_in = wb.add_format({"num_format": "@"})
        self.error = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.warn = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        self.ok = wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
        self.title = wb.add_format({"bold": True, "font_size": 15, "font_color": "#1F4E78"})
        self.h2 = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F4E78", "top": 1,
                                 "top_color": "#1F4E78"})
        self.para = wb.add_format({"text_wrap": True, "valign": "top"})
        self.code = wb.add_format({"font_name": "Consolas", "valign": "top", "text_wrap": True})
        self.bold = wb.add_format({"bold": True, "valign": "top"})
        self.plain = wb.add_format({"valign": "top"})
        self.note = wb.add_format({"italic": True, "font_color": "#595959", "valign": "top", "text_wrap": True})


def _cell_value(v):
    return "" if v is None else v


def _write_top(ws, fm: _Formats, totals: dict[str, object]) -> None:
    """The rows above the table: the Medicare locality input and the log totals."""
    last_col = len(INPUTS) + len(COMPUTED) - 1
    for r in range(HEADER_ROW):  # plain cells first (the columns' formats would draw grids and grey here)
        for c in range(last_col + 1):
            ws.write_blank(r, c, None, fm.top_blank)
    r, c = xl_cell_to_rowcol(LOCALITY_CELL)
    ws.set_row(r, 20)
    ws.merge_range(r, 0, r, c - 1, "Medicare locality", fm.top_label)
    ws.write_blank(r, c, None, fm.top_input)  # the dropdown text runs on over the empty cells to its right
    notes = {"Log total (est. allowed)": "Sum of Est. Allowed (Medicare and Medicare Advantage lines with an amount)",
             "Log total (contract)": "Sum of Contract Amount (Units x the rate on the Fee Schedule sheet)"}
    for label, cell in TOTAL_CELLS.items():
        r, c = xl_cell_to_rowcol(cell)
        ws.set_row(r, 20)
        ws.merge_range(r, 0, r, c - 1, label, fm.top_label)
        ws.write_formula(r, c, fill(TOTAL_FORMULAS[label]), fm.top_total, totals[label])
        ws.write_string(r, c + 1, notes[label], fm.top_note)


def _write_log(wb, ws, fm: _Formats, rows: list[list], lists: dict[str, str]) -> None:
    n_in = len(INPUTS)
    head = HEADER_ROW
    last_row = HEADER_ROW + READY_ROWS  # 0-based index of the last data row
    ws.set_row(head, 31)
    for j, col in enumerate(INPUTS):
        ws.set_column(j, j, col.width, fm.inputs[col.kind])
    ws.add_table(head, 0, last_row, n_in - 1, {
        "name": TABLE,
        "style": "Table Style Medium 2",
        "columns": [{"header": c.header, "header_format": fm.header_in, "format": fm.inputs[c.kind]}
                    for c in INPUTS],
    })
    # Every ready cell written with its (unlocked) format: typing into row 500 on the
    # protected sheet is the same as typing into row 2.
    for r in range(head + 1, last_row + 1):
        data = rows[r - head - 1] if r - head - 1 < len(rows) else None
        for j, col in enumerate(INPUTS):
            fmt = fm.inputs[col.kind]
            v = data[j] if data is not None else None
            if v is None or v == "":
                ws.write_blank(r, j, None, fmt)
            elif isinstance(v, dt.date):
                ws.write_datetime(r, j, dt.datetime.combine(v, dt.time()), fmt)
            elif isinstance(v, str):
                ws.write_string(r, j, v, fmt)
            else:
                ws.write_number(r, j, v, fmt)

    table = _xlwings_table(rows)
    done: dict[str, list] = {}
    for k, comp in enumerate(COMPUTED):
        c = n_in + k
        fmt = fm.computed[comp.header]
        ws.set_column(c, c, comp.width, fmt)
        first = head if comp.spans_header else head + 1
        cells = last_row + 1 - first
        values = comp.values(table, done) if comp.values is not None else [None] * cells
        if len(values) != cells:
            raise ValueError(f"{comp.header}: {len(values)} cached values for {cells} cells")
        done[comp.header] = values
        if not comp.spans_header:
            ws.write_string(head, c, comp.header, fm.header_out)
        if comp.per_row:
            for r in range(first, last_row + 1):
                ws.write_formula(r, c, fill(comp.formula, r + 1), fmt, _cell_value(values[r - first]))
            continue
        head_fmt = fm.header_out if comp.spans_header else fmt
        ws.write_array_formula(first, c, last_row, c, "{" + comp.formula + "}", head_fmt,
                               _cell_value(values[0]))
        for r in range(first + 1, last_row + 1):
            v = values[r - first]
            if v is None or v == "":
                ws.write_blank(r, c, None, fmt)
            elif isinstance(v, str):
                ws.write_string(r, c, v, fmt)
            else:
                ws.write_number(r, c, v, fmt)

    def total(header):
        return round(sum(v for v in done[header] if _is_number(v)), 2)

    _write_top(ws, fm, {"Log total (est. allowed)": total("Est. Allowed"),
                        "Log total (contract)": total("Contract Amount")})

    # Data validation: refuse, with a message, anything the rules could not read.
    col_of = {c.header: j for j, c in enumerate(INPUTS)}
    for col in INPUTS:
        j = col_of[col.header]
        opts = {"input_title": col.header[:32], "input_message": col.prompt[:255],
                "show_input": True, "show_error": True, "error_type": "stop"}
        if col.kind in ("payer", "provider", "code"):
            opts.update(validate="list", source="=" + lists[col.kind], dropdown=True,
                        error_title=f"Not a known {col.header.lower()}",
                        error_message=f"Pick the {col.header.lower()} from the list"
                        + (" (all codes are on the Codes sheet)." if col.kind == "code" else "."))
        elif col.kind == "date":
            opts.update(validate="date", criteria="between", minimum=dt.datetime.combine(MIN_DATE, dt.time()),
                        maximum=dt.datetime.combine(MAX_DATE, dt.time()), error_title="Not a date of service",
                        error_message=f"Enter a date between {MIN_DATE:%m/%d/%Y} and {MAX_DATE:%m/%d/%Y}.")
        elif col.kind in ("minutes", "units"):
            top = MAX_MINUTES if col.kind == "minutes" else MAX_UNITS
            opts.update(validate="integer", criteria="between", minimum=0, maximum=top,
                        error_title=f"Whole {col.kind} only",
                        error_message=f"Enter whole {col.kind} from 0 to {top}, or leave it empty.")
        elif col.kind == "modifiers":
            opts.update(validate="length", criteria="<=", value=20, error_title="Too long for modifiers",
                        error_message="Modifiers are 2-character codes separated by spaces, e.g. GP CQ 59.")
        else:
            opts.update(validate="any")
            opts.pop("show_error")
            opts.pop("error_type")
        ws.data_validation(head + 1, j, last_row, j, opts)
    # The locality: a dropdown of the shipped GPCI release's localities; other text only with a warning
    # (a newer imported GPCI file may have a locality the list lacks). PT_FEE says when it does not know it.
    ws.data_validation(LOCALITY_CELL, {
        "validate": "list", "source": "=" + lists["locality"], "dropdown": True,
        "input_title": "Medicare locality",
        "input_message": 'Blank = national amounts (every GPCI = 1). Otherwise "<MAC>-<locality>" as in CMS\'s '
                         'GPCI file, e.g. 02102-01 (Alaska): pick it from the list or type the 8 characters. '
                         'It prices Est. Allowed.',
        "show_input": True, "show_error": True, "error_type": "warning",
        "error_title": "Not a 2025 locality",
        "error_message": 'Not in the CY 2025 GPCI list. The format is "<MAC>-<locality>", e.g. 02102-01. '
                         'Keep it only if you imported a GPCI file that has it.',
    })

    # Check column colours: ERROR red, WARN amber, OK green.
    check_col = n_in + next(k for k, c in enumerate(COMPUTED) if c.header == "Check")
    for word, fmt in (("ERROR", fm.error), ("WARN", fm.warn), ("OK", fm.ok)):
        ws.conditional_format(head + 1, check_col, last_row, check_col,
                              {"type": "text", "criteria": "begins with", "value": word, "format": fmt,
                               "stop_if_true": True})

    last_col = n_in + len(COMPUTED) - 1
    ws.freeze_panes(head + 1, 0)
    ws.set_landscape()
    ws.set_paper(1)  # US Letter
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(head)
    ws.print_area(0, 0, last_row, last_col)
    ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.5)
    ws.set_header("&L&\"Calibri,Bold\"Therapy session log")
    ws.set_footer("&LChecked by ptbilling (PT_UNITS, PT_VALIDATE, PT_FEE)&RPage &P of &N")
    ws.protect("", PROTECTION)
    ws.activate()


def _write_fees(wb, ws, fm: _Formats, lists: dict[str, str]) -> None:
    """The Fee Schedule sheet: notes, then the FeeSchedule table of payer contract rates (example rows).

    Not protected: staff type new rates just below the table and Excel grows it."""
    sumifs, xlookup = contract_formulas()
    row5 = HEADER_ROW + 2
    notes = (
        "Rate per unit: what the contract pays for ONE unit of the code. On the Session Log, Contract Amount "
        "= Units x this rate.",
        "The rows below are EXAMPLES with made-up numbers, not any payer's contract: replace or delete them.",
        "Spell the payer as on the Session Log, and list each payer and code once (a second row is reported, "
        "not added).",
        "Add a rate by typing on the row just below the table: the table grows by itself (this sheet is not "
        "protected).",
        f"Excel 2016 and later, log row {row5}:  {sumifs}",
        f"Excel 365 alternative:  {xlookup}",
        "Medicare's own amount is Est. Allowed on the Session Log (PT_FEE), not this sheet.",
    )
    ws.write(0, 0, "Payer contract rates", fm.title)
    for r, text in enumerate(notes, start=1):
        ws.write(r, 0, text, fm.plain)
    head = len(notes) + 2  # a blank row, then the table
    rows = [[p, c, rate, FEE_EXAMPLE_NOTE] for p, c, rate in FEE_EXAMPLES]
    for j, w in enumerate((19, 9, 12, 64)):
        ws.set_column(j, j, w)
    ws.set_row(head, 31)
    ws.add_table(head, 0, head + len(rows), len(FEE_HEADERS) - 1, {
        "name": FEE_TABLE, "style": "Table Style Light 9", "data": rows,
        "columns": [{"header": h, "header_format": fm.header_in,
                     **({"format": fm.money_in} if h == "Rate per unit" else
                        {"format": fm.text_in} if h in ("Payer", "Code") else {})} for h in FEE_HEADERS],
    })
    first, last = head + 1, head + FEE_READY_ROWS
    for j, kind in ((0, "payer"), (1, "code")):
        ws.data_validation(first, j, last, j, {
            "validate": "list", "source": "=" + lists[kind], "dropdown": True,
            "input_title": FEE_HEADERS[j], "input_message": f"Pick the {FEE_HEADERS[j].lower()} as the Session Log "
            "spells it: the Contract Amount looks up this payer and code.",
            "error_title": f"Not a known {FEE_HEADERS[j].lower()}",
            "error_message": f"Pick the {FEE_HEADERS[j].lower()} from the list."})
    ws.data_validation(first, 2, last, 2, {
        "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100000,
        "input_title": "Rate per unit", "input_message": "The contract's payment for ONE unit of this code, "
        "in dollars. The Session Log multiplies it by the row's Units.",
        "error_title": "Not a rate", "error_message": "Enter an amount in dollars, 0 or more."})
    ws.freeze_panes(head + 1, 0)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(head)


def _write_codes(ws, fm: _Formats) -> None:
    catalog = catalog_for(CATALOG_DATE)
    timing = {TIMED: "Timed (15 min)", UNTIMED: "Untimed (1 unit)"}
    status_text = {"A": "Active, paid", "B": "Bundled, never paid separately", "C": "Priced by the contractor",
                   "I": "Not valid for Medicare", "N": "Not covered", "R": "Restricted coverage",
                   "": "No Medicare status"}
    rows = []
    for info in sorted(catalog, key=lambda i: i.code):
        rows.append([info.code, info.label, timing.get(info.timing, "Other time (enter units)"),
                     info.discipline if info.discipline != "any" else "Any",
                     info.status or "", status_text.get(info.status, info.status)])
    headers = ["Code", "Label (our words)", "Timed / untimed", "Discipline", "Medicare status", "Status means"]
    widths = [9, 52, 22, 11, 10, 30]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.set_row(0, 31)
    ws.add_table(0, 0, len(rows), len(headers) - 1, {
        "name": "Codes", "style": "Table Style Light 9", "data": rows,
        "columns": [{"header": h, "header_format": fm.header_in} for h in headers],
    })
    releases = sorted({i.status_release for i in catalog if i.status_release})
    ws.write(0, 7, "About this list", fm.bold)
    ws.write(1, 7, "Labels are our own short words; CPT descriptors are AMA copyright and are not copied.", fm.plain)
    ws.write(2, 7, f"Codes known on {CATALOG_DATE:%m/%d/%Y}; Medicare status from: {'; '.join(releases) or 'none'}.",
             fm.plain)
    ws.write(3, 7, "Timed codes count by the 8-minute rule; untimed codes are 1 unit per visit; "
             "'Other time' codes are not in 15-minute units: enter their units by hand.", fm.plain)
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)


def _help_lines() -> list[tuple[str, str]]:
    """(style, text) lines of the Instructions sheet."""
    t = [("title", "Therapy session log: how to use it")]
    t += [("para", "One row per code per visit. Type in the white columns of the Session Log; the grey columns "
           "work themselves out with the ptbilling add-in. A visit is one patient on one date of service.")]
    t += [("h2", "Install on Windows (once per computer)")]
    t += [("para", s) for s in (
        "1. Install Python 3.10 or later, then in a Command Prompt:   pip install ptbilling   "
        "(this also installs xlwings).",
        "2. In the same Command Prompt:   xlwings addin install   then start Excel: it has an xlwings tab.",
        "3. Excel: File > Options > Trust Center > Trust Center Settings > Macro Settings: tick "
        "'Trust access to the VBA project object model' (Import Functions needs it).",
        "4. Open this workbook. The sheet xlwings.conf says UDF Modules = ptbilling.udfs: leave it as it is.",
        "5. xlwings tab > Import Functions. Then File > Save As > Excel Macro-Enabled Workbook (*.xlsm). "
        "Use that .xlsm as your log. Until then the grey columns show #NAME?.",
        "   Or import the functions once into your own add-in (.xlam) and keep the logs as plain .xlsx.",
        "6. After upgrading ptbilling (pip install --upgrade ptbilling): xlwings tab > Restart UDF Server, "
        "then Ctrl+Alt+F9 to recalculate.",
        "If a grey cell says ModuleNotFoundError: No module named 'ptbilling', xlwings runs a Python without "
        "ptbilling: set the xlwings tab's Interpreter to the python.exe you installed it into (type  where python  "
        "in the Command Prompt), or install it into that Python.",
        "If Excel says 'Could not activate Python COM server': the Interpreter setting points to a Python without "
        "xlwings and pywin32, or the add-in is from another xlwings version: fix the Interpreter, run "
        "xlwings addin install  again from that Python, and restart Excel.",
    )]
    t += [("h2", "Fill a row")]
    for col in INPUTS:
        t.append(("field", f"{col.header}\t{col.prompt}"))
    t += [("para", "Put all minutes of a timed code in one visit on one row (Medicare requires one line per code "
           "since 4/19/2021). Dropdowns and limits refuse values the checks cannot read.")]
    t += [("h2", "Above the table")]
    t += [("field", "Medicare locality\tBlank: national amounts (every GPCI = 1). Otherwise your Medicare "
           "locality, \"<MAC>-<locality>\" as in CMS's GPCI file, e.g. 02102-01 for Alaska: pick it from the "
           "dropdown (the 2025 localities, with state and name) or type the 8 characters. Est. Allowed uses it.")]
    t += [("field", "Log total (est. allowed)\tThe sum of the Est. Allowed column: the log's estimated Medicare "
           "allowed amount. Lines showing a message instead of an amount are not in it.")]
    t += [("field", "Log total (contract)\tThe sum of the Contract Amount column.")]
    t += [("h2", "The grey columns")]
    t += [("field", "Units by Rule\tUnits the payer's method gives this row. Medicare and Medicare Advantage: "
           "the CMS 8-minute rule on the visit's total timed minutes. Other payers: per code (8-22 min = 1, "
           "23-37 = 2 ...). Untimed codes: 1. A message instead of a number says why the row cannot be counted.")]
    t += [("field", "Est. Allowed\tThe Medicare allowed amount of the row's billed Units (PT_FEE): the 2025 "
           "fee schedule (RVUs x GPCIs of the locality above x conversion factor), with the therapy multiple "
           "procedure payment reduction within the visit (the unit with the highest practice expense in full, "
           "every other unit's practice expense at 50%) and CQ/CO lines at 85%. It is what Medicare allows, "
           "before deductible and coinsurance; not what the patient or the plan pays.")]
    t += [("field", "\tOnly Medicare and Medicare Advantage rows get an amount: other payers' rows stay blank, "
           "because Medicare's figure is not what they pay (use Contract Amount). Medicare Advantage plans often, "
           "not always, pay the Medicare fee schedule. For Medicare's figure on any row, type "
           "=PT_FEE(code, units, modifiers, date) in a cell of your own. A message instead of an amount "
           "says why the row has none (unknown code or locality, a year without fee schedule data).")]
    t += [("field", "Visit Allowed\tThe sum of Est. Allowed over the rows of the same Patient and Date (the "
           "visit), shown on each of them (SUMIFS).")]
    t += [("field", "Contract Amount\tUnits x the payer's contract rate for the code on the Fee Schedule sheet "
           "(SUMIFS). Blank when that payer and code have no rate there.")]
    t += [("field", "Check\tOK, or the findings of the row: 'ERROR <rule ID>: what is wrong - how to fix it' "
           "(the claim would be denied or is wrong) or 'WARN <rule ID>: ...' (review it). Red, amber, green.")]
    sumifs, xlookup = contract_formulas()
    t += [("h2", "Payer contract rates (Fee Schedule sheet)")]
    t += [("para", s) for s in (
        "The table FeeSchedule lists, per payer and code, the contract's rate for one unit. The rows it comes "
        "with are EXAMPLES with made-up numbers, not anyone's contract: replace or delete them. Type new rows "
        "just below the table (the sheet is not protected, so the table grows by itself). Spell the payer as "
        "on the Session Log; give each payer and code one row (a second one makes Contract Amount say so).",
        f"Contract Amount on row {HEADER_ROW + 2} is, at heart:   {sumifs}   (works in Excel 2016 and later; "
        "the column's formula also leaves the cell blank when there is no rate).",
        f"In Excel 365 or 2021 the same lookup can be written with XLOOKUP:   {xlookup}",
        "One rate per payer and code: when a contract changes, update the rate (past logs keep their own copy).",
    )]
    t += [("h2", "What each finding means")]
    t += [("para", "Rule IDs are stable; each is documented with its sources in docs/rules.md of the ptbilling "
           "project.")]
    for rule, (severity, text) in RULES.items():
        t.append(("rule", f"{rule}\t{severity}\t{text}"))
    t += [("h2", "The sheet is protected (no password)")]
    t += [("para", s) for s in (
        f"The table has {READY_ROWS} ready rows: type on the next empty row. You can sort, filter and format; "
        "the grey columns are locked so a formula cannot be typed over.",
        "To remove a line, select its white cells and press Delete, then sort the table: empty rows sort last. "
        "(Whole sheet rows cannot be inserted or deleted inside the log: the grey columns are each one array.)",
        "To print only the filled rows, filter Patient to hide (Blanks) first: hidden rows are not printed.",
        "For a longer log, start a new copy of the template, or: Review > Unprotect Sheet, drag the table's corner "
        "down, then select each grey array column (Units by Rule, Est. Allowed, Check) from its first cell down "
        "to the table's last row, press F2 and Ctrl+Shift+Enter; fill Visit Allowed and Contract Amount down "
        "to the last row; and protect the sheet again.",
    )]
    t += [("note", f"Generated by ptbilling {__version__} (ptbilling template).")]
    return t


def _write_help(ws, fm: _Formats) -> None:
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 10)
    ws.set_column(2, 2, 100)
    styles = {"title": fm.title, "h2": fm.h2, "note": fm.note}
    r = 0
    for style, text in _help_lines():
        if style == "para":
            ws.merge_range(r, 0, r, 2, text, fm.para)
            ws.set_row(r, 15 * max(1, -(-len(text) // 120)))
        elif style in styles:
            if style == "h2":
                r += 1
            ws.write(r, 0, text, styles[style])
        elif style == "field":
            name, text = text.split("\t")
            ws.write(r, 0, name, fm.bold)
            ws.merge_range(r, 1, r, 2, text, fm.para)
            ws.set_row(r, 15 * max(1, -(-len(text) // 105)))
        else:  # rule
            rule, severity, text = text.split("\t")
            ws.write(r, 0, rule, fm.code)
            ws.write(r, 1, severity, fm.bold)
            ws.write(r, 2, text, fm.para)
            ws.set_row(r, 15 * max(1, -(-len(text) // 95)))
        r += 1
    ws.set_portrait()
    ws.fit_to_pages(1, 0)


def _write_conf(ws, fm: _Formats) -> None:
    # xlwings reads A1:B1 downwards to the first empty cell of column A; keys are not case-sensitive.
    ws.write_string(0, 0, "UDF Modules")
    ws.write_string(0, 1, UDF_MODULE)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 18)
    ws.set_column(3, 3, 70)
    ws.write(0, 3, "xlwings reads its settings from columns A and B of this sheet, down to the first empty row. "
             "UDF Modules tells it where the PT_ functions live.", fm.note)
    ws.write(1, 3, "Other xlwings settings (Interpreter_Win, PYTHONPATH, Conda Path, Conda Env...) can be "
             "added as rows 2, 3... the same way; without them the xlwings tab's settings apply.", fm.note)


def localities() -> list[str]:
    """The locality dropdown: "<MAC>-<locality> <state> <name>" of each locality in the shipped GPCI release
    in force on CATALOG_DATE (shipped, not imported: the template's bytes do not depend on the user's data)."""
    shipped = [r for r in datasets.releases()
               if r.kind == "gpci" and r.origin == "shipped" and r.covers(CATALOG_DATE)]
    rows = gpci_file.read_release_csv(shipped[0].path).values()
    return [f"{r.locality} {r.state} {r.name}" for r in rows]


def _write_lists(wb, ws) -> dict[str, str]:
    codes = [i.code for i in sorted(catalog_for(CATALOG_DATE), key=lambda i: i.code)]
    names = {}
    for j, (kind, title, items) in enumerate((("code", "Codes", codes), ("provider", "Providers", PROVIDERS),
                                              ("payer", "Payers", PAYERS), ("locality", "Localities",
                                                                            localities()))):
        ws.write_string(0, j, title)
        for i, item in enumerate(items, start=1):
            ws.write_string(i, j, item)
        name = f"{title}List"
        col = xl_col_to_name(j)
        wb.define_name(name, f"='{LISTS_SHEET}'!${col}$2:${col}${len(items) + 1}")
        names[kind] = name
    ws.hide()
    return names


def build(sample: bool = False) -> bytes:
    """The workbook's bytes: the same input gives the same bytes."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({
        "title": "Therapy session log" + (" (sample)" if sample else ""),
        "subject": "Outpatient therapy billing: 8-minute rule and claim-line checks",
        "author": "ptbilling", "company": "", "comments": f"Generated by ptbilling {__version__}",
        "created": FIXED_TIME,
    })
    fm = _Formats(wb)
    log = wb.add_worksheet(LOG_SHEET)
    fees = wb.add_worksheet(FEE_SHEET)
    codes = wb.add_worksheet(CODES_SHEET)
    help_ = wb.add_worksheet(HELP_SHEET)
    conf = wb.add_worksheet(CONF_SHEET)
    lists_ws = wb.add_worksheet(LISTS_SHEET)
    lists = _write_lists(wb, lists_ws)
    _write_log(wb, log, fm, sample_rows() if sample else [], lists)
    _write_fees(wb, fees, fm, lists)
    _write_codes(codes, fm)
    _write_help(help_, fm)
    _write_conf(conf, fm)
    wb.close()
    return buf.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # an ordinary file's permissions, not mkstemp's 0600
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_template(path, sample: bool = False) -> Path:
    """Write the session-log template (or, with ``sample``, the filled sample) to ``path``, atomically."""
    path = Path(path)
    _atomic_write(path, build(sample))
    return path


def write_sample(path) -> Path:
    """Write the template filled with the sample visits to ``path``."""
    return write_template(path, sample=True)
