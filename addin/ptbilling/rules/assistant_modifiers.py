"""Therapy assistant modifiers CQ (PTA) and CO (OTA).

References:
- CMS, "Billing Examples Using CQ/CO Modifiers for Services Furnished In Whole
  or In Part by PTAs and OTAs": CQ/CO are required on claims from 1 January
  2020; CQ goes with GP and CO with GO.
- 42 CFR 410.59/410.60 and the CY2020-2022 PFS final rules: the de minimis
  standard — the modifier applies when the assistant furnishes more than 10% of
  a service, tested per 15-minute unit of a timed code and per untimed service;
  CQ/CO lines are paid at 85% from 2022 (see fee_schedule).
- APTA quick guide on the de minimis standard (only the assistant's independent
  minutes count); therapy-billing-rules.md section 5.
"""
from __future__ import annotations

import datetime as dt

from .claim_lines import THERAPISTS, ClaimLine, provider_discipline, with_article
from .code_catalog import CodeInfo
from .findings import ERROR, WARN, Finding

RULES = {
    "ASSIST-MISSING": (ERROR, "A PTA/OTA line, or one whose Assistant Minutes exceed 10% of a unit, lacks CQ/CO (from 2020)."),
    "ASSIST-MISMATCH": (ERROR, "CQ with GO, or CO with GP."),
    "ASSIST-NOT-ASSISTANT": (ERROR, "CQ/CO on a line the therapist furnished wholly (WARN when the log has no Assistant Minutes)."),
}

CQ_CO_FROM = dt.date(2020, 1, 1)
DE_MINIMIS = 0.10  # more than 10% of a service
UNIT_MINUTES = 15


def assistant_share_exceeds_de_minimis(info: CodeInfo, line: ClaimLine) -> bool:
    """More than 10% of a unit (timed: of 15 minutes) or of the untimed service."""
    a = line.assistant_minutes or 0
    if a <= 0:
        return False
    if info.timed:
        return a > DE_MINIMIS * UNIT_MINUTES
    return bool(line.minutes) and a > DE_MINIMIS * line.minutes


def assistant_findings(line: ClaimLine, info: CodeInfo, medicare: bool) -> list[Finding]:
    """CQ/CO present when an assistant took part, absent when not, and paired with the right G-modifier."""
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
    want = "CO" if (discipline == "OT" or "GO" in line.modifiers) else "CQ"
    if assistant:
        out.append(Finding(line.index, ERROR, "ASSIST-MISSING",
                           f"furnished by {with_article(line.provider)} — add {want}"))
    elif assistant_share_exceeds_de_minimis(info, line):
        out.append(Finding(line.index, ERROR, "ASSIST-MISSING",
                           f"{line.assistant_minutes} assistant min is over 10% of "
                           f"{'a 15-min unit' if info.timed else 'the service'} — add {want}"))
    return out
