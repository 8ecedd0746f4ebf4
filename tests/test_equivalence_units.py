"""The whole-log unit kernel (``service_units.log_code_units``) and everything built on it give exactly
the answers of the scalar per-visit code it replaced (``tests/oracle/service_units.py``), on many
seeded random logs: ties, repeated codes, unnamed services, CMS and AMA mixed, huge and tiny minutes."""
from __future__ import annotations

import datetime as dt
import random

import pytest

from oracle import service_units as oracle
from ptbilling.rules.assistant_modifiers import untimed_keeper
from ptbilling.rules.claim_lines import ClaimLine
from ptbilling.rules.code_catalog import catalog_for
from ptbilling.rules.per_application import site_of
from ptbilling.rules.service_units import (
    AMA,
    CMS,
    LineProblem,
    _log_units,
    code_units,
    log_code_units,
    unit_findings,
    unit_log_findings,
)

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


# --- PT_UNITS over a whole log: _log_units, the kernel run once ------------------------------

UNTIMED = ["97010", "97161", "97150", "G0283", "97012"]
STRAPPING = ["29530", "29540", "29240"]
SITE_MODS = [(), ("RT",), ("LT",), ("59",), ("50",), ("XS",), ("RT", "59"), ("F1",), ("T2",)]
DAYS = [dt.date(2019, 6, 3), dt.date(2020, 7, 1), dt.date(2021, 4, 18), dt.date(2021, 4, 19),
        dt.date(2022, 1, 1), dt.date(2025, 3, 3), dt.date(2026, 2, 2)]


def _minutes_cell(rnd: random.Random) -> object:
    r = rnd.random()
    if r < 0.55:
        return float(rnd.choice((rnd.randint(0, 60), 15 * rnd.randint(0, 4) + rnd.choice((7, 8, 14)))))
    if r < 0.7:
        return rnd.randint(0, 45)
    if r < 0.8:
        return None
    if r < 0.9:
        return str(rnd.randint(0, 40))
    if r < 0.91:
        return rnd.choice((700.0, 1000, 1440))  # a visit over 24 hours, a line of exactly one day
    return rnd.choice(("x", -5, 12.5, True, float("nan"), 1441, " ", "  20 "))


def _code_cell(rnd: random.Random) -> object:
    r = rnd.random()
    if r < 0.6:
        c = rnd.choice(TIMED[:5])
        return float(c) if rnd.random() < 0.5 else c
    if r < 0.72:
        return rnd.choice(UNTIMED)
    if r < 0.82:
        return rnd.choice(STRAPPING)
    if r < 0.95:
        return None  # an unnamed timed service
    return rnd.choice(("97111", "97545", "92507", " 97110 ", "g0283", True, "97153"))


def _random_log(rnd: random.Random, n_visits: int):
    """Columns as the front doors hand them: raw minutes, codes, visit keys, flags, assistant
    minutes, dates and sites; visits of 1-8 lines, some split across the log, keys as typed."""
    rows = []
    for v in range(n_visits):
        key: object = rnd.choice((f"P{v}|45931", float(v), v))
        day: object = rnd.choice(DAYS)
        if rnd.random() < 0.03:
            day = LineProblem("the date cannot be read")
        elif rnd.random() < 0.03:
            day = None
        for _ in range(rnd.choice((1, 2, 2, 3, 3, 4, 5, 8))):
            shown = key
            if isinstance(key, str) and rnd.random() < 0.2:
                shown = rnd.choice((key.upper() + " ", " " + key.lower()))
            elif rnd.random() < 0.02:
                shown = rnd.choice((None, "  "))  # no visit key: a LineProblem on the line
            flag = rnd.choice((None, None, None, "CQ", "CO", True, "GO", "GP"))
            asst: object = rnd.choice((None, ""))  # a blank cell, as None or as the empty text a sheet gives
            if rnd.random() < 0.15:
                asst = rnd.choice((rnd.randint(0, 30), float(rnd.randint(0, 30)), "x", 99, " 12 ", "  ", 12.5))
            rows.append((_minutes_cell(rnd), _code_cell(rnd), shown, flag, asst, day,
                         site_of(rnd.choice(SITE_MODS))))
    rnd.shuffle(rows) if rnd.random() < 0.5 else None  # a log not sorted by visit
    return [list(col) for col in zip(*rows)]


def _same(a: list[object], b: list[object]) -> bool:
    """Units per line, with a LineProblem compared by its message."""
    norm = lambda xs: [(type(x).__name__, str(x)) if isinstance(x, Exception) else x for x in xs]  # noqa: E731
    return norm(a) == norm(b)


