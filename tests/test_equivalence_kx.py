"""The whole-log KX pass (``kx_modifier.kx_findings``) and the pricing it shares with PT_FEE
(``fee_schedule.price_lines`` / ``allowed_amounts``) and ``kx_marks`` give exactly the answers of the
scalar code they replaced (``tests/oracle/kx_modifier.py``, ``tests/oracle/fee_schedule.py``), on many
seeded random logs: Medicare and not, GP/GO/GN, CQ/CO, KX or not, Prior Allowed, several years (one
without RVUs: KX-UNCHECKED), MPPR ties, units 0-4, codes the release lacks, duplicated lines.

Amounts are compared as their text (``str(Decimal)``), not only as numbers: the same value with other
digits ("2400.0" and "2400.00") would already be a different number in a message."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal, localcontext

import pytest

from cms_files import pprrvu_text
from oracle import fee_schedule as oracle_fees
from oracle import kx_modifier as oracle_kx
from ptbilling.rules import datasets, fee_schedule, kx_modifier
from ptbilling.rules.claim_lines import ClaimLine
from ptbilling.rules.errors import PtBillingError
from ptbilling.rules.fee_schedule import FeeLine, KxLine

# equal MPPR ranks: 97110 and 97116 have the same RVUs, so have 97161-97163; 97010 (B), 97014 (I),
# 97039 (C), 97545 (R without RVUs), 97129 (no MPPR), 97026 (R, priced); 99999 and 0001F in no release.
# FIXTURE_CODES: those of them in the small CMS fixture files (tests/cms_files.py) imported below
CODES = ["97110", "97116", "97530", "97140", "97112", "97161", "97162", "97163", "97010", "97014",
         "97039", "97545", "97026", "97129", "92507", "97535", "G0283", "97750"]
UNKNOWN = ["99999", "0001F"]
FIXTURE_CODES = ["97110", "97116", "97530", "97140", "97112", "97161", "97010", "97014", "97039", "97545", "97026",
                 "97129", "92507", "G0283"]
PAYERS = ["Medicare", "Medicare", "MCR", "medicare b", "Medicare Advantage", "Aetna", "BCBS / Medicare secondary",
          "Medicare HMO"]
MODIFIERS = ["GP", "GO", "GN", "CQ", "CO", "KX", "59"]
PRIORS = [None, None, None, 0.0, 500.0, 2300.0, 2381.21, 2381.22, 2400.0, 2409.99, 2999.99, 123.456, 2470.5,
          1e-3, 5000.0]
SEEDS = range(60)


def _modifiers(rnd: random.Random) -> tuple[str, ...]:
    r = rnd.random()
    if r < 0.05:
        return ()
    if r < 0.6:
        return (rnd.choice(["GP", "GP", "GO", "GN"]),)
    return tuple(rnd.sample(MODIFIERS, rnd.randint(1, 3)))


def _random_log(rnd: random.Random, years: list[int], unknown: bool,
                codes: list[str] = CODES) -> list[ClaimLine]:
    """A few patients with many visits (so buckets pass $2,410 and $3,000), repeated lines, ties."""
    lines: list[ClaimLine] = []
    patients = [f"P{k:02d}" for k in range(rnd.randint(1, 8))] + ["p01 ", " P01"]
    codes = codes + (UNKNOWN if unknown else [])
    for _ in range(rnd.randint(20, 140)):
        patient = rnd.choice(patients)
        year = rnd.choice(years)
        dos = dt.date(year, rnd.randint(1, 12), rnd.randint(1, 28))
        payer = rnd.choice(PAYERS)
        prior = rnd.choice(PRIORS)
        for _ in range(rnd.choice((1, 2, 2, 3, 4, 6))):
            if lines and rnd.random() < 0.15:  # the same line again, or the same code with other units
                prev = lines[-1]
                lines.append(prev._replace(index=len(lines), units=rnd.choice((prev.units, 0, 1, 2, None))))
                continue
            units = rnd.choice((0, 1, 1, 1, 2, 2, 3, 4, None))
            lines.append(ClaimLine(len(lines), patient, dos, payer, rnd.choice(["PT", "PTA", "OT"]),
                                   rnd.choice(codes), _modifiers(rnd), rnd.choice((None, 0, 8, 23, 38, 53)),
                                   units, None, prior if rnd.random() < 0.5 else None))
    rnd.shuffle(lines)  # the row order must not matter
    return [ln._replace(index=i) for i, ln in enumerate(lines)]


def _same(lines: list[ClaimLine]) -> list[str]:
    """Both KX checks on one log, with and without totals: findings and totals identical, as text."""
    got: list[str] = []
    for with_totals in (True, False):
        new_totals: dict[tuple[str, int, str], Decimal] | None = {} if with_totals else None
        old_totals: dict[tuple[str, int, str], Decimal] | None = {} if with_totals else None
        new = kx_modifier.kx_findings(lines, new_totals)
        old = oracle_kx.kx_findings(lines, old_totals)
        assert new == old
        if with_totals:
            assert new_totals is not None and old_totals is not None
            assert {k: str(v) for k, v in new_totals.items()} == {k: str(v) for k, v in old_totals.items()}
        got += [f.rule for f in new]
    return got


@pytest.mark.parametrize("seed", SEEDS)
def test_kx_findings_are_the_oracles_on_random_logs(seed):
    rnd = random.Random(seed)
    years = rnd.choice([[2025], [2025, 2026], [2024, 2025], [2025, 2026, 2027], [2026]])
    with datasets.pinned():
        _same(_random_log(rnd, years, unknown=rnd.random() < 0.25))


def test_the_random_logs_reach_every_finding():
    """The generator is worth its name: crossings, reviews and unchecked years all occur."""
    rules: set[str] = set()
    with datasets.pinned():
        for seed in SEEDS:
            rnd = random.Random(seed)
            years = rnd.choice([[2025], [2025, 2026], [2024, 2025], [2025, 2026, 2027], [2026]])
            rules.update(_same(_random_log(rnd, years, unknown=rnd.random() < 0.25)))
    assert rules == {"KX-MISSING", "KX-REVIEW", "KX-UNCHECKED"}


def test_a_year_with_rvus_but_no_kx_threshold_and_a_quarter_without_mppr(tmp_path):
    """Imported 2027 RVUs (figures.json has no 2027 KX threshold: kx_marks' error) and 2013 RVUs (no
    MPPR rate before April 2013: the pricing's visit error); the fixture files lack most codes."""
    for year, cf in ((2027, "32.8409"), (2013, "34.0230")):
        path = tmp_path / f"PPRRVU{year}_Jan.csv"
        path.write_text(pprrvu_text(2026, year=year, cf=cf), encoding="utf-8")
        fee_schedule.import_rvu(path, force=True)
    rules: set[str] = set()
    with datasets.pinned():
        for seed in range(30):
            rnd = random.Random(500 + seed)
            rules.update(_same(_random_log(rnd, rnd.choice([[2013, 2025], [2027], [2013, 2026, 2027]]),
                                           unknown=rnd.random() < 0.2, codes=FIXTURE_CODES)))
    assert {"KX-MISSING", "KX-UNCHECKED"} <= rules


def _shortcut_log(rnd: random.Random) -> list[ClaimLine]:
    """PT_VALIDATE's shortcut (no totals asked: patients who cannot reach the KX threshold at full
    fees are not priced): no prior amounts, patients from far under to far past the threshold, and
    in some years a code the release lacks, which leaves that year unchecked for the priced ones."""
    lines: list[ClaimLine] = []
    for k in range(rnd.randint(5, 25)):
        year = rnd.choice((2025, 2026))
        mods = rnd.choice([("GP",), ("GN",), ("GP", "CQ"), ("GP", "KX"), ("GO",)] if k % 4 else [("GP",)])
        for _ in range(rnd.choice((1, 5, 20, 40, 60, 80, 120))):
            dos = dt.date(year, rnd.randint(1, 12), rnd.randint(1, 28))
            lines.append(ClaimLine(len(lines), f"P{k}", dos, "Medicare", "PT", rnd.choice(CODES[:8]), mods, 38,
                                   rnd.choice((1, 2, 3, 4))))
    if rnd.random() < 0.5:
        lines.append(ClaimLine(len(lines), "P0", lines[0].dos, "Medicare", "PT", "99999", ("GP",), 15, 1))
    rnd.shuffle(lines)
    return [ln._replace(index=i) for i, ln in enumerate(lines)]


@pytest.mark.parametrize("seed", range(30))
def test_the_shortcut_for_patients_far_under_the_threshold_is_the_oracles(seed):
    rnd = random.Random(4000 + seed)
    with datasets.pinned():
        _same(_shortcut_log(rnd))


@pytest.mark.parametrize("seed", range(10))
def test_with_too_few_digits_the_sums_round_as_the_oracles(seed):
    """Under a 7-digit decimal context the totals round as they add up, so the order of the additions
    shows, and the shortcut's one-sum bound is inexact (it falls back to adding line by line). Real
    amounts never need 28 digits; this checks that nothing relies on that. The full unit prices are
    cached across calls, so both caches start and end empty (no 7-digit price outlives the test)."""
    rnd = random.Random(5000 + seed)
    logs = [_shortcut_log(rnd), _random_log(rnd, [2025, 2026], unknown=False)]
    caches = (kx_modifier._full_unit_price_cached, oracle_kx._full_unit_price_cached)
    for cache in caches:
        cache.cache_clear()
    try:
        with datasets.pinned(), localcontext() as ctx:
            ctx.prec = 7
            for lines in logs:
                _same(lines)
    finally:
        for cache in caches:
            cache.cache_clear()


def _random_fee_lines(rnd: random.Random) -> list[FeeLine]:
    """PT_FEE's lines: visits by name, text and list modifiers, float units, several dates."""
    lines = []
    days = [dt.date(2025, 3, rnd.randint(1, 3)), dt.date(2026, 1, 2), dt.date(2025, 12, 31)]
    for _ in range(rnd.randint(1, 12)):
        mods: object = rnd.choice([frozenset(), frozenset({"GP"}), frozenset({"GP", "CQ"}), "gp co", ["co"],
                                   ("GO", "CQ"), "GN"])
        units: object = rnd.choice([0, 1, 1, 2, 3, 4, 2.0])
        lines.append(FeeLine(rnd.choice(CODES[:8] + ["97129", "97026", "97039", "97545", "97010"]),
                             units, rnd.choice(days), mods, rnd.choice(["a", "b", None])))  # type: ignore[arg-type]
    return lines


def _outcome(fn, *args):
    try:
        return fn(*args)
    except PtBillingError as e:
        return type(e), str(e)


@pytest.mark.parametrize("seed", range(40))
def test_price_lines_and_allowed_amounts_are_the_oracles(seed):
    rnd = random.Random(2000 + seed)
    with datasets.pinned():
        for _ in range(40):
            lines = _random_fee_lines(rnd)
            locality = rnd.choice([None, None, "02102-01", "01112-05"])
            assert _outcome(fee_schedule.price_lines, lines, locality) == _outcome(oracle_fees.price_lines,
                                                                                   lines, locality)
            assert _outcome(fee_schedule.allowed_amounts, lines) == _outcome(oracle_fees.allowed_amounts, lines)
    bad = [FeeLine("97110", 1, dt.date(2025, 1, 2)), FeeLine("97110", -1, dt.date(2025, 1, 2)),
           FeeLine("99999", 1, dt.date(2025, 1, 2))]
    for lines in (bad, bad[::-1], bad[:1] + [FeeLine("", 1, dt.date(2025, 1, 2))] + bad[1:]):
        assert _outcome(fee_schedule.price_lines, lines) == _outcome(oracle_fees.price_lines, lines)


@pytest.mark.parametrize("seed", range(30))
def test_kx_marks_are_the_oracles(seed):
    rnd = random.Random(3000 + seed)
    for _ in range(50):
        lines = [KxLine(dt.date(rnd.choice([2025, 2025, 2026]), rnd.randint(1, 12), rnd.randint(1, 28)),
                        rnd.choice(["PT", "SLP", "OT", "pt", "PT+SLP"]),
                        Decimal(rnd.choice(["0", "0.00", "28.79", "110.40", "500", "1205.005", "0.01"])))
                 for _ in range(rnd.randint(0, 30))]
        prior = {(2025, rnd.choice(["PT", "OT", "PT+SLP"])): rnd.choice([Decimal("2400"), "2381.21", 100, 2400.5])}
        assert fee_schedule.kx_marks(lines, prior) == oracle_fees.kx_marks(lines, prior)
        assert fee_schedule.kx_marks(lines) == oracle_fees.kx_marks(lines)
