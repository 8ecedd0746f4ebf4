"""Turning a session log's cells into claim lines, the same way for Excel and the command line.

Both front doors hand over a header row and data rows of raw cell values (as
xlwings, python-calamine or the csv module produce them). This module finds the
columns (``columns.layout``), reads cells as EMR exports write them (``prepare``:
several modifier columns merged in order, a code cell carrying its modifiers
such as ``97110-GP`` split, payers renamed by the user's map; a provider cell's
name dropped for its credential) and coerces each row into a ``ClaimLine`` for
the rules core, turning unusable values into a finding on that row. It is the
"coerce inputs" step shared by ``PT_VALIDATE`` and ``ptbilling check``, so the
two agree cell for cell.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from operator import itemgetter

from ..rules.claim_lines import ClaimLine, provider_credential
from ..rules.code_catalog import normalize_code
from ..rules.errors import BadValue
from ..rules.findings import ERROR, WARN, Finding
from ..rules.per_application import site_of
from ..rules.service_units import MAX_UNITS, LineProblem, coerce_minutes
from .columns import ColumnMap, Layout, layout

_MOD_SPLIT = re.compile(r"[^0-9A-Za-z]+")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # serial 0 of Excel's 1900 calendar, from 1 March 1900 on
LAST_SERIAL = 2958465  # 9999-12-31
FAKE_LEAP_DAY = 60  # Excel's 29 February 1900, a day that never was (kept from Lotus 1-2-3)


def from_serial(value: int | float) -> dt.date:
    """An Excel (1900 calendar) serial day number -> its date, as Excel shows it.

    Serials 1-59 are 1900-01-01 .. 1900-02-28 and 61 on is 1900-03-01 on;
    serial 60 is Excel's fictitious 1900-02-29 and is refused. A fraction is a
    time of day and is dropped. Raises LineProblem outside 1 .. 2958465.
    """
    if not 1 <= value < LAST_SERIAL + 1:
        # an int past float's range (openpyxl reads one from a long digit string) cannot take :g
        shown = f"{value:g}" if isinstance(value, float) or abs(value) < 10 ** 15 else f"{str(value)[:12]}..."
        raise LineProblem(f"{shown} is not a date (Excel's dates are serial numbers 1 to {LAST_SERIAL:,})")
    day = int(value)
    if day == FAKE_LEAP_DAY:
        raise LineProblem("serial 60 is Excel's 29 February 1900, a day that never existed (Excel's 1900 "
                          "leap-year bug) — type the real date of service")
    if day < FAKE_LEAP_DAY:
        return dt.date(1899, 12, 31) + dt.timedelta(days=day)
    return (EXCEL_EPOCH + dt.timedelta(days=day)).date()


def to_serial(day: dt.date) -> int:
    """The Excel serial number of a date (1900 calendar): what Excel's & shows for a date cell."""
    if isinstance(day, dt.datetime):
        day = day.date()
    n = (day - EXCEL_EPOCH.date()).days
    return n - 1 if day < dt.date(1900, 3, 1) else n  # before Excel's fictitious 29 Feb 1900


#: Excel's error values as text: what a cell shows for an error in a CSV export or a text copy,
#: and how xlwings Lite may hand an error cell (Office.js gives its text)
EXCEL_ERRORS = frozenset({"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!",
                          "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
                          "#PYTHON!"})


def _key_problem(text: str, what: str) -> str:
    """Why a Patient cell cannot key a visit: blank, or an Excel error such as #N/A."""
    if not text:
        return f"blank (a line without a {what} cannot be put into a visit)"
    return f"holds the Excel error {text} (from a formula or lookup), not a {what}"


def coerce_date(value: object) -> dt.date:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise LineProblem("blank")
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        raise LineProblem(f"holds the Excel error {value.strip().upper()}, not a date")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise LineProblem(f"date must be a date, not {value}")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            raise LineProblem(f"date must be a date, not {value}")
        return from_serial(value)
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                pass
        raise LineProblem(f"{text[:20]!r} is not a date (use YYYY-MM-DD or M/D/YYYY)")
    raise LineProblem(f"date must be a date, not a {type(value).__name__}")


def parse_modifiers(value: object) -> tuple[str, ...]:
    """'GP CQ', 'gp,59', 59.0, None -> ('GP', 'CQ'), ('GP', '59'), ('59',), ()."""
    if value is None:
        return ()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return tuple(t.upper() for t in _MOD_SPLIT.split(str(value)) if t)


