"""The scalar unit rule as it was before ``service_units.log_code_units`` (the whole-log kernel):
``code_units`` ran once per visit. Kept only as the oracle of ``tests/test_equivalence_units.py``.

CMS Pub. 100-04 ch.5 §20.2 (the 8-minute rule, its chart and leftover units); the CPT midpoint rule
per code (AMA). The tie rule: most leftover minutes, then more total minutes, then the lower code.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from ptbilling.rules.service_units import CMS

K = TypeVar("K", bound=Hashable)


def _tie_key(key: K, totals: Mapping[K, int]) -> tuple[int, int, str]:
    """Ranking for leftover units: most leftover, then more total minutes, then the lower code."""
    m = totals[key]
    return (-(m % 15), -m, key if isinstance(key, str) else "")


def code_units(totals: Mapping[K, int], method: str) -> dict[K, int]:
    """THE unit rule: timed minutes per code of one visit -> units per code.

    CMS: the chart for the visit's total; one unit per whole 15 minutes of each
    code; the remaining units one each to the codes with the most leftover
    minutes (tie rule in ``_tie_key``). AMA: each code on its own. Keys are
    codes (or any hashable for unnamed services); values whole minutes.
    """
    if method != CMS:
        return {k: (m + 7) // 15 if m >= 8 else 0 for k, m in totals.items()}
    units: dict[K, int] = {}
    whole_sum = total = 0
    for k, m in totals.items():
        w = m // 15
        units[k] = w
        whole_sum += w
        total += m
    remaining = ((total + 7) // 15 if total >= 8 else 0) - whole_sum  # never negative
    if remaining > 0:
        ranked = sorted((k for k, m in totals.items() if m % 15), key=lambda k: _tie_key(k, totals))
        for k in ranked[:remaining]:
            units[k] += 1
    return units
