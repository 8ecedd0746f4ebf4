"""The per-visit CQ/CO split check as it was before ``assistant_modifiers.log_split_findings`` (the
oracle of tests/test_equivalence_visits.py): every service of the visit split afresh."""
from __future__ import annotations

import datetime as dt

from ptbilling.rules.assistant_modifiers import service_split
from ptbilling.rules.assistant_split import era_for
from ptbilling.rules.claim_lines import ClaimLine
from ptbilling.rules.findings import ERROR, Finding, describe_line
from ptbilling.rules.service_units import Services


def split_findings(services: Services[ClaimLine], dos: dt.date) -> list[Finding]:
    """For each service billed right in total (code, or (code, k) for the k-th application of a
    per-application code, -> (lines, units, timed)): its CQ/CO units are the split's."""
    if era_for(dos) is None:
        return []
    out = []
    for lines, units, timed in services.values():  # keyed by code, or (code, k) for a further application
        code = lines[0].code
        got = service_split(code, lines, units, timed)
        if got is None:
            continue
        split, flagged, plain = got
        mod = split.modifier
        billed_a = sum(ln.units or 0 for ln in flagged)
        if billed_a == split.assistant_units:
            continue
        why = split.explain()
        if not flagged:
            target = next((ln for ln in lines if ln.assistant_minutes), lines[0])
            fix = (f"bill {split.assistant_units} with {mod} and {split.therapist_units} without, on two lines"
                   if split.therapist_units else f"add {mod}")
            out.append(Finding(target.index, ERROR, "ASSIST-MISSING", f"{why} — {fix}"))
            continue
        a_ln = flagged[0]
        if plain:
            fix = (f"bill {split.assistant_units} on the {mod} line ({describe_line(a_ln)}) and "
                   f"{split.therapist_units} on the line without ({describe_line(plain[0])})")
        elif split.assistant_units == 0:
            fix = f"remove {mod}: no unit of it is the assistant's"
        else:
            fix = (f"bill {split.assistant_units} with {mod} on this line and {split.therapist_units} "
                   f"on a second {code} line without {mod}")
        out.append(Finding(a_ln.index, ERROR, "UNITS-ASSISTANT-SPLIT",
                           f"{why}; billed {billed_a} {mod} + {units - billed_a} without — {fix}"))
    return out
