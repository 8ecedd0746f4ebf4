"""The whole-log unit kernel (``service_units.log_code_units``) and everything built on it give exactly
the answers of the scalar per-visit code it replaced (``tests/oracle/service_units.py``), on many
seeded random logs: ties, repeated codes, unnamed services, CMS and AMA mixed, huge and tiny minutes."""
from __future__ import annotations

import random

import pytest

from oracle import service_units as oracle
from ptbilling.rules.service_units import AMA, CMS, code_units, log_code_units

TIMED = ["97110", "97112", "97116", "97140", "97530", "97035", "97032", "97535"]
SEEDS = range(40)


def _random_totals(rnd: random.Random) -> dict[object, int]:
    """One visit's timed totals: codes and unnamed services (int keys), minutes built to tie often."""
    totals: dict[object, int] = {}
    for k in range(rnd.choice((1, 1, 2, 2, 3, 4, 6, 9))):
        key: object = rnd.choice(TIMED) if rnd.random() < 0.8 else k  # an unnamed line is its own service
        if rnd.random() < 0.5:
            m = 15 * rnd.randint(0, 3) + rnd.choice((0, 7, 8, 14, 1))  # leftovers at the chart's edges
        else:
            m = rnd.randint(0, 90)
        totals[key] = totals.get(key, 0) + m
    return totals


@pytest.mark.parametrize("seed", SEEDS)
def test_code_units_is_the_oracle_on_one_visit(seed):
    rnd = random.Random(seed)
    for _ in range(300):
        totals = _random_totals(rnd)
        for method in (CMS, AMA, "other"):
            assert code_units(totals, method) == oracle.code_units(totals, method), (totals, method)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_kernel_over_a_whole_log_is_the_oracle_visit_by_visit(seed):
    rnd = random.Random(1000 + seed)
    visits = [(_random_totals(rnd), rnd.choice((CMS, AMA))) for _ in range(rnd.randint(200, 600))]
    visits += [({}, CMS), ({}, AMA)]  # a visit with no timed service has no entries
    rnd.shuffle(visits)
    bounds, minutes, names, cms = [0], [], [], []
    for totals, method in visits:
        minutes += totals.values()
        names += [k if isinstance(k, str) else "" for k in totals]
        bounds.append(len(minutes))
        cms.append(method == CMS)
    got = log_code_units(bounds, minutes, names, cms)
    assert len(got) == len(minutes)
    for v, (totals, method) in enumerate(visits):
        want = oracle.code_units(totals, method)
        assert got[bounds[v]:bounds[v + 1]] == list(want.values()), (totals, method)


def test_ties_at_the_cut_go_by_total_minutes_then_the_lower_code_then_the_earlier_unnamed():
    """97112 20 + 97110 20 = 40 min (the manual's example 2): the lower code; then two unnamed services."""
    assert log_code_units([0, 2, 4, 7, 9], [20, 20, 20, 20, 20, 20, 5, 20, 20],
                          ["97112", "97110", "", "", "97530", "97110", "97140", "97112", "97110"],
                          [True, True, True, False]) == [1, 2, 2, 1, 1, 2, 0, 1, 1]
