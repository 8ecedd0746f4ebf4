"""Therapy evaluations and re-evaluations (97161-97168).

References:
- CPT 2017 PT/OT evaluation codes as adopted by CMS (CY2017 PFS final rule):
  PT evaluation 97161-97163 and re-evaluation 97164; OT evaluation
  97165-97167 and re-evaluation 97168.
- therapy-billing-rules.md section 8: evaluations are one per day; a PT
  evaluation and a PT re-evaluation on the same day are contradictory.

Counted per discipline: a PT and an OT evaluation of one patient on one day
belong to two plans of care and are both billable.
"""
from __future__ import annotations

from collections.abc import Iterable

from .claim_lines import ClaimLine
from .findings import ERROR, Finding

RULES = {
    "EVAL-MULTIPLE": (ERROR, "More than one evaluation of one discipline in a visit."),
    "EVAL-AND-REEVAL": (ERROR, "An evaluation and a re-evaluation of the same discipline on one day."),
}

EVALUATIONS = {"97161": "PT", "97162": "PT", "97163": "PT", "97165": "OT", "97166": "OT", "97167": "OT"}
REEVALUATIONS = {"97164": "PT", "97168": "OT"}


def evaluation_findings(visit_lines: Iterable[ClaimLine]) -> list[Finding]:
    """One evaluation per discipline per visit, and never with that discipline's re-evaluation."""
    out = []
    first: dict[tuple[str, bool], ClaimLine] = {}  # (discipline, is re-evaluation) -> first such line
    for ln in visit_lines:
        reeval = ln.code in REEVALUATIONS
        d = REEVALUATIONS.get(ln.code) or EVALUATIONS.get(ln.code)
        if d is None:
            continue
        earlier = first.setdefault((d, reeval), ln)
        if earlier is not ln:
            what = f"{d} re-evaluation in the visit" if reeval else f"{d} evaluation in the visit (also {earlier.code})"
            out.append(Finding(ln.index, ERROR, "EVAL-MULTIPLE", f"second {what} — bill one"))
    for (d, reeval), re_ln in first.items():
        if reeval and (d, False) in first:
            out.append(Finding(re_ln.index, ERROR, "EVAL-AND-REEVAL",
                               f"{re_ln.code} re-evaluation with {first[(d, False)].code} evaluation the same day — "
                               "bill the evaluation only"))
    return out