@pytest.mark.parametrize("seed", SEEDS)
def test_log_units_is_the_per_visit_oracle(seed):
    rnd = random.Random(2000 + seed)
    minutes, codes, keys, flags, asst, days, sites = _random_log(rnd, rnd.randint(150, 400))
    calls = [
        dict(),
        dict(visits=keys),
        dict(visits=keys, assisted=flags),
        dict(visits=keys, assisted=flags, assistant_minutes=asst, dates=days),
        dict(visits=keys, assisted=flags, assistant_minutes=asst, dates=days, sites=sites),
        dict(visits=keys, sites=sites),
    ]
    for method in (CMS, AMA):
        for kw in calls:
            args = (minutes, codes, method, kw.get("visits"), None, kw.get("assisted"),
                    kw.get("assistant_minutes"), kw.get("dates"))
            for explain in (False, True):
                try:
                    want = oracle._log_units(*args, explain=explain, sites=kw.get("sites"))
                except Exception as e:  # noqa: BLE001  (the new code must raise the same)
                    with pytest.raises(type(e)):
                        _log_units(*args, explain=explain, sites=kw.get("sites"))
                    continue
                got = _log_units(*args, explain=explain, sites=kw.get("sites"))
                assert _same(got[0], want[0]), (method, kw.keys(), explain)
                assert got[1] == want[1]
                assert list(got[1]) == list(want[1])  # the splits in the same visit order


# --- PT_VALIDATE's unit checks: unit_log_findings, the kernel run once ----------------------

PROVIDERS = ["PT", "PT", "PTA", "OT", "OTA", "DPT"]
LINE_MODS = [("GP",), ("GP", "CQ"), ("GO", "CO"), ("GP", "RT"), ("GP", "LT"), ("GP", "59"), ("GP", "50"),
             ("GP", "CQ", "RT"), ()]


def _random_visit(rnd: random.Random, index: int) -> tuple[list[ClaimLine], str, bool]:
    """One visit's ClaimLines (indexes from ``index``), its method and whether Medicare."""
    medicare = rnd.random() < 0.6
    method = CMS if medicare or rnd.random() < 0.3 else AMA
    day = rnd.choice(DAYS)
    assistant_column = rnd.random() < 0.5
    lines = []
    codes = rnd.sample(TIMED, 4) + rnd.sample(UNTIMED, 2) + [rnd.choice(STRAPPING), "97153", "99999"]
    weights = [8, 8, 4, 4, 2, 2, 2, 1, 1]
    for _ in range(rnd.choice((1, 2, 2, 3, 3, 4, 5, 7))):
        code = rnd.choices(codes, weights)[0]
        r = rnd.random()
        minutes = (None if r < 0.05 else rnd.choice((800, 1000)) if r < 0.07
                   else 15 * rnd.randint(0, 3) + rnd.choice((0, 7, 8, 14, rnd.randint(0, 14))))
        # billed units: mostly what one code alone would give, often off by one, blank, or many
        guess = (minutes or 0) // 15 + rnd.choice((0, 0, 1))
        units = rnd.choice((guess, guess, guess, guess + 1, max(0, guess - 1), None, 0, 1, 2))
        asst = rnd.choice((None, None, None, 0, rnd.randint(0, 20))) if assistant_column else None
        lines.append(ClaimLine(index + len(lines), "P", day, "Medicare" if medicare else "Aetna",
                               rnd.choice(PROVIDERS), code, rnd.choice(LINE_MODS), minutes, units,
                               asst, None, assistant_column))
    if rnd.random() < 0.5:  # billed as the rule says (by the oracle): the visits with nothing to say
        catalog = catalog_for(day)
        totals: dict[str, int] = {}
        for ln in lines:
            info = catalog.get(ln.code)
            if info is not None and info.timing == "timed" and ln.minutes is not None:
                totals[ln.code] = totals.get(ln.code, 0) + ln.minutes
        right = oracle.code_units(totals, method)
        done: set[str] = set()
        for k, ln in enumerate(lines):
            if ln.code in right or ln.code in UNTIMED + STRAPPING:
                lines[k] = ln._replace(units=0 if ln.code in done else right.get(ln.code, 1))
                done.add(ln.code)
    return lines, method, medicare


@pytest.mark.parametrize("seed", SEEDS)
def test_unit_log_findings_is_the_per_visit_oracle(seed):
    rnd = random.Random(3000 + seed)
    visits, index = [], 0
    for _ in range(rnd.randint(200, 500)):
        lines, method, medicare = _random_visit(rnd, index)
        index += len(lines)
        keeper = untimed_keeper if medicare else None
        visits.append((lines, method, catalog_for(lines[0].dos), medicare, keeper))
    got = unit_log_findings(visits)
    assert len(got) == len(visits)
    for (lines, method, catalog, medicare, keeper), (found, services) in zip(visits, got):
        want_services: dict = {}
        want = oracle.unit_findings(lines, method, catalog, medicare, want_services, keeper)
        assert found == want, lines
        assert list(services.items()) == list(want_services.items()), lines
        one: dict = {}
        assert unit_findings(lines, method, catalog, medicare, one, keeper) == want  # the one-visit door
        assert list(one.items()) == list(want_services.items())
