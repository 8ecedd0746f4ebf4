"""Medicare payment status of a code (PFS status indicators) and unlisted codes.

References:
- CMS PFS Relative Value File (PPRRVU), STATUS CODE column, and its file
  documentation (RVUyy "Status code" definitions: A active, B bundled, C
  carrier-priced, I not valid for Medicare, N non-covered, R restricted).
- therapy-billing-rules.md section 3: 97010 is B (never paid separately; the
  patient cannot be billed), 97014 is I (Medicare requires G0283), 97026 is R,
  97169-97172 are N, 97039/97139/97799 are unlisted (status C).
"""
from __future__ import annotations

from .claim_lines import ClaimLine
from .code_catalog import CodeInfo
from .findings import ERROR, WARN, Finding

RULES = {
    "CODE-UNKNOWN": (ERROR, "The code is not in the catalog (typo, or not a therapy code)."),
    "CODE-BUNDLED": (ERROR, "Medicare status B (e.g. 97010): never paid separately; the patient cannot be billed."),
    "CODE-INVALID": (ERROR, "Medicare status I (e.g. 97014): not valid for Medicare; 97014 must be billed as G0283."),
    "CODE-NONCOVERED": (ERROR, "Medicare status N (e.g. 97169-97172): not covered by Medicare."),
    "CODE-RESTRICTED": (WARN, "Medicare status R (e.g. 97026): restricted coverage; check the MAC's policy."),
    "CODE-UNLISTED": (WARN, "Unlisted code (97039, 97139, 97799): needs a description/report with the claim."),
}

UNLISTED = {"97039", "97139", "97799"}


def status_findings(line: ClaimLine, info: CodeInfo, medicare: bool) -> list[Finding]:
    """Findings from the code's Medicare payment status (Medicare payers only) and unlisted codes."""
    out = []
    if info.code in UNLISTED:
        out.append(Finding(line.index, WARN, "CODE-UNLISTED",
                           f"{info.code} is an unlisted code — attach a description of the service"))
    if not medicare:
        return out
    s = info.status
    if s == "B":
        out.append(Finding(line.index, ERROR, "CODE-BUNDLED",
                           f"{info.code} is bundled (status B): Medicare never pays it and the patient "
                           "cannot be billed — remove the line"))
    elif s == "I":
        fix = "bill G0283 instead" if info.code == "97014" else "use the Medicare HCPCS code instead"
        out.append(Finding(line.index, ERROR, "CODE-INVALID",
                           f"{info.code} is not valid for Medicare (status I) — {fix}"))
    elif s == "N":
        out.append(Finding(line.index, ERROR, "CODE-NONCOVERED",
                           f"{info.code} is not covered by Medicare (status N) — do not bill Medicare; "
                           "an ABN is needed to bill the patient"))
    elif s == "R":
        out.append(Finding(line.index, WARN, "CODE-RESTRICTED",
                           f"{info.code} has restricted Medicare coverage (status R) — check the MAC's policy"))
    return out
