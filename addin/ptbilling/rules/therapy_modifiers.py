"""Therapy modifiers GP, GO and GN.

References:
- CMS Pub. 100-04 ch.5 §20.1 and the Annual Therapy Update code list: every
  line of an "always therapy" code needs exactly one of GP (PT plan of care),
  GO (OT) or GN (SLP); "sometimes therapy" codes need one when furnished under
  a therapy plan of care, and physicians/NPPs may bill them without.
- therapy-billing-rules.md section 4: the modifier must match the discipline
  (OT evaluations 97165-97168 take GO, PT evaluations 97161-97164 GP, 92507 GN).
"""
from __future__ import annotations

from .claim_lines import THERAPISTS, ClaimLine, provider_discipline, with_article
from .code_catalog import CodeInfo
from .findings import ERROR, Finding

RULES = {
    "MOD-THERAPY-MISSING": (ERROR, "A Medicare line of an always-therapy code (or any code from a therapist) without GP, GO or GN."),
    "MOD-THERAPY-MULTIPLE": (ERROR, "More than one of GP, GO, GN on one line."),
    "MOD-DISCIPLINE": (ERROR, "The therapy modifier does not fit the code's discipline or the provider's (OT code with GP, PTA with GO...)."),
}

MODIFIER_FOR = {"PT": "GP", "OT": "GO", "SLP": "GN"}
DISCIPLINE_OF = {v: k for k, v in MODIFIER_FOR.items()}


def therapy_modifier_findings(line: ClaimLine, info: CodeInfo, medicare: bool) -> list[Finding]:
    """GP/GO/GN: present exactly once on Medicare therapy lines, and matching code and provider."""
    present = [m for m in line.modifiers if m in DISCIPLINE_OF]
    discipline, _ = provider_discipline(line.provider)
    expected = MODIFIER_FOR.get(info.discipline) or MODIFIER_FOR.get(discipline or "")
    out = []
    if len(present) > 1:
        out.append(Finding(line.index, ERROR, "MOD-THERAPY-MULTIPLE",
                           f"{'+'.join(present)} on one line — keep only {expected or 'the one for the plan of care'}"))
        return out
    needs = info.therapy == "always" or (info.therapy == "sometimes" and discipline in THERAPISTS)
    if not present:
        if medicare and needs:
            out.append(Finding(line.index, ERROR, "MOD-THERAPY-MISSING",
                               f"{info.code} needs a therapy modifier for Medicare — add {expected or 'GP, GO or GN'}"))
        return out
    mod = present[0]
    if info.discipline in MODIFIER_FOR and mod != MODIFIER_FOR[info.discipline]:
        out.append(Finding(line.index, ERROR, "MOD-DISCIPLINE",
                           f"{info.code} is for {info.discipline} but has {mod} — use {MODIFIER_FOR[info.discipline]}"))
    elif discipline in MODIFIER_FOR and mod != MODIFIER_FOR[discipline]:
        out.append(Finding(line.index, ERROR, "MOD-DISCIPLINE",
                           f"{mod} does not fit {with_article(line.provider)} — use {MODIFIER_FOR[discipline]} "
                           f"or correct the provider"))
    return out
