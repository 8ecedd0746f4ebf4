"""Therapy assistant modifiers CQ (PTA) and CO (OTA).

References:
- CMS, "Billing Examples Using CQ/CO Modifiers for Services Furnished In Whole
  or In Part by PTAs and OTAs": CQ/CO are required on claims from 1 January
  2020; CQ goes with GP and CO with GO.
- 42 CFR 410.59(a)(4)/410.60(a)(4) and the CY 2022 PFS final rule (86 FR
  65169-65177): which units of a service take the modifier, the de minimis
  standard and the last-unit and two-unit rules (``assistant_split``); CQ/CO
  lines are paid at 85% from 2022 (see fee_schedule).
- APTA quick guide on the de minimis standard (only the assistant's independent
  minutes count); therapy-billing-rules.md section 5.

The line rules (``assistant_findings``) look at one line; ``split_findings``
looks at a service of a visit whose units are right in total and checks how
they divide between CQ/CO and no modifier, with the same ``assistant_split``
that ``PT_UNITS`` uses. A service's assistant minutes: a line's Assistant
Minutes when given (the assistant's independent minutes within it); else all
of a PTA/OTA or CQ/CO line's minutes; else none.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from operator import itemgetter

from .assistant_split import Split, era_for, modifiers_from, split_timed, split_untimed
from .claim_lines import PROVIDERS, THERAPISTS, ClaimLine, provider_discipline, with_article
from .code_catalog import CodeInfo
from .findings import ERROR, WARN, Finding, describe_line
from .service_units import Services

RULES = {
    "ASSIST-MISSING": (ERROR, "From 2020: a PTA/OTA line without CQ/CO, or a service whose assistant's share (from Assistant Minutes) gives CQ/CO units billed with none."),
    "ASSIST-MISMATCH": (ERROR, "CQ with GO, or CO with GP."),
    "ASSIST-NOT-ASSISTANT": (ERROR, "CQ/CO on a line the therapist furnished wholly (WARN when the log has no Assistant Minutes)."),
    "UNITS-ASSISTANT-SPLIT": (ERROR, "Medicare, from 2020: a service's units are right in total but divided between CQ/CO and no modifier otherwise than the dated rule (42 CFR 410.59/410.60(a)(4) from 2022, CMS's March 2021 guidance before) divides them."),
}

CQ_CO_FROM = modifiers_from()


def assistant_findings(line: ClaimLine, info: CodeInfo, medicare: bool) -> list[Finding]:
    """CQ/CO present when an assistant furnished the line, absent when not, and paired with the right G-modifier."""
    if not medicare or line.dos < CQ_CO_FROM:
        return []
    discipline, assistant = provider_discipline(line.provider)
    has_cq, has_co = "CQ" in line.modifiers, "CO" in line.modifiers
    out = []
    if has_cq and "GO" in line.modifiers:
        out.append(Finding(line.index, ERROR, "ASSIST-MISMATCH", "CQ (PTA) with GO — use CO with GO, or CQ with GP"))
    if has_co and "GP" in line.modifiers:
        out.append(Finding(line.index, ERROR, "ASSIST-MISMATCH", "CO (OTA) with GP — use CQ with GP, or CO with GO"))
    if has_cq or has_co:
        if discipline in THERAPISTS and not assistant:
            if line.has_assistant_column and not line.assistant_minutes:
                out.append(Finding(line.index, ERROR, "ASSIST-NOT-ASSISTANT",
                                   f"{'CQ' if has_cq else 'CO'} but the {line.provider} furnished it wholly "
                                   "(no assistant minutes) — remove it"))
            elif not line.has_assistant_column:
                out.append(Finding(line.index, WARN, "ASSIST-NOT-ASSISTANT",
                                   f"{'CQ' if has_cq else 'CO'} on {with_article(line.provider)} line — add Assistant Minutes "
                                   "to show the assistant's part, or remove it"))
        return out
    if info.therapy == "never":
        return out
    if assistant:
        want = "CO" if (discipline == "OT" or "GO" in line.modifiers) else "CQ"
        out.append(Finding(line.index, ERROR, "ASSIST-MISSING", f"furnished by {with_article(line.provider)} — add {want}"))
    return out


_ASSISTANT_CREDENTIALS = frozenset(k for k, (_, assistant) in PROVIDERS.items() if assistant)


def _flagged(ln: ClaimLine) -> bool:
    return "CQ" in ln.modifiers or "CO" in ln.modifiers


def _line_rule_pending(ln: ClaimLine) -> bool:
    """A line rule above already reports this line's CQ/CO (missing on a PTA/OTA line, or on a therapist's
    line with no assistant minutes): the split of its service is checked once that is fixed."""
    discipline, assistant = provider_discipline(ln.provider)
    if assistant and not _flagged(ln):
        return True
    return (_flagged(ln) and discipline in THERAPISTS and not assistant
            and ln.has_assistant_column and not ln.assistant_minutes)


def assistant_took_part(ln: ClaimLine) -> bool:
    """Whether the line can make its service one an assistant took part in: Assistant Minutes, CQ/CO,
    or a PTA/OTA. ``service_split`` is None for a service none of whose lines can, so a visit without
    such a line has no CQ/CO split to check (``validate`` screens visits with it)."""
    return bool(ln.assistant_minutes) or _flagged(ln) or ln.provider.replace(" ", "") in _ASSISTANT_CREDENTIALS


def service_split(code: str, lines: list[ClaimLine], units: int,
                  timed: bool) -> tuple[Split, list[ClaimLine], list[ClaimLine]] | None:
    """The split of one service of a visit from its lines, with its CQ/CO lines and its other lines.

    None when no assistant took part, or a line rule already reports the lines' CQ/CO.
    """
    a_min = total = 0
    flagged: list[ClaimLine] = []
    plain: list[ClaimLine] = []
    assistant_line = False
    for ln in lines:
        m = ln.minutes or 0
        total += m
        f = "CQ" in ln.modifiers or "CO" in ln.modifiers
        assistant = ln.provider.replace(" ", "") in _ASSISTANT_CREDENTIALS  # as provider_discipline reads it
        if ln.assistant_minutes is not None:
            a_min += ln.assistant_minutes
        elif f or assistant:
            a_min += m
        assistant_line = assistant_line or f or assistant
        (flagged if f else plain).append(ln)
    if not a_min and not assistant_line:
        return None
    if any(_line_rule_pending(ln) for ln in lines):
        return None
    modifier = "CO" if any(ln.has("CO", "GO") for ln in lines) else "CQ"
    dos = lines[0].dos
    if timed:
        split = split_timed(code, a_min, total - a_min, units, dos, modifier)
    else:
        split = split_untimed(code, a_min, total - a_min, dos, modifier, assistant_line)
    return split, flagged, plain


def split_findings(services: Services[ClaimLine], dos: dt.date) -> list[Finding]:
    """For each service billed right in total (code, or (code, k) for the k-th application of a
    per-application code, -> (lines, units, timed)): its CQ/CO units are the split's.
    ``log_split_findings`` on one visit."""
    return log_split_findings([(services, dos)])


#: what the split of a service reads of each of its lines: everything but the line's position
_SPLIT_FACTS = itemgetter(*(ClaimLine._fields.index(name) for name in (
    "code", "provider", "modifiers", "minutes", "units", "assistant_minutes", "has_assistant_column")))
#: a service's findings without its lines' positions: (which of its lines, rule, message)
_Said = tuple[tuple[int, str, str], ...]


def log_split_findings(visits: Iterable[tuple[Services[ClaimLine], dt.date]]) -> list[Finding]:
    """``split_findings`` for many visits ((services, date of service) each) at once.

    A log's assisted services come in a few shapes (one PTA line of 97110, 23 minutes, 2 units, GP
    CQ): each shape is split once, for the dated rule in force (``era_for``, the only way the date
    enters), and its findings are put on the lines of every service of that shape."""
    memo: dict[tuple[object, ...], _Said] = {}
    out: list[Finding] = []
    for services, dos in visits:
        era = era_for(dos)
        if era is None:
            continue
        for lines, units, timed in services.values():  # keyed by code, or (code, k) for a further application
            key = (era, units, timed, *map(_SPLIT_FACTS, lines))
            said = memo.get(key)
            if said is None:
                said = memo[key] = _service_findings(lines, units, timed)
            for at, rule, message in said:
                out.append(Finding(lines[at].index, ERROR, rule, message))
    return out


def _service_findings(lines: list[ClaimLine], units: int, timed: bool) -> _Said:
    code = lines[0].code
    got = service_split(code, lines, units, timed)
    if got is None:
        return ()
    split, flagged, plain = got
    mod = split.modifier
    billed_a = sum(ln.units or 0 for ln in flagged)
    if billed_a == split.assistant_units:
        return ()
    why = split.explain()
    if not flagged:
        target = next((k for k, ln in enumerate(lines) if ln.assistant_minutes), 0)
        fix = (f"bill {split.assistant_units} with {mod} and {split.therapist_units} without, on two lines"
               if split.therapist_units else f"add {mod}")
        return ((target, "ASSIST-MISSING", f"{why} — {fix}"),)
    a_ln = flagged[0]
    if plain:
        fix = (f"bill {split.assistant_units} on the {mod} line ({describe_line(a_ln)}) and "
               f"{split.therapist_units} on the line without ({describe_line(plain[0])})")
    elif split.assistant_units == 0:
        fix = f"remove {mod}: no unit of it is the assistant's"
    else:
        fix = (f"bill {split.assistant_units} with {mod} on this line and {split.therapist_units} "
               f"on a second {code} line without {mod}")
    at = next(k for k, ln in enumerate(lines) if ln is a_ln)
    return ((at, "UNITS-ASSISTANT-SPLIT", f"{why}; billed {billed_a} {mod} + {units - billed_a} without — {fix}"),)


def untimed_keeper(code: str, lines: list[ClaimLine], billed: list[ClaimLine]) -> tuple[ClaimLine, Split] | None:
    """Of the lines billing an untimed service twice, the one that should carry its one unit
    (the CQ/CO line when the assistant's part passes de minimis), with the split that says so."""
    if era_for(lines[0].dos) is None:
        return None
    got = service_split(code, lines, 1, False)
    if got is None:
        return None
    split, flagged, plain = got
    pool = flagged if split.assistant_units else plain
    keep = next((ln for ln in billed if any(ln is p for p in pool)), billed[0])
    return keep, split
