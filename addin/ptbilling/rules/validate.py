"""The claim-line scrubber behind PT_VALIDATE and ``ptbilling check``.

It runs every rule family over a log of claim lines and returns, per line, its
findings. Each family lives in its own module with its sources:

- payment_status       Medicare status B/I/N/R and unlisted codes
- therapy_modifiers    GP/GO/GN
- assistant_modifiers  CQ/CO on a line, and each service's CQ/CO split (assistant_split)
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
from collections.abc import Sequence
from contextlib import ExitStack
from decimal import Decimal

from . import (
    assistant_modifiers,
    datasets,
    evaluations,
    kx_modifier,
    mue,
    ncci_ptp,
    payment_status,
    provider_scope,
    therapy_modifiers,
)
from .claim_lines import ClaimLine, is_medicare, unit_method
from .code_catalog import Catalog, CodeInfo, catalog_for
from .errors import DamagedStore, UnknownCode, UnsupportedDate
from .findings import ERROR, WARN, Finding
from .service_units import UNIT_RULES, unit_log_findings

INPUT_RULES = {
    "INPUT": (ERROR, "A cell could not be read (patient, date, code, minutes, units, a blank payer...), a date no "
                     "release covers, or a visit over 24 hours; the message names the cell."),
    "MOD-DUPLICATE": (WARN, "A modifier given twice on one line (say in the code cell 97110-GP and in Modifier 1); it is read once."),
}
DATA_RULES = {"DATA-DAMAGED": (ERROR, "The stored release in force on the line's date is damaged; the line is "
                                      "not checked. The message names the file and the repair.")}

#: every rule ID -> (severity, what it checks); docs/rules.md must list exactly these
RULES: dict[str, tuple[str, str]] = {
    **INPUT_RULES,
    **DATA_RULES,
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

#: what ``line_signature`` keeps of a line: code, year, on or after the CQ/CO start, Medicare,
#: provider, modifiers, has an assistant column, has assistant minutes
LineSignature = tuple[str, int, bool, bool, str, tuple[str, ...], bool, bool]
#: ``kx_findings``' totals: (patient, year, KX bucket) -> allowed amount
KxTotals = dict[tuple[str, int, str], Decimal]
#: services billed right in total (``unit_findings``): the code, or (code, k) for the k-th
#: application of a per-application code -> (lines, units, timed)
Services = dict[str | tuple[str, int], tuple[list[ClaimLine], int, bool]]
_UNSEEN = object()


def validate_lines(lines: Sequence[ClaimLine | None], method: object = None,
                   problems: dict[int, Finding] | None = None,
                   kx_totals: KxTotals | None = None) -> list[list[Finding]]:
    """Findings per line (same positions as ``lines``; None lines get only their problems).

    ``kx_totals``, when a dict, receives each Medicare patient's allowed amount
    per year and KX bucket: ``(patient, year, bucket) -> Decimal``.
    """
    with ExitStack() as stack:
        try:
            stack.enter_context(datasets.pinned())  # one read of the release index for the whole log
        except DamagedStore as e:  # no line can be checked against an index that cannot be read
            out = [[f] if (f := (problems or {}).get(i)) else [] for i in range(len(lines))]
            for ln in lines:
                if ln is not None:
                    out[ln.index].append(Finding(ln.index, ERROR, "DATA-DAMAGED", str(e)))
            return out
        return _validate(lines, method, problems, kx_totals)


def _line_rules(ln: ClaimLine, info: CodeInfo, medicare: bool) -> list[Finding]:
    """The rules that look at one line alone."""
    return (payment_status.status_findings(ln, info, medicare)
            + therapy_modifiers.therapy_modifier_findings(ln, info, medicare)
            + assistant_modifiers.assistant_findings(ln, info, medicare)
            + provider_scope.provider_findings(ln, info, medicare))


def line_signature(ln: ClaimLine, medicare: bool) -> LineSignature:
    """Everything ``_line_rules`` reads of a line except its position.

    Lines with equal signatures get the same findings, so a log's thousands of
    "97110 GP by a PT for Medicare" lines are judged once. The date enters
    only as what the line rules use it for: the year (the catalog entry) and
    the CQ/CO start date. Of the minutes, only whether the line has assistant
    minutes (the CQ/CO split, which reads them, is a visit rule).
    ``tests/test_validate.py`` checks the memo against calling the rules on
    every line.
    """
    return (ln.code, ln.dos.year, ln.dos >= assistant_modifiers.CQ_CO_FROM, medicare, ln.provider, ln.modifiers,
            ln.has_assistant_column, bool(ln.assistant_minutes))


def _ptp_findings(vlines: list[ClaimLine], dos: dt.date) -> list[Finding]:
    """``ncci_ptp.ptp_findings`` for a visit with two codes of some pair of the release in force; most
    visits have at most one, and no pair to look up."""
    if len(vlines) > 1:
        codes = {ln.code for ln in vlines}  # normalised codes (ClaimLine)
        if len(codes) > 1 and len(ncci_ptp.paired_codes_on(dos).intersection(codes)) > 1:
            return ncci_ptp.ptp_findings(vlines, dos)
    return []


#: the dated releases every line's visit rules read (the code catalog is looked up per line)
VISIT_RELEASES = ("ptp", "mue")


def _date_problem(dos: dt.date) -> str | None:
    """Why no visit rule can judge a line of ``dos``: the first dated release that does not cover it."""
    for kind in VISIT_RELEASES:
        try:
            datasets.in_force(kind, dos)
        except UnsupportedDate as e:
            return str(e)
        except DamagedStore:  # not the date's fault: the visit rules say DATA-DAMAGED
            return None
    return None


def _date_finding(i: int, dos: dt.date, why: object) -> Finding:
    return Finding(i, ERROR, "INPUT", f"Date cell: {dos:%Y-%m-%d} is outside the installed data ({why}) "
                                      "— check the date of service")


def _validate(lines: Sequence[ClaimLine | None], method: object, problems: dict[int, Finding] | None,
              kx_totals: KxTotals | None = None) -> list[list[Finding]]:
    out: list[list[Finding]] = [[] for _ in lines]
    for i, f in (problems or {}).items():
        out[i].append(f)
    visits: dict[tuple[str, dt.date, str], list[ClaimLine]] = {}
    date_problem: dict[dt.date, str | None] = {}
    known: list[ClaimLine] = []
    medicare_of: dict[str, bool] = {}
    method_of: dict[str, str] = {}  # payer -> unit method: a log has a handful of payers, thousands of visits
    catalogs: dict[int, Catalog] = {}  # by year: the catalog only changes with the year
    line_memo: dict[LineSignature, tuple[tuple[str, str, str], ...]] = {}  # line_signature -> what the line rules say
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
        except DamagedStore as e:  # only the lines of the damaged release's dates
            out[ln.index].append(Finding(ln.index, ERROR, "DATA-DAMAGED", str(e)))
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
    # The unit checks of every visit at once (their kernel runs once over the log); the loop below
    # takes each visit's findings and services in turn. They read no dated release, so cannot
    # fail for a visit's date: the visit's try below does not need to hold them.
    unit_visits = []
    for (_, dos, _), vlines in visits.items():
        payer = vlines[0].payer
        m = method_of.get(payer)
        if m is None:
            m = method_of[payer] = unit_method(payer, method)
        medicare = medicare_of[payer]
        unit_visits.append((vlines, m, catalogs[dos.year], medicare,
                            assistant_modifiers.untimed_keeper if medicare else None))
    unit_results = iter(unit_log_findings(unit_visits))
    for (_, dos, _), vlines in visits.items():
        payer = vlines[0].payer  # every line of the visit has this payer, up to case and spaces
        medicare = medicare_of[payer]
        catalog = catalogs[dos.year]
        m = method_of.get(payer)
        if m is None:
            m = method_of[payer] = unit_method(payer, method)
        found: list[Finding] = []
        unit_found, services = next(unit_results)  # services billed right in total: their CQ/CO split is checked next
        try:
            found += unit_found
            if medicare and services:
                found += assistant_modifiers.split_findings(services, dos)
            found += evaluations.evaluation_findings(vlines)
            for visit_rule in (_ptp_findings, mue.mue_findings):
                try:
                    found += visit_rule(vlines, dos)
                except DamagedStore as e:  # the visit's lines say so; other visits are checked
                    found += [Finding(ln.index, ERROR, "DATA-DAMAGED", str(e)) for ln in vlines]
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


def _finding_order(f: Finding) -> tuple[int, str]:
    return (_SEVERITY_ORDER.get(f.severity, 9), f.rule)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """A row's findings in the order PT_VALIDATE shows them: errors first, then by rule ID."""
    return sorted(findings, key=_finding_order)


def check_text(findings: list[Finding]) -> str:
    """The text PT_VALIDATE puts in a row: OK, or the findings joined by '; '."""
    return "; ".join(str(f) for f in findings) if findings else "OK"
