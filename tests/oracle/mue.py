"""The per-visit MUE check as it was before ``mue.log_mue_findings`` (the oracle of
tests/test_equivalence_visits.py): the lines of ONE visit, a code's units added over the visit."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ptbilling.rules import datasets
from ptbilling.rules.findings import ERROR, Finding
from ptbilling.rules.mue import _on, _unit_count, _visit_code
from ptbilling.rules.ncci_ptp import CheckedLine


def _units(ln: object) -> int | None:
    """A line's billed units as a whole number, read from whatever the line holds; None if none."""
    return _unit_count(getattr(ln, "units", None))


def mue_findings(visit_lines: Sequence[CheckedLine | None], dos: dt.date) -> list[Finding]:
    """MUE findings for the lines of ONE visit (one patient, one date of service).

    Each line needs ``index``, ``code`` and ``units`` (billed; lines without
    units are left to the unit rules). A code's units are added over the visit
    and compared with its MUE; the finding goes once, on the code's first line.
    An indicator-1 (line edit) MUE is compared per line instead, on the first
    line over it. Raises UnsupportedDate when no MUE release covers ``dos``.
    """
    if isinstance(dos, dt.datetime):
        dos = dos.date()
    release, table = datasets.remembered(("mue-table", dos), _on, dos)  # once per date in a log
    by_code: dict[str, list[tuple[CheckedLine, int]]] = {}  # code -> [(line, units)]
    for ln in visit_lines:
        if ln is not None and ln.code:
            code = _visit_code(ln.code)
            if code in table:  # a code without an MUE needs no adding up
                u = getattr(ln, "units", None)
                if u.__class__ is not int:  # a ClaimLine's units are an int or None; others are read
                    u = _units(ln)
                if u is not None:
                    by_code.setdefault(code, []).append((ln, u))
    if not by_code:
        return []
    out: list[Finding] = []
    for code, lines in by_code.items():
        row = table[code]
        if row.adjudication == "1":
            over = [(ln, u) for ln, u in lines if u > row.mue]
            if not over:
                continue
            at, units = over[0]
            kind = "per line (line edit)"
            fix = (f"bill at most {row.mue} on a line; units beyond it go on another line "
                   "with 59/XU only if distinct")
        else:
            units = sum(u for _, u in lines)
            if units <= row.mue:
                continue
            at = lines[0][0]
            kind = {"2": "per day (policy)", "3": "per day (clinical)"}.get(row.adjudication, "per day")
            fix = f"bill at most {row.mue}"
            if row.adjudication == "3":
                fix += ", more only with documented medical necessity (appeal)"
        unverified = row.status == "unverified" or release.status == "unverified"
        value = f"MUE {row.mue} {kind}" + (" (value unverified)" if unverified else "")
        out.append(Finding(at.index, ERROR, "MUE",
                           f"{code}: {units} units billed, {value} — {fix} [{release.name}]"))
    return out
