"""Who may bill outpatient therapy: qualified professionals and group therapy.

References:
- 42 CFR 410.59-410.62 and CMS Pub. 100-02 ch.15 §220-230: Medicare pays
  outpatient therapy furnished by or under qualified PT/OT/SLP professionals,
  and by physicians/NPPs within their benefit.
- CMS Pub. 100-02 ch.15 §240: chiropractors are paid only for spinal
  manipulation (98940-98942); therapy services they furnish are not covered.
- Massage therapists and athletic trainers are not qualified therapy providers
  for Medicare (therapy-billing-rules.md section 9); commercial payers differ.
- CMS Pub. 100-02 ch.15 §230.1: group therapy (97150) is per patient per
  session, two or more patients, constant attendance.
"""
from __future__ import annotations

from .claim_lines import PROVIDERS, ClaimLine, provider_credentials, provider_discipline
from .code_catalog import CodeInfo
from .findings import ERROR, WARN, Finding

RULES = {
    "PROVIDER-CHIRO": (ERROR, "Medicare: a chiropractor billing therapy codes (only 98940-98942 are covered)."),
    "PROVIDER-UNQUALIFIED": (ERROR, "A massage therapist or athletic trainer as provider (WARN for non-Medicare payers)."),
    "PROVIDER-UNKNOWN": (WARN, "The provider cell has no credential ptbilling recognises (or two kinds): the "
                               "line's assistant (CQ/CO) and discipline rules could not be checked."),
}

CHIRO_COVERED = {"98940", "98941", "98942"}


def provider_findings(line: ClaimLine, info: CodeInfo, medicare: bool) -> list[Finding]:
    """The provider may furnish this code for this payer."""
    discipline, _ = provider_discipline(line.provider)
    if discipline is None:
        # Never a silent OK: without the credential, whether an assistant furnished the line
        # (CQ/CO, 42 CFR 410.59/410.60) and which G-modifier fits cannot be judged.
        known = ", ".join(sorted(k for k in PROVIDERS if len(k) <= 4))
        several = provider_credentials(line.provider)
        why = (f"names credentials of different kinds ({', '.join(several)})" if len(several) > 1
               else "has no credential ptbilling knows")
        return [Finding(line.index, WARN, "PROVIDER-UNKNOWN",
                        f"provider {line.provider or '(blank)'!r} {why}, so the CQ/CO assistant rules were not checked "
                        f"— write the credential (e.g. 'Jane Doe, PTA'): {known}")]
    if discipline == "DC" and medicare and info.code not in CHIRO_COVERED and info.therapy != "never":
        return [Finding(line.index, ERROR, "PROVIDER-CHIRO",
                        f"Medicare does not pay a chiropractor for {info.code} — only 98940-98942")]
    if discipline in ("LMT", "ATC"):
        who = "a massage therapist" if discipline == "LMT" else "an athletic trainer"
        if medicare:
            return [Finding(line.index, ERROR, "PROVIDER-UNQUALIFIED",
                            f"{who} is not a qualified therapy provider for Medicare — bill under the treating PT/OT")]
        return [Finding(line.index, WARN, "PROVIDER-UNQUALIFIED",
                        f"{who} as provider — check the payer accepts {line.provider} for {info.code}")]
    return []