class _AssistantFlags(dict):
    """Modifiers cell -> its flag for the CQ/CO split, worked out once per distinct cell. (True, 1 and
    1.0 share a key, which is safe here: none of them holds a modifier the flag reads.)"""

    def __missing__(self, value):
        mods = parse_modifiers(value)
        flag = self[value] = ("CQ" if "CQ" in mods else "CO" if "CO" in mods else "GO" if "GO" in mods else None)
        return flag


def assistant_flags(cells) -> list[str | None]:
    """Each Modifiers cell's flag for ``log_units``: "CQ" or "CO" for an assistant's line (those units
    take the modifier), "GO" for an OT line without (the split then speaks of OTA/CO), else None."""
    return list(map(_AssistantFlags().__getitem__, cells))


class _Sites(dict):
    """Modifiers cell -> its ``per_application.Site`` (RT/LT, 50, 59/X...), worked out once per distinct cell."""

    def __missing__(self, value):
        site = self[value] = site_of(parse_modifiers(value))
        return site


def site_marks(cells) -> list:
    """Each Modifiers cell's site for ``log_units``: how a per-application code's lines (strapping) are
    told apart as applications."""
    return list(map(_Sites().__getitem__, cells))


def modifier_args(cells) -> dict:
    """What ``log_units`` / ``explain_visit`` read from a Modifiers column: the CQ/CO flags and the sites.
    Every front door passes both, so PT_UNITS, PT_EXPLAIN, ``ptbilling units`` and ``check`` agree."""
    if cells is None:
        return {"assisted": None, "sites": None}
    return {"assisted": assistant_flags(cells), "sites": site_marks(cells)}


def date_cells(cells) -> list:
    """Date cells -> dates for ``log_units``; a blank is None, an unreadable one its LineProblem."""
    out: list = []
    memo: dict = {}
    for v in cells:
        if v is None or (isinstance(v, str) and not v.strip()):
            out.append(None)
            continue
        # numbers need their type in the key (True == 1 == 1.0 read differently); dates and text do not
        key = (type(v), v) if isinstance(v, (bool, int, float)) else v
        got = memo.get(key)
        if got is None:
            try:
                got = coerce_date(v)
            except LineProblem as e:
                got = LineProblem(f"date: {e}")
            memo[key] = got
        out.append(got)
    return out


