"""One check of a whole session log, shared by ``ptbilling check`` and the Excel functions.

``check_log`` takes a header row and data rows of cell values, as xlwings
hands them to ``PT_VALIDATE`` or as ``logs.reader`` reads them from a file, and
returns per row what the Excel functions would put beside it:

- units by the rule: ``log_units`` (the ``PT_UNITS`` core) over the log's
  Minutes and Code cells, grouped into visits (patient + date of service +
  payer, as ``ClaimLine.visit``), each visit with its payer's unit method (``claim_lines.unit_method``: traditional
  Medicare always CMS; others follow ``method``, else CMS for Medicare
  Advantage and AMA for the rest). A row whose date or patient cannot be read
  belongs to no visit and has no units (its INPUT finding says why);
- findings: ``logs.cells.log_findings``, the very path ``PT_VALIDATE`` takes.

So a row's units and findings are those of ``PT_UNITS`` and ``PT_VALIDATE`` on
the same data; ``tests/test_check.py`` proves it through xlwings' own
conversion code.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from operator import attrgetter, itemgetter

from ..rules import datasets
from ..rules.claim_lines import payer_key, payer_kind, person_key, unit_method
from ..rules.errors import DamagedStore, UnsupportedDate
from ..rules.findings import ERROR, WARN, Finding
from ..rules.service_units import LineProblem, log_units
from ..rules.validate import RULES
from .cells import EXCEL_ERRORS, _text, coerce_date, log_findings, modifier_args, prepare
from .columns import DISPLAY, ColumnMap, Layout, header_key

Progress = Callable[[str, int], None]  # (stage, rows done) -> None


@dataclass
class LogCheck:
    units: list[int | None]  # per data row; None: blank, or no units by the rule
    findings: list[list[Finding]]  # per data row, errors first
    blank: list[bool]  # per data row: no input at all
    summary: dict
    lines: list | None = None  # per data row: the ClaimLine read, or None
    rows: list | None = None  # the rows as prepared (merged code/modifier cells)
    cols: dict | None = None  # field -> position in ``rows``
    used_columns: list[int] | None = None  # header positions of the columns read (the report keeps them all)

    @property
    def read(self) -> list[dict | None] | None:
        """Per data row, patient, date, payer, provider, code and modifiers as read; None for a blank row.

        A row that could not be read (an INPUT finding) gives its cells as text.
        Computed when asked (JSON output), not for every check.
        """
        if self.lines is None or self.rows is None or self.cols is None:
            return None
        out: list[dict | None] = []
        for i, ln in enumerate(self.lines):
            if ln is not None:
                out.append({"patient": ln.patient, "date": ln.dos.isoformat(), "payer": ln.payer,
                            "provider": ln.provider, "code": ln.code, "modifiers": list(ln.modifiers)})
            elif self.blank[i]:
                out.append(None)
            else:
                out.append(self.unread(i))
        return out

    def unread(self, i: int) -> dict:
        """``read`` of a row that could not be read (neither blank nor a line): its cells as text."""
        from .cells import parse_modifiers

        assert self.rows is not None and self.cols is not None  # only asked of a check that kept them
        cols, row = self.cols, self.rows[i]

        def cell(f):
            j = cols.get(f)
            return _text(row[j]) if j is not None and j < len(row) else ""
        mods = row[cols["modifiers"]] if cols["modifiers"] < len(row) else None
        return {"patient": cell("patient"), "date": cell("date"), "payer": cell("payer"),
                "provider": cell("provider"), "code": cell("code"), "modifiers": list(parse_modifiers(mods))}


def formula_findings(header, formula_cells: dict[int, list[int]],
                     mapping: ColumnMap | None = None) -> dict[int, Finding]:
    """An INPUT error for each row with a formula in an input column (file logs only).

    A formula's saved result may be stale, or absent when the file was not
    saved by Excel; ``ptbilling check`` reads typed values only.
    """
    out = {}
    for i, positions in formula_cells.items():
        named = [DISPLAY[k] for k in dict.fromkeys(header_key(header[j], mapping) for j in sorted(positions)
                                                   if j < len(header))
                 if k in DISPLAY]
        if named:
            out[i] = Finding(i, ERROR, "INPUT",
                             f"{named[0]} cell holds a formula; ptbilling check reads typed values only (a saved "
                             "result may be stale) — type the value, or check the log in Excel with PT_VALIDATE")
    return out


def _rows_with_progress(rows: list, progress: Progress | None) -> Iterable:
    if progress is None:
        return rows

    def gen():
        step = 4096
        for start in range(0, len(rows), step):
            yield from rows[start:start + step]
            progress("rows", min(start + step, len(rows)))
        progress("rules", len(rows))  # every row read: the rules run next
    return gen()


def check_log(header, rows: list, payer: object = None, method: object = None, *,
              formula_cells: dict[int, list[int]] | None = None,
              progress: Progress | None = None, mapping: ColumnMap | None = None) -> LogCheck:
    """Units, findings and a summary for every data row of a log.

    ``mapping`` holds the user's column and payer mappings (``--column``,
    ``--columns``). Raises MissingColumns (a BadValue) when the header lacks a
    required column, UnknownMethod for a bad ``method``.
    """
    unusable = formula_findings(header, formula_cells, mapping) if formula_cells else {}
    kx_totals: dict = {}
    prep = prepare(header, rows, payer, mapping)
    if mapping is not None and _text(payer):
        payer = mapping.payer(_text(payer))
    cols, parsed, found = log_findings(header, _rows_with_progress(prep.rows, progress), payer, method, unusable,
                                       kx_totals, mapping, prep)
    if progress:
        progress("units", len(rows))
    units = rule_units(prep.rows, cols, parsed, payer, method, set(unusable))
    blank = [ln is None and i not in parsed.problems for i, ln in enumerate(parsed.lines)]
    summary = summarize(parsed.lines, units, found, blank)
    summary["medicare_totals"] = medicare_totals(kx_totals)
    summary["columns"] = column_summary(prep.layout)
    summary["payers"] = payer_summary(parsed.lines, method, prep.mapped_payers)
    summary["missing_data"] = missing_data(parsed.lines)
    return LogCheck(units, found, blank, summary, parsed.lines, prep.rows, cols, [j for j, _, _ in prep.layout.used])


def column_summary(lay: Layout) -> dict:
    """The columns read (header -> field) and those not read, each with its note (never dropped in silence)."""
    return {
        "used": [{"column": h, "field": f} for _, h, f in lay.used],
        "ignored": [{"column": h, "note": note} for _, h, note in lay.ignored],
        "notes": lay.notes,
    }


def payer_summary(lines, method: object, mapped: dict[str, list[str]] | None = None) -> list[dict]:
    """Each payer of the log: Medicare, Medicare Advantage or not recognised as Medicare, and the unit
    method its visits were counted with (claim_lines.unit_method), with its number of lines, and
    the log's own names for it when the office's payer map renamed them (``mapped_from``)."""
    count: Counter = Counter(map(attrgetter("payer"), filter(None, lines)))
    out = []
    for p, n in sorted(count.items(), key=lambda t: (-t[1], t[0])):
        entry = {"payer": p, "kind": payer_kind(p), "method": unit_method(p, method), "lines": n}
        if mapped and mapped.get(p):
            entry["mapped_from"] = sorted(mapped[p])
        out.append(entry)
    return out


def missing_data(lines) -> list[str]:
    """One note per year of the log's Medicare lines that has no fee schedule installed: what to import.

    Without that year's RVUs no line of it is priced and the KX check is off
    (KX-UNCHECKED per patient); the summary says so once, with the file and
    the command, where the user looks first.
    """
    from ..rules.claim_lines import is_medicare

    # each distinct (date, payer) once: a log has a few hundred of them for 100,000 lines
    typed = set(map(itemgetter(2, 3), filter(None, lines)))  # ClaimLine: index, patient, dos, payer...
    medicare = {p: is_medicare(p) for p in {p for _, p in typed}}
    years = sorted({day.year for day, p in typed if medicare[p]})
    out = []
    for year in years:
        try:
            datasets.in_force("rvu", dt.date(year, 1, 1))
        except DamagedStore as damage:  # the index: its lines say DATA-DAMAGED; say it once here too
            return [str(damage)]
        except UnsupportedDate:
            newest = datasets.newest_year("rvu")
            out.append(f"{datasets.update_hint('rvu', year)} — no Medicare fee schedule for {year} is installed "
                       f"(newest: {newest}), so its lines are not priced and KX is not checked")
    return out


def medicare_totals(kx_totals: dict) -> list[dict]:
    """Each Medicare patient's allowed amount per year and KX bucket, with the year's thresholds.

    Amounts are national fee schedule amounts (the log does not say the
    locality), Prior Allowed included; the KX rule in rules/kx_modifier.py
    uses exactly these figures.
    """
    from ..rules.fee_schedule import kx_threshold, review_threshold

    out = []
    thresholds: dict[int, tuple] = {}  # year -> (KX, review): looked up once a year, not once a patient
    for (patient, year, bucket), amount in sorted(kx_totals.items()):
        got = thresholds.get(year)
        if got is None:
            day = dt.date(year, 1, 1)
            got = thresholds[year] = (kx_threshold(day).value, review_threshold(day).value)
        kx, review = got
        out.append({"patient": patient, "year": year, "bucket": bucket, "allowed": float(amount),
                    "kx_threshold": float(kx), "past_kx": amount > kx, "past_review": amount > review})
    return out


def rule_units(rows: list, cols: dict[str, int], parsed, payer: object, method: object,
               skip: Set[int] = frozenset()) -> list[int | None]:
    """``PT_UNITS`` per row: log_units over the raw Minutes, Code, Modifiers, Assistant Minutes and
    Date cells, visits by patient + date + payer (``ClaimLine.visit``), each visit with its payer's
    unit method."""
    n = len(rows)
    c_min, c_code, c_pat, c_date = cols["minutes"], cols["code"], cols["patient"], cols["date"]
    c_payer, c_mods, c_asst = cols.get("payer"), cols["modifiers"], cols.get("assistant_minutes")
    default_payer = _text(payer)
    width = max(c_min, c_code, c_pat, c_date, c_mods, c_payer or 0, c_asst or 0) + 1
    method_of: dict[str, str] = {}  # payer -> unit method
    visit_method: dict[tuple, str] = {}  # visit -> its payer's unit method
    # method -> rows, minutes, codes, visits, mods, assistant minutes, dates
    per_method: dict[str, tuple[list, list, list, list, list, list, list]] = {}
    lines, problems = parsed.lines, parsed.problems
    for i in range(n):
        ln = lines[i]
        row = rows[i]
        if len(row) < width:
            row = list(row) + [None] * (width - len(row))
        if ln is not None:
            key = ln.visit
            line_payer = ln.payer
        elif i in problems and i not in skip:
            # a row rejected for another cell (say Units) still has minutes in its visit, as in Excel
            patient = _text(row[c_pat])
            if not patient or patient in EXCEL_ERRORS:
                continue
            try:
                dos = coerce_date(row[c_date])
            except LineProblem:
                continue
            line_payer = (_text(row[c_payer]) if c_payer is not None else "") or default_payer
            if not line_payer:  # a blank payer: no method to count it by (its INPUT finding says so)
                continue
            key = (person_key(patient), dos, payer_key(line_payer))
        else:
            continue
        m = visit_method.get(key)
        if m is None:
            m = method_of.get(line_payer)
            if m is None:
                m = method_of[line_payer] = unit_method(line_payer, method)
            visit_method[key] = m
        bucket = per_method.get(m)
        if bucket is None:
            bucket = per_method[m] = ([], [], [], [], [], [], [])
        bucket[0].append(i)
        bucket[1].append(row[c_min])
        bucket[2].append(row[c_code])
        bucket[3].append(key)
        bucket[4].append(row[c_mods])
        bucket[5].append(row[c_asst] if c_asst is not None else None)
        bucket[6].append(key[1])
    out: list[int | None] = [None] * n
    for m, (idxs, mins, codes, keys, mods, asst, days) in per_method.items():
        got = log_units(mins, codes, m, keys, assistant_minutes=asst if c_asst is not None else None, dates=days,
                        **modifier_args(mods))
        for i, u in zip(idxs, got):
            if type(u) is int:
                out[i] = u
    return out


_ORDER = {ERROR: 0, WARN: 1}


def summarize(lines, units, found, blank) -> dict:
    """Visits, lines, units, errors and warnings, and counts per rule ID (errors first)."""
    per_rule: Counter = Counter()
    severity: dict[str, str] = {}
    errors = warnings = rows_with_errors = 0
    for fs in found:
        row_error = False
        for f in fs:
            per_rule[f.rule] += 1
            severity.setdefault(f.rule, f.severity)
            if f.severity == ERROR:
                errors += 1
                row_error = True
            else:
                warnings += 1
        rows_with_errors += row_error
    rules = sorted(per_rule, key=lambda r: (_ORDER.get(severity[r], 9), r))
    return {
        "visits": count_visits(lines),
        "lines": len(blank) - sum(map(bool, blank)),
        "units": sum(filter(None, units)),  # (zeros left out change no sum)
        "errors": errors,
        "warnings": warnings,
        "rows_with_errors": rows_with_errors,
        "rules": {r: per_rule[r] for r in rules},
        "rule_severity": {r: severity[r] for r in rules},
    }


def count_visits(lines) -> int:
    """How many distinct ``ClaimLine.visit`` keys the lines (None: no line) have.

    The keys of each distinct (patient, date, payer) as typed, not of every line: a visit's
    lines share them, so a 100,000-line log keys about 40,000 (``person_key``, ``payer_key``
    once per distinct text)."""
    typed = set(map(itemgetter(1, 2, 3), filter(None, lines)))  # ClaimLine: index, patient, dos, payer...
    people: dict[str, str] = {}
    payers: dict[str, str] = {}
    keys = set()
    for patient, day, payer in typed:
        who = people.get(patient)
        if who is None:
            who = people[patient] = person_key(patient)
        claim = payers.get(payer)
        if claim is None:
            claim = payers[payer] = payer_key(payer)
        keys.add((who, day, claim))
    return len(keys)


def rule_table() -> list[tuple[str, str, str]]:
    """(rule ID, severity, what it checks) for every rule, errors first."""
    return sorted(((r, s, what) for r, (s, what) in RULES.items()), key=lambda t: (_ORDER.get(t[1], 9), t[0]))

