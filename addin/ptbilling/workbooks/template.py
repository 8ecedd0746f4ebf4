"""The session-log template workbook, built from code (``ptbilling template``).

``write_template(path)`` writes the empty template, ``write_sample(path)`` the
same workbook filled with the sample visits (``workbooks/data/sample_visits.csv``,
read by ``workbooks.sample``); the Instructions sheet's text is
``workbooks/data/instructions.txt``. The files in ``workbook_templates/`` are exactly these bytes; a test
regenerates them and compares.

Library: XlsxWriter, not openpyxl.
- Deterministic bytes: XlsxWriter stamps every zip entry 1980-01-01 (in memory
  mode) and takes the document's created/modified time from
  ``set_properties``; openpyxl stamps zip entries with the current time, so its
  output would need re-zipping to be reproducible.
- Cached results: XlsxWriter writes a formula *and* the value it gives. The
  values are computed here by calling the add-in's own functions
  (``ptbilling.excel_functions``, which ``ptbilling.udfs`` decorates), so readers
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
PT_VALIDATE forms visits (one patient, date and payer), and the Modifiers,
Assistant Minutes and Date columns let PT_UNITS divide a service's units
between its CQ/CO line and its therapist line by the rule in force on the date
(``rules/assistant_split``), as the claim bills them.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import xlsxwriter  # type: ignore[import-untyped]  # XlsxWriter ships no type hints
from xlsxwriter.utility import (  # type: ignore[import-untyped]  # (as above)
    xl_cell_to_rowcol,
    xl_col_to_name,
    xl_rowcol_to_cell,
)

from .. import __version__
from ..logs.cells import to_serial
from ..rules import datasets, gpci_file
from ..rules.code_catalog import TIMED, UNTIMED, catalog_for
from ..rules.validate import RULES
from .sample import sample_rows
from .styles import CHECK_COLOURS

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


def _newest_shipped_year() -> dt.date:
    """1 January of the newest year whose fee schedule ships with ptbilling.

    The locality dropdown and the Codes sheet follow it; shipped, never an
    import, so the template's bytes depend only on the package.
    """
    years = [r.effective_from.year for r in datasets.releases() if r.kind == "rvu" and r.origin == "shipped"]
    return dt.date(max(years), 1, 1)


CATALOG_DATE = _newest_shipped_year()
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
          "of the visit on one row; or the PTA/OTA's on a CQ/CO row and the therapist's on another), 0-600."),
    Input("Units", 7, "units", "Units billed on this row, 0-96 (24 hours of 15-minute units)."),
    Input("Assistant Minutes", 10.5, "minutes", "Optional, on a therapist's row: the minutes of it the PTA/OTA "
          "furnished on their own (time together counts as the therapist's). They decide which units take "
          "CQ/CO. Not needed on a PTA/OTA's own row. 0-600."),
    Input("Notes", 26, "notes", "Free text; not checked."),
)


def _col(header: str) -> str:
    return f"{TABLE}[{header}]"


#: one visit = one patient, date and payer, as PT_VALIDATE groups them (rules/claim_lines.py); a row
#: without a patient gets no key, so PT_UNITS says so instead of merging such rows into one visit
_VISITS = f'IF({_col("Patient")}="","",{_col("Patient")}&"|"&{_col("Date")}&"|"&{_col("Payer")})'
_MEDICARE = f'ISNUMBER(FIND("MEDICARE",UPPER({_col("Payer")})))'
_UNITS_ARGS = (f'{_col("Minutes")},{_col("Code")},"{{method}}",{_VISITS},{_col("Modifiers")},'
               f'{_col("Assistant Minutes")},{_col("Date")}')
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
    return fill(f"{{{header}}}{{row}}", HEADER_ROW + 2).replace("$", "")


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
    from .. import excel_functions as functions

    c = _columns(table)
    visits = _visit_keys(c)
    args = (visits, c["Modifiers"], c["Assistant Minutes"], c["Date"])
    cms = functions.PT_UNITS(c["Minutes"], c["Code"], "CMS", *args)
    ama = functions.PT_UNITS(c["Minutes"], c["Code"], "AMA", *args)
    return [_cells(cms if _is_medicare(payer[0]) else ama, i) for i, payer in enumerate(c["Payer"])]


def est_allowed(table: list[list], done: dict | None = None) -> list:
    """The Est. Allowed column: PT_FEE over the log, Medicare lines only. The built workbooks' locality
    cell is blank, which LEFT(TRIM(..),8) hands PT_FEE as "": the national amount."""
    from .. import excel_functions as functions

    c = _columns(table)
    fees = functions.PT_FEE(c["Code"], c["Units"], c["Modifiers"], c["Date"], "", _visit_keys(c))
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
    out: list[object] = []
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
    from .. import excel_functions as functions

    result = functions.PT_VALIDATE(table)
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


# --- building the workbook -----------------------------------------------------------------

def _xlwings_table(rows: Sequence[Sequence]) -> list[list]:
    """The table as xlwings hands SessionLog[#All] to a UDF: header + rows of 500, numbers as
    floats, empty cells as None, dates as datetime."""
    out: list[list[object]] = [[i.header for i in INPUTS]]
    for r in range(READY_ROWS):
        row = list(rows[r]) if r < len(rows) else [None] * len(INPUTS)
        conv: list[object] = []
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
        self.error = wb.add_format(CHECK_COLOURS["ERROR"])
        self.warn = wb.add_format(CHECK_COLOURS["WARN"])
        self.ok = wb.add_format(CHECK_COLOURS["OK"])
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
        "error_title": f"Not a {CATALOG_DATE.year} locality",
        "error_message": f'Not in the CY {CATALOG_DATE.year} GPCI list. The format is "<MAC>-<locality>", '
                         'e.g. 02102-01. Keep it only if you imported a GPCI file that has it.',
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


HELP_FILE = "instructions.txt"


def _help_lines() -> list[tuple[str, str]]:
    """(style, text) lines of the Instructions sheet, from ``data/instructions.txt``.

    The prose lives in that resource file so that it can be edited as text; the builder only
    fills in what comes from the code: the input columns' prompts, the rule table, the contract
    formulas, the first data row, the ready rows and the version.
    """
    sumifs, xlookup = contract_formulas()
    values = {"first_row": HEADER_ROW + 2, "ready_rows": READY_ROWS, "sumifs": sumifs, "xlookup": xlookup,
              "version": __version__, "locality_year": CATALOG_DATE.year}
    text = resources.files(__package__).joinpath("data").joinpath(HELP_FILE).read_text(encoding="utf-8")
    t: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line == "@inputs":
            t += [("field", f"{col.header}\t{col.prompt}") for col in INPUTS]
        elif line == "@rules":
            t += [("rule", f"{rule}\t{severity}\t{what}") for rule, (severity, what) in RULES.items()]
        else:
            style, body = line.split("\t", 1)
            t.append((style, body.format(**values)))
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
    of the newest shipped year (CATALOG_DATE; not an import: the template's bytes do not depend on the user's data)."""
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
