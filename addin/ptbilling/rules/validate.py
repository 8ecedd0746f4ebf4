"""The claim-line scrubber behind PT_VALIDATE and ``ptbilling check``.

It runs every rule family over a log of claim lines and returns, per line, its
findings. Each family lives in its own module with its sources:

- payment_status       Medicare status B/I/N/R and unlisted codes
- therapy_modifiers    GP/GO/GN
- assistant_modifiers  CQ/CO and the de minimis standard
- service_units        billed units vs the 8-minute rule / per-code method
- evaluations          one evaluation per discipline per day
- provider_scope       who may bill
- ncci_ptp, mue        NCCI code-pair edits and medically unlikely edits
- kx_modifier          KX threshold and targeted medical review

A visit is one patient on one date with one payer (``ClaimLine.visit``): the
lines of one claim, whatever the order of the rows. Rules never read today's
date; every dated figure comes from the release in force on the line's date of
service. A date no release covers (2100, 1899) is an INPUT finding on its row
and the rest of the log is still checked.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from . import (
    assistant_modifiers, datasets, evaluations, kx_modifier, mue, ncci_ptp, payment_status, provider_scope,
    therapy_modifiers,
)
from .claim_lines import ClaimLine, is_medicare, unit_method
from .code_catalog import catalog_for
from .errors import UnknownCode, UnsupportedDate
from .findings import ERROR, WARN, Finding
from .service_units import UNIT_RULES, unit_findings

INPUT_RULES = {
    "INPUT": (ERROR, "A cell could not be read (patient, date, code, minutes, units, a blank payer...), a date no "
                     "release covers, or a visit over 24 hours; the message names the cell."),
    "MOD-DUPLICATE": (WARN, "A modifier given twice on one line (say in the code cell 97110-GP and in Modifier 1); it is read once."),
}

#: every rule ID -> (severity, what it checks); docs/rules.md must list exactly these
RULES: dict[str, tuple[str, str]] = {
    **INPUT_RULES,
    **payment_status.RULES,
    **therapy_modifiers.RULES,
    **assistant_modifiers.RULES,
    **UNIT_RULES,
    **evaluations.RULES,
    **provider_scope.RULES,
    **ncci_ptp.RULES,
    **mue.RULES,
    **kx_modifier.RULES,
}

_SEVERITY_ORDER = {"ERROR": 0, "WARN": 1}
_UNSEEN = object()


def validate_lines(lines: Sequence[ClaimLine | None], method: object = None,
                   problems: dict[int, Finding] | None = None,
                   kx_totals: dict | None = None) -> list[list[Finding]]:
    """Findings per line (same positions as ``lines``; None lines get only their problems).

    ``kx_totals``, when a dict, receives each Medicare patient's allowed amount
    per year and KX bucket: ``(patient, year, bucket) -> Decimal``.
    """
    with datasets.pinned():  # one read of the release index for the whole log
        return _validate(lines, method, problems, kx_totals)


def _line_rules(ln: ClaimLine, info, medicare: bool) -> list[Finding]:
    """The rules that look at one line alone."""
    return (payment_status.status_findings(ln, info, medicare)
            + therapy_modifiers.therapy_modifier_findings(ln, info, medicare)
            + assistant_modifiers.assistant_findings(ln, info, medicare)
            + provider_scope.provider_findings(ln, info, medicare))


def line_signature(ln: ClaimLine, medicare: bool) -> tuple:
    """Everything ``_line_rules`` reads of a line except its position.

    Lines with equal signatures get the same findings, so a log's thousands of
    "97110 GP by a PT for Medicare" lines are judged once. The date enters
    only as what the line rules use it for: the year (the catalog entry) and
    the CQ/CO start date. Minutes matter only beside assistant minutes (the
    de minimis share of an untimed service). ``tests/test_validate.py``
    checks the memo against calling the rules on every line.
    """
    return (ln.code, ln.dos.year, ln.dos >= assistant_modifiers.CQ_CO_FROM, medicare, ln.provider, ln.modifiers,
            ln.has_assistant_column, ln.assistant_minutes, ln.minutes if ln.assistant_minutes else None)


#: the dated releases every line's visit rules read (the code catalog is looked up per line)
VISIT_RELEASES = ("ptp", "mue")


def _date_problem(dos: dt.date) -> str | None:
    """Why no visit rule can judge a line of ``dos``: the first dated release that does not cover it."""
    for kind in VISIT_RELEASES:
        try:
            datasets.in_force(kind, dos)
        except UnsupportedDate as e:
            return str(e)
    return None


def _date_finding(i: int, dos: dt.date, why: object) -> Finding:
    return Finding(i, ERROR, "INPUT", f"Date cell: {dos:%Y-%m-%d} is outside the installed data ({why}) "
                                      "— check the date of service")


def _validate(lines, method, problems, kx_totals=None) -> list[list[Finding]]:
    out: list[list[Finding]] = [[] for _ in lines]
    for i, f in (problems or {}).items():
        out[i].append(f)
    visits: dict[tuple[str, dt.date, str], list[ClaimLine]] = {}
    date_problem: dict[dt.date, str | None] = {}
    known: list[ClaimLine] = []
    medicare_of: dict[str, bool] = {}
    catalogs: dict[int, object] = {}  # by year: the catalog only changes with the year
    line_memo: dict[tuple, tuple] = {}  # line_signature -> what the line rules say
    for ln in lines:
        if ln is None:
            continue
        try:
            catalog = catalogs.get(ln.dos.year)
            if catalog is None:
                catalog = catalogs[ln.dos.year] = catalog_for(ln.dos)
            info = catalog[ln.code]
        except UnsupportedDate as e:
            out[ln.index].append(_date_finding(ln.index, ln.dos, e))
            continue
        except UnknownCode as e:
            out[ln.index].append(Finding(ln.index, ERROR, "CODE-UNKNOWN", f"{e} — correct the code"))
            continue
        why = date_problem.get(ln.dos, _UNSEEN)
        if why is _UNSEEN:
            why = date_problem[ln.dos] = _date_problem(ln.dos)
        if why is not None:
            out[ln.index].append(_date_finding(ln.index, ln.dos, why))
            continue
        medicare = medicare_of.get(ln.payer)
        if medicare is None:
            medicare = medicare_of[ln.payer] = is_medicare(ln.payer)
        key = line_signature(ln, medicare)
        said = line_memo.get(key)
        if said is None:
            said = line_memo[key] = tuple((f.severity, f.rule, f.message) for f in _line_rules(ln, info, medicare))
        if said:
            out[ln.index] += [Finding(ln.index, *f) for f in said]
        visits.setdefault(ln.visit, []).append(ln)
        known.append(ln)
    for (_, dos, _), vlines in visits.items():
        payer = vlines[0].payer  # every line of the visit has this payer, up to case and spaces
        medicare = medicare_of[payer]
        catalog = catalogs[dos.year]
        found: list[Finding] = []
        try:
            found += unit_findings(vlines, unit_method(payer, method), catalog, medicare)
            found += evaluations.evaluation_findings(vlines)
            found += ncci_ptp.ptp_findings(vlines, dos)
            found += mue.mue_findings(vlines, dos)
        except UnsupportedDate as e:  # a figure missing for this date: this visit's rows say so, the log goes on
            found = [_date_finding(ln.index, dos, e) for ln in vlines]
        for f in found:
            out[f.line].append(f)
    for f in kx_modifier.kx_findings(known, kx_totals):
        out[f.line].append(f)
    for row in out:
        if len(row) > 1:
            row.sort(key=_finding_order)
    return out


def _finding_order(f: Finding) -> tuple:
    return (_SEVERITY_ORDER.get(f.severity, 9), f.rule)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """A row's findings in the order PT_VALIDATE shows them: errors first, then by rule ID."""
    return sorted(findings, key=_finding_order)


def check_text(findings: list[Finding]) -> str:
    """The text PT_VALIDATE puts in a row: OK, or the findings joined by '; '."""
    return "; ".join(str(f) for f in findings) if findings else "OK"
