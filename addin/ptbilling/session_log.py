"""Reading a session log's columns, the same way for Excel and the command line.

Both front doors hand over a header row and data rows of raw cell values (as
xlwings, python-calamine or the csv module produce them). This module finds the
columns by their header words and coerces each row into a ``ClaimLine`` for the
rules core, turning unusable values into a finding on that row. It is the
"coerce inputs" step shared by ``PT_VALIDATE`` and ``ptbilling check``, so the
two agree cell for cell.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from .rules.claim_lines import ClaimLine
from .rules.code_catalog import normalize_code
from .rules.errors import BadValue
from .rules.findings import ERROR, Finding
from .rules.service_units import LineProblem, coerce_minutes

#: canonical column -> header spellings (compared without case, spaces, _ or -)
HEADERS = {
    "patient": ("patient", "patientid", "patientname", "mrn", "member", "client"),
    "date": ("date", "dos", "dateofservice", "servicedate", "visitdate"),
    "payer": ("payer", "payor", "insurance", "plan"),
    "provider": ("provider", "providertype", "discipline", "credential", "renderingprovider"),
    "code": ("code", "cpt", "hcpcs", "cpthcpcs", "cptcode", "procedure", "procedurecode"),
    "modifiers": ("modifiers", "modifier", "mods", "mod"),
    "minutes": ("minutes", "min", "mins", "timedminutes", "treatmentminutes"),
    "units": ("units", "unitsbilled", "billedunits", "unit"),
    "assistant_minutes": ("assistantminutes", "ptaminutes", "otaminutes", "assistantmin"),
    "prior_allowed": ("priorallowed", "priorallowedamount", "prioramount", "otherprovidersallowed"),
}
REQUIRED = ("patient", "date", "provider", "code", "modifiers", "minutes", "units")
DISPLAY = {
    "patient": "Patient", "date": "Date", "payer": "Payer", "provider": "Provider", "code": "Code",
    "modifiers": "Modifiers", "minutes": "Minutes", "units": "Units",
    "assistant_minutes": "Assistant Minutes", "prior_allowed": "Prior Allowed",
}
_LOOKUP = {alias: canon for canon, aliases in HEADERS.items() for alias in aliases}
_SQUASH = re.compile(r"[\s_\-./#]+")
_MOD_SPLIT = re.compile(r"[^0-9A-Za-z]+")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


class MissingColumns(BadValue):
    """The header row lacks required columns; the message names them and what was seen."""


def header_key(value: object) -> str | None:
    if value is None:
        return None
    return _LOOKUP.get(_SQUASH.sub("", str(value)).lower())


def map_headers(header_row, payer_given: bool = False) -> dict[str, int]:
    """Canonical column -> position. Unknown headers are ignored; the first match wins.

    Raises MissingColumns naming every missing required column in one message.
    """
    cols: dict[str, int] = {}
    for j, h in enumerate(header_row):
        key = header_key(h)
        if key and key not in cols:
            cols[key] = j
    need = list(REQUIRED) + ([] if payer_given else ["payer"])
    missing = [DISPLAY[c] for c in need if c not in cols]
    if missing:
        seen = ", ".join(str(h) for h in header_row if h not in (None, "")) or "nothing"
        extra = " (or give the payer argument)" if "Payer" in missing else ""
        raise MissingColumns(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}{extra}; headers seen: {seen}"[:250]
        )
    return cols


def looks_like_header(row) -> bool:
    """True when a row names the required columns (used to find the table in a sheet)."""
    keys = {header_key(v) for v in row}
    return all(c in keys for c in ("code", "minutes", "date"))


def coerce_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise LineProblem(f"date must be a date, not {value}")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            raise LineProblem(f"date must be a date, not {value}")
        if 1 <= value < 2958466:  # Excel serial day numbers, 1900-01-01 .. 9999-12-31
            return (EXCEL_EPOCH + dt.timedelta(days=int(value))).date()
        raise LineProblem(f"{value:g} is not a date")
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


def coerce_amount(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise LineProblem(f"prior allowed must be an amount, not {value}")
    try:
        amount = float(str(value).replace("$", "").replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
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


def read_rows(rows, cols: dict[str, int], payer: object = None) -> ParsedLog:
    """Coerce data rows (after the header) into ClaimLines; a bad value is a finding on its row."""
    default_payer = _text(payer)
    lines: list[ClaimLine | None] = []
    problems: dict[int, Finding] = {}
    get_payer = cols.get("payer")
    get_asst = cols.get("assistant_minutes")
    get_prior = cols.get("prior_allowed")
    c_patient, c_date, c_provider, c_code = cols["patient"], cols["date"], cols["provider"], cols["code"]
    c_mods, c_min, c_units = cols["modifiers"], cols["minutes"], cols["units"]
    width = max(cols.values()) + 1
    for i, row in enumerate(rows):
        if row is None or _is_blank(row):
            lines.append(None)
            continue
        if len(row) < width:
            row = list(row) + [None] * (width - len(row))
        field = "Date"
        try:
            dos = coerce_date(row[c_date])
            field = "Code"
            code = normalize_code(row[c_code])
            if code is None:
                raise LineProblem("code is blank")
            field = "Minutes"
            minutes = coerce_minutes(row[c_min])
            field = "Units"
            units = _units(row[c_units])
            field = "Assistant Minutes"
            asst = coerce_minutes(row[get_asst]) if get_asst is not None else None
            if asst is not None and minutes is not None and asst > minutes:
                raise LineProblem(f"{asst} assistant minutes exceed the line's {minutes} minutes")
            field = "Prior Allowed"
            prior = coerce_amount(row[get_prior]) if get_prior is not None else None
        except LineProblem as e:
            problems[i] = Finding(i, ERROR, "INPUT", f"{field} cell: {e} — correct it")
            lines.append(None)
            continue
        patient = _text(row[c_patient])
        line_payer = _text(row[get_payer]) if get_payer is not None else ""
        lines.append(ClaimLine(
            index=i, patient=patient, dos=dos, payer=line_payer or default_payer,
            provider=_text(row[c_provider]).upper(), code=code,
            modifiers=parse_modifiers(row[c_mods]), minutes=minutes, units=units,
            assistant_minutes=asst, prior_allowed=prior,
            has_assistant_column=get_asst is not None,
        ))
    return ParsedLog(lines, problems)


def _units(value: object) -> int | None:
    try:
        u = coerce_minutes(value)
    except LineProblem as e:
        raise LineProblem(str(e).replace("minutes", "units")) from None
    if u is not None and u > 100:
        raise LineProblem(f"{u} units is not plausible for one line")
    return u


def check_table(table, payer: object = None, method: object = None) -> list[str]:
    """PT_VALIDATE's answer for a header row + data rows: 'Check', then one text per row.

    Blank rows get '' so the result lines up with the table row for row.
    Raises MissingColumns when the header lacks a required column.
    """
    from .rules.validate import check_text, validate_lines

    if not table:
        raise BadValue("the log is empty: select the table with its header row")
    cols = map_headers(table[0], payer_given=bool(_text(payer)))
    parsed = read_rows(table[1:], cols, payer)
    found = validate_lines(parsed.lines, method, parsed.problems)
    texts = ["Check"]
    for line, fs, i in zip(parsed.lines, found, range(len(found))):
        texts.append(check_text(fs) if (line is not None or i in parsed.problems) else "")
    return texts