def coerce_amount(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise LineProblem(f"prior allowed must be an amount, not {value}")
    try:
        # float() of any other cell value: its TypeError or ValueError is the check, answered below
        amount = float(str(value).replace("$", "").replace(",", "")) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int past float's range
        raise LineProblem(f"prior allowed {str(value)[:20]!r} is not an amount") from None
    if math.isnan(amount) or math.isinf(amount) or amount < 0:
        raise LineProblem(f"prior allowed {value} is not an amount")
    return amount


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    return str(value).strip()


def _is_blank(row) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


@dataclass
class ParsedLog:
    lines: list[ClaimLine | None]  # one per data row; None for a blank row
    problems: dict[int, Finding]  # data-row index -> why that row could not be read


class _Problem(str):
    """A remembered LineProblem: its message."""


class _Memo(dict):
    """value -> fn(value), remembered for one read of a log: codes, dates, payers... repeat.

    A LineProblem is remembered as its message (a _Problem). Booleans go through
    ``call`` (True == 1 == 1.0 as dict keys, but they coerce differently).
    """

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def call(self, v):
        try:
            return self.fn(v)
        except LineProblem as e:
            return _Problem(e)

    def __missing__(self, v):
        r = self.call(v)
        if not (v == 0 and type(v) is not str):  # 0, 0.0 and -0.0 are one key but read differently
            self[v] = r
        return r


def _code(value: object) -> str:
    code = normalize_code(value)
    if code is None:
        raise LineProblem("code is blank")
    return code


def _provider(value: object) -> str:
    """The credential of a provider cell: 'Lee, Bob PTA' -> 'PTA' (claim_lines.provider_credential)."""
    return provider_credential(_text(value))


# --- cells as exports write them ------------------------------------------------------------

_CODE_SHAPE = re.compile(r"^(?:[A-Za-z]?[0-9]{4,5}|[0-9]{4}[A-Za-z])$")
BLANK_PAYER = "blank — type the payer (e.g. Medicare), or give one payer for the whole log (--payer, or PT_VALIDATE's payer argument)"


def split_code_cell(value: object) -> tuple[object, tuple[str, ...]]:
    """'97110-GP', '97110 GP CQ', '97110:GP' -> ('97110', ('GP',...)); anything else unchanged, ().

    Only a code followed by two-character modifiers is split: '97110.5' or
    '97110 x2' stay as they are (and the code rule says what is wrong).
    """
    if type(value) is not str:
        return value, ()
    tokens = [t for t in _MOD_SPLIT.split(value) if t]
    # "x2" is how people write a quantity, not a modifier: such a cell is left to the code rule
    if (len(tokens) >= 2 and _CODE_SHAPE.match(tokens[0])
            and all(len(t) == 2 and not (t[0] in "xX" and t[1].isdigit()) for t in tokens[1:])):
        return tokens[0], tuple(t.upper() for t in tokens[1:])
    return value, ()


def _cell(row, j: int):
    return row[j] if j < len(row) else None


def _needs_preparing(rows, c_code: int, c_mod: int) -> bool:
    """A code cell carrying modifiers, or a Modifiers cell naming one twice (one pass over distinct values)."""
    try:  # a sheet's rows are dense: one C-speed pass per column
        codes = set(map(itemgetter(c_code), rows))
        mods = set(map(itemgetter(c_mod), rows))
    except (IndexError, TypeError):  # short or blank rows (a CSV): cell by cell
        codes, mods = set(), set()
        for row in rows:
            if row:
                codes.add(_cell(row, c_code))
                mods.add(_cell(row, c_mod))
    if any(split_code_cell(v)[1] for v in codes if type(v) is str):
        return True
    for v in mods:
        if type(v) is str:
            m = parse_modifiers(v)
            if len(set(m)) != len(m):
                return True
    return False


@dataclass
class Prepared:
    """A log's rows as the coercion reads them, with where each field is."""

    layout: Layout
    cols: dict[str, int]
    rows: list  # the rows given, or copies with the merged code/modifier/payer cells appended
    notes: dict[int, list[Finding]]  # data-row index -> findings of reading (MOD-DUPLICATE)
    mapping: ColumnMap | None = None
    #: payer as the rules read it -> the payer names of the log mapped to it (--columns [payers])
    mapped_payers: dict[str, list[str]] | None = None


def prepare(header, rows, payer: object = None, mapping: ColumnMap | None = None) -> Prepared:
    """Find the columns and read cells as exports write them; raises MissingColumns.

    When the log has one Modifiers column, no payer map and no code cell with
    modifiers (the template's own log), the rows are used as they are. Otherwise
    each row gets three cells appended (code, modifiers, payer) and the columns
    point at them: the export's own cells stay as read, for the report.
    """
    lay = layout(header, payer_given=bool(_text(payer)), mapping=mapping)
    cols = dict(lay.cols)
    rows = rows if isinstance(rows, list) else list(rows)
    payer_map = mapping if mapping is not None and mapping.payers and "payer" in cols else None
    mod_cols = lay.modifier_cols
    c_code = cols["code"]
    if len(mod_cols) == 1 and payer_map is None and not _needs_preparing(rows, c_code, mod_cols[0]):
        return Prepared(lay, cols, rows, {}, mapping)
    c_payer = cols.get("payer")
    names = {j: str(h).strip() for j, h in enumerate(header) if h is not None}
    width = max(len(header), max(cols.values()) + 1)
    memo: dict = {}
    notes: dict[int, list[Finding]] = {}
    out: list[list[object] | None] = []
    append = out.append
    for i, row in enumerate(rows):
        if row is None:
            append(None)
            continue
        code_v = _cell(row, c_code)
        mod_vs = tuple(_cell(row, j) for j in mod_cols)
        payer_v = _cell(row, c_payer) if c_payer is not None else None
        # typed keys: True == 1 == 1.0 as dict keys, but they read differently
        key = (code_v, code_v.__class__, mod_vs, tuple(v.__class__ for v in mod_vs), payer_v, payer_v.__class__)
        got = memo.get(key)
        if got is None:
            got = memo[key] = _prepare_cells(code_v, mod_vs, payer_v, payer_map, names[c_code],
                                             [names.get(j, "Modifiers") for j in mod_cols])
        code, mods, line_payer, note = got
        if len(row) < width:
            row = list(row) + [None] * (width - len(row))
        append([*row[:width], code, mods, line_payer])
        if note:
            notes[i] = [Finding(i, WARN, "MOD-DUPLICATE", note)]
    cols["code"], cols["modifiers"] = width, width + 1
    if c_payer is not None:
        cols["payer"] = width + 2
    mapped: dict[str, list[str]] = {}
    for (_, _, _, _, payer_v, _), (_, _, line_payer, _) in memo.items():
        if payer_v is not None and line_payer != payer_v and _text(payer_v) != line_payer:
            names_of = mapped.setdefault(line_payer, [])
            if _text(payer_v) not in names_of:
                names_of.append(_text(payer_v))
    return Prepared(lay, cols, out, notes, mapping, mapped)


def _prepare_cells(code_v, mod_vs, payer_v, payer_map, code_name: str, mod_names: list[str]):
    """(code, modifiers text, payer, duplicate note) for one row's cells."""
    code, from_code = split_code_cell(code_v)
    seen: dict[str, str] = {}  # modifier -> where it was first given
    dups = []
    tokens = []
    sources = [(from_code, f"{code_name} {str(code_v).strip()!r}")]
    sources += [(parse_modifiers(v), name) for v, name in zip(mod_vs, mod_names)]
    for mods, where in sources:
        for m in mods:
            if m in seen:
                dups.append(f"{m} given twice ({seen[m]} and {where})" if seen[m] != where else f"{m} given twice in {where}")
                continue
            seen[m] = where
            tokens.append(m)
    note = ("; ".join(dups) + " — read once; remove the copy") if dups else None
    line_payer = payer_v
    if payer_map is not None and payer_v is not None:
        line_payer = payer_map.payer(_text(payer_v))
    return code, (" ".join(tokens) or None), line_payer, note


def read_rows(rows, cols: dict[str, int], payer: object = None) -> ParsedLog:
    """Coerce data rows (after the header) into ClaimLines; a bad value is a finding on its row.

    Each distinct cell value of a column is coerced once (``_Memo``; a dict look-up
    beats even a short path for whole-number floats) and each line is built as the
    tuple it is: a log of 100,000 rows is read in under 0.1 s. The result is that
    of coercing every cell.
    """
    default_payer = _text(payer)
    lines: list[ClaimLine | None] = []
    problems: dict[int, Finding] = {}
    get_payer = cols.get("payer")
    get_asst = cols.get("assistant_minutes")
    get_prior = cols.get("prior_allowed")
    has_asst = get_asst is not None
    c_patient, c_date, c_provider, c_code = cols["patient"], cols["date"], cols["provider"], cols["code"]
    c_mods, c_min, c_units = cols["modifiers"], cols["minutes"], cols["units"]
    width = max(cols.values()) + 1
    dates, codes, minutes_of, units_of = _Memo(coerce_date), _Memo(_code), _Memo(coerce_minutes), _Memo(coerce_units)
    amounts, texts, providers, mods = _Memo(coerce_amount), _Memo(_text), _Memo(_provider), _Memo(parse_modifiers)
    bool_, problem_, line_ = bool, _Problem, ClaimLine
    # a ClaimLine built as the tuple it is: NamedTuple's own __new__ is a Python function, a fifth of a row's time
    new_ = tuple.__new__
    append = lines.append
    field: str | None  # the column of the row's first bad cell, None when the row reads
    for i, row in enumerate(rows):
        if row is None:
            append(None)
            continue
        if len(row) < width:
            row = list(row) + [None] * (width - len(row))
        v = row[0] if row else None
        if (v is None or (isinstance(v, str) and not v.strip())) and _is_blank(row):
            append(None)
            continue
        v = row[c_patient]
        patient = texts[v] if type(v) is not bool_ else _text(v)
        v = row[c_date]
        dos = dates[v] if type(v) is not bool_ else dates.call(v)
        if not patient or patient in EXCEL_ERRORS:
            field, why = "Patient", _key_problem(patient, "patient")
        elif type(dos) is problem_:
            field, why = "Date", dos
        else:
            v = row[c_code]
            code = codes[v] if type(v) is not bool_ else codes.call(v)
            if type(code) is problem_:
                field, why = "Code", code
            else:
                v = row[c_min]
                minutes = minutes_of[v] if type(v) is not bool_ else minutes_of.call(v)
                if type(minutes) is problem_:
                    field, why = "Minutes", minutes
                else:
                    v = row[c_units]
                    units = units_of[v] if type(v) is not bool_ else units_of.call(v)
                    if type(units) is problem_:
                        field, why = "Units", units
                    else:
                        field = why = None
                        asst = prior = None
                        if has_asst:
                            v = row[get_asst]
                            if v is not None:
                                asst = minutes_of[v] if type(v) is not bool_ else minutes_of.call(v)
                                if type(asst) is problem_:
                                    field, why = "Assistant Minutes", asst
                                elif asst is not None and minutes is not None and asst > minutes:
                                    field = "Assistant Minutes"
                                    why = f"{asst} assistant minutes exceed the line's {minutes} minutes"
                        if field is None and get_prior is not None:
                            v = row[get_prior]
                            if v is not None:
                                prior = amounts[v] if type(v) is not bool_ else amounts.call(v)
                                if type(prior) is problem_:
                                    field, why = "Prior Allowed", prior
        if field is not None:
            problems[i] = Finding(i, ERROR, "INPUT", f"{field} cell: {why} — correct it")
            append(None)
            continue
        if get_payer is not None:
            v = row[get_payer]
            line_payer = (texts[v] if type(v) is not bool_ else _text(v)) or default_payer
            if not line_payer:  # which payer's rules apply is not said: never guess
                problems[i] = Finding(i, ERROR, "INPUT", f"Payer cell: {BLANK_PAYER}")
                append(None)
                continue
        else:
            line_payer = default_payer
        v = row[c_provider]
        provider = providers[v] if type(v) is not bool_ else _provider(v)
        v = row[c_mods]
        modifiers = mods[v] if type(v) is not bool_ else parse_modifiers(v)
        append(new_(line_, (i, patient, dos, line_payer, provider, code, modifiers, minutes, units, asst, prior, has_asst)))
    return ParsedLog(lines, problems)


def coerce_units(value: object) -> int | None:
    """Units billed as a cell holds them -> a whole number 0-96; None for blank.

    96 is what 24 hours of 15-minute units give (``MAX_UNITS``); a line cannot
    bill more. The messages say "units", never "minutes" or "hours".
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise LineProblem(f"units must be a number, not {value}")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise LineProblem(f"units must be a number, not {text[:20]!r}") from None
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise LineProblem(f"units must be a number, not {value}")
        if not value.is_integer():
            raise LineProblem(f"units must be whole: {value:g}")
        value = int(value)
    if not isinstance(value, int):
        raise LineProblem(f"units must be a number, not a {type(value).__name__}")
    if value < 0:
        raise LineProblem(f"units cannot be negative: {value}")
    if value > MAX_UNITS:
        raise LineProblem(f"{value:,} units is more than one line can bill (at most {MAX_UNITS}: "
                          f"24 hours of 15-minute units)")
    return value


def log_findings(header, rows, payer: object = None, method: object = None,
                 unusable: dict[int, Finding] | None = None, kx_totals: dict | None = None,
                 mapping: ColumnMap | None = None, prepared: Prepared | None = None):
    """The one path from a header row and data rows to findings per row: ``(cols, parsed, findings)``.

    ``PT_VALIDATE`` (through ``check_table``) and ``ptbilling check`` both call
    it. ``unusable`` (data-row index -> finding) are rows the front door already
    knows cannot be read, e.g. a formula in an input cell of a file; they are
    left out of the rules like a row with a bad value. ``kx_totals`` (a dict)
    receives each Medicare patient's allowed amount per year and KX bucket.
    ``prepared`` is ``prepare(header, rows, payer, mapping)`` when the caller
    already has it (``rows`` may then be the same rows through a progress
    generator). Raises MissingColumns when the header lacks a required column.
    """
    from ..rules.validate import sort_findings, validate_lines

    prep = prepared if prepared is not None else prepare(header, rows, payer, mapping)
    if mapping is None:
        mapping = prep.mapping
    if mapping is not None and _text(payer):
        payer = mapping.payer(_text(payer))
    parsed = read_rows(rows if prepared is not None else prep.rows, prep.cols, payer)
    for i, f in (unusable or {}).items():
        parsed.lines[i] = None
        parsed.problems[i] = f
    found = validate_lines(parsed.lines, method, parsed.problems, kx_totals)
    for i, fs in prep.notes.items():
        found[i] = sort_findings(found[i] + fs)
    return prep.cols, parsed, found


def check_table(table, payer: object = None, method: object = None) -> list[str]:
    """PT_VALIDATE's answer for a header row + data rows: 'Check', then one text per row.

    Blank rows get '' so the result lines up with the table row for row.
    Raises MissingColumns when the header lacks a required column.
    """
    from ..rules.validate import check_text

    if not table:
        raise BadValue("the log is empty: select the table with its header row")
    _, parsed, found = log_findings(table[0], list(table[1:]), payer, method)
    texts = ["Check"]
    for line, fs, i in zip(parsed.lines, found, range(len(found))):
        texts.append(check_text(fs) if (line is not None or i in parsed.problems) else "")
    return texts
