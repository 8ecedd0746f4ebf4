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

from .findings import ERROR, Finding

RULES = {
    "EVAL-MULTIPLE": (ERROR, "More than one evaluation of one discipline in a visit."),
    "EVAL-AND-REEVAL": (ERROR, "An evaluation and a re-evaluation of the same discipline on one day."),
}

EVALUATIONS = {"97161": "PT", "97162": "PT", "97163": "PT", "97165": "OT", "97166": "OT", "97167": "OT"}
REEVALUATIONS = {"97164": "PT", "97168": "OT"}


def evaluation_findings(visit_lines) -> list[Finding]:
    """One evaluation per discipline per visit, and never with that discipline's re-evaluation."""
    out = []
    first_eval: dict[str, object] = {}
    first_reeval: dict[str, object] = {}
    for ln in visit_lines:
        if ln.code in EVALUATIONS:
            d = EVALUATIONS[ln.code]
            if d in first_eval:
                out.append(Finding(ln.index, ERROR, "EVAL-MULTIPLE",
                                   f"second {d} evaluation in the visit (also {first_eval[d].code}) — bill one"))
            else:
                first_eval[d] = ln
        elif ln.code in REEVALUATIONS:
            d = REEVALUATIONS[ln.code]
            if d in first_reeval:
                out.append(Finding(ln.index, ERROR, "EVAL-MULTIPLE",
                                   f"second {d} re-evaluation in the visit — bill one"))
            else:
                first_reeval[d] = ln
    for d, re_ln in first_reeval.items():
        if d in first_eval:
            out.append(Finding(re_ln.index, ERROR, "EVAL-AND-REEVAL",
                               f"{re_ln.code} re-evaluation with {first_eval[d].code} evaluation the same day — "
                               "bill the evaluation only"))
    return out
