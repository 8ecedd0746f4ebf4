"""Benchmark: one PT_UNITS call over a 300,000-line log, against the plain baseline.

Run: python benchmarks/bench_units.py  (numbers go in the README)

- ``PT_UNITS``: the Excel function as xlwings calls it, with Excel-shaped input
  (a column of floats, codes as floats and text, visit keys), grouped by visit.
- baseline: ``baseline_units.plain_pt_units``, the same job written plainly
  (columns in, the rule on ints and strings, a column out), in the same run
  on the same data; the rule alone on clean lists is printed too.
Also: per-call time for a 6-line visit and for a 5,000-line column, and the CQ/CO split:
``PT_UNITS`` as the template calls it (Modifiers, Assistant Minutes and Date columns, one
line in four an assistant's) against the same call without those columns, interleaved,
median and spread.
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "addin"))

import datetime as dt  # noqa: E402
import statistics  # noqa: E402

from baseline_units import plain_pt_units, plain_units  # noqa: E402
from ptbilling import udfs  # noqa: E402
from timing import best_of  # noqa: E402

CODES = ["97110", "97112", "97140", "97530", "97116", "97035", "97010", "97161", "G0283", "97150"]


def make_log(n_lines: int, seed: int = 1):
    rnd = random.Random(seed)
    minutes, codes, visits = [], [], []
    visit = 0
    while len(minutes) < n_lines:
        visit += 1
        for _ in range(rnd.randint(2, 6)):
            minutes.append(float(rnd.randint(0, 45)))
            c = rnd.choice(CODES)
            codes.append(float(c) if c.isdigit() else c)  # Excel hands numbers as floats
            visits.append(f"P{visit % 997}|2025-03-{1 + visit % 28:02d}")
    return minutes[:n_lines], codes[:n_lines], visits[:n_lines]


def main() -> None:
    n = 300_000
    minutes, codes, visits = make_log(n)
    col = lambda xs: [[x] for x in xs]  # noqa: E731  (what xlwings passes with ndim=2)
    xm, xc, xv = col(minutes), col(codes), col(visits)
    clean_m = [int(m) for m in minutes]
    clean_c = [str(int(c)) if isinstance(c, float) else c for c in codes]

    got = udfs.PT_UNITS(xm, xc, "CMS", xv)
    assert [r[0] for r in got] == plain_units(clean_m, clean_c, visits), "PT_UNITS and baseline disagree"

    t_udf = best_of(lambda: udfs.PT_UNITS(xm, xc, "CMS", xv), 3)
    t_base = best_of(lambda: plain_pt_units(xm, xc, xv), 3)
    t_rule_only = best_of(lambda: plain_units(clean_m, clean_c, visits), 3)

    m5, c5, v5 = make_log(5_000, seed=2)
    t_5k = best_of(lambda: udfs.PT_UNITS(col(m5), col(c5), "CMS", col(v5)), 7)
    six_m, six_c = [[24.0], [23.0], [10.0], [8.0], [15.0], [12.0]], [[97112.0], [97110.0], [97010.0], [97035.0], [97140.0], [97530.0]]
    reps = 2000
    t = time.perf_counter()
    for _ in range(reps):
        udfs.PT_UNITS(six_m, six_c)
    t_six = (time.perf_counter() - t) / reps

    print(f"PT_UNITS, 300,000 lines grouped by visit : {t_udf * 1000:8.1f} ms")
    print(f"plain baseline, same columns in and out  : {t_base * 1000:8.1f} ms")
    print(f"  (of which the rule on clean ints)      : {t_rule_only * 1000:8.1f} ms")
    print(f"ratio (target <= 1.5)                    : {t_udf / t_base:8.2f}")
    print(f"PT_UNITS, 5,000-line column (target <50) : {t_5k * 1000:8.1f} ms")
    print(f"PT_UNITS, one 6-line visit, per call     : {t_six * 1e6:8.1f} µs")
    split_case(xm, xc, xv)


def split_case(xm, xc, xv, runs: int = 7) -> None:
    """PT_UNITS with the split's columns against the same call without them, interleaved runs."""
    rnd = random.Random(3)
    mods = [["GP CQ" if rnd.random() < 0.25 else "GP"] for _ in xm]
    asst = [[float(rnd.randint(0, int(m[0])))] if rnd.random() < 0.1 else [None] for m in xm]
    day = dt.datetime(2025, 3, 3)
    dates = [[day] for _ in xm]
    plain, split = [], []
    for _ in range(runs):  # interleaved, so both see the same machine load
        plain.append(best_of(lambda: udfs.PT_UNITS(xm, xc, "CMS", xv), 1))
        split.append(best_of(lambda: udfs.PT_UNITS(xm, xc, "CMS", xv, mods, asst, dates), 1))
    for name, ts in (("PT_UNITS without the split columns    ", plain),
                     ("PT_UNITS + Modifiers, Asst Min, Date   ", split)):
        print(f"{name}: median {statistics.median(ts) * 1000:8.1f} ms, "
              f"spread {min(ts) * 1000:.1f}-{max(ts) * 1000:.1f} ms ({runs} runs)")
    print(f"split / without (median)                 : {statistics.median(split) / statistics.median(plain):8.2f}")


if __name__ == "__main__":
    main()
