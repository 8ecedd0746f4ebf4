"""Benchmark: one PT_UNITS call over a 300,000-line log, against the plain baseline.

Run: python benchmarks/bench_units.py [--rounds R]  (numbers go in the README)

- ``PT_UNITS``: the Excel function as xlwings calls it, with Excel-shaped input
  (one-column ranges: a column of floats, codes as floats and text, visit
  keys), grouped by visit, a column out.
- baseline: ``baseline_units.plain_pt_units``, the same job written plainly
  (read each cell, normalise the code, look up timed, group by visit, apply the
  rule; columns in, a column out), in the same run on the same data; the rule
  alone on clean lists (``plain_units``) is printed too.
Runs are interleaved; each is reported as median (min-max), the ratio as the
median of the per-round ratios. Also: per-call time for a 6-line visit and for
a 5,000-line column, and the CQ/CO split: ``PT_UNITS`` as the template calls it
(Modifiers, Assistant Minutes and Date columns, one line in four an
assistant's) against the same call without those columns, interleaved.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "addin"))

from baseline_units import plain_pt_units, plain_units  # noqa: E402
from ptbilling import udfs  # noqa: E402
from timing import interleaved, median_spread, ratios  # noqa: E402

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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args(argv)
    n = 300_000
    minutes, codes, visits = make_log(n)
    col = lambda xs: [[x] for x in xs]  # noqa: E731  (what xlwings passes with ndim=2)
    xm, xc, xv = col(minutes), col(codes), col(visits)
    clean_m = [int(m) for m in minutes]
    clean_c = [str(int(c)) if isinstance(c, float) else c for c in codes]

    got = udfs.PT_UNITS(xm, xc, "CMS", xv)
    assert got == plain_pt_units(xm, xc, xv), "PT_UNITS and baseline disagree"
    assert [r[0] for r in got] == plain_units(clean_m, clean_c, visits), "the two baselines disagree"

    wall, cpu = interleaved({"udf": lambda: udfs.PT_UNITS(xm, xc, "CMS", xv),
                             "base": lambda: plain_pt_units(xm, xc, xv),
                             "rule": lambda: plain_units(clean_m, clean_c, visits)}, args.rounds)

    m5, c5, v5 = make_log(5_000, seed=2)
    t5 = interleaved({"5k": lambda: udfs.PT_UNITS(col(m5), col(c5), "CMS", col(v5))}, 15)[0]["5k"]
    six_m, six_c = [[24.0], [23.0], [10.0], [8.0], [15.0], [12.0]], [[97112.0], [97110.0], [97010.0], [97035.0], [97140.0], [97530.0]]
    reps, per = 2000, []
    for _ in range(15):
        t0 = time.perf_counter()
        for _ in range(reps):
            udfs.PT_UNITS(six_m, six_c)
        per.append((time.perf_counter() - t0) / reps)

    print(f"{args.rounds} interleaved rounds, median (min-max); wall ms | CPU ms of this process:")
    for key, label in (("udf", "PT_UNITS, 300,000 lines grouped by visit"),
                       ("base", "plain baseline, same columns in and out"),
                       ("rule", "  (the rule alone on clean lists)")):
        print(f"{label:42}: {median_spread(wall[key], 1000)} | {median_spread(cpu[key], 1000)}")
    r_wall, r_cpu = ratios(wall["udf"], wall["base"]), ratios(cpu["udf"], cpu["base"])
    print(f"{'ratio PT_UNITS / plain (target <= 1.5)':42}: {median_spread(r_wall, fmt='{:.2f}')} | "
          f"{median_spread(r_cpu, fmt='{:.2f}')}")
    print(f"{'PT_UNITS, 5,000-line column (target < 50)':42}: {median_spread(t5, 1000)} ms")
    print(f"{'PT_UNITS, one 6-line visit, per call':42}: {median_spread(per, 1e6)} µs")
    ok = statistics.median(r_wall) <= 1.5
    print(f"target PT_UNITS <= 1.5x plain: {'met' if ok else 'NOT met'} ({statistics.median(r_wall):.2f}x median, "
          f"{statistics.median(r_cpu):.2f}x in CPU time)")
    split_case(xm, xc, xv)


def split_case(xm, xc, xv, rounds: int = 7) -> None:
    """PT_UNITS with the split's columns against the same call without them, interleaved runs."""
    rnd = random.Random(3)
    mods = [["GP CQ" if rnd.random() < 0.25 else "GP"] for _ in xm]
    asst = [[float(rnd.randint(0, int(m[0])))] if rnd.random() < 0.1 else [None] for m in xm]
    day = dt.datetime(2025, 3, 3)
    dates = [[day] for _ in xm]
    wall, cpu = interleaved({"plain": lambda: udfs.PT_UNITS(xm, xc, "CMS", xv),
                             "split": lambda: udfs.PT_UNITS(xm, xc, "CMS", xv, mods, asst, dates)}, rounds)
    for key, label in (("plain", "PT_UNITS without the split columns"), ("split", "PT_UNITS + Modifiers, Asst Min, Date")):
        print(f"{label:42}: {median_spread(wall[key], 1000)} | {median_spread(cpu[key], 1000)}")
    print(f"{'split / without':42}: {median_spread(ratios(wall['split'], wall['plain']), fmt='{:.2f}')} | "
          f"{median_spread(ratios(cpu['split'], cpu['plain']), fmt='{:.2f}')}")

if __name__ == "__main__":
    main()
