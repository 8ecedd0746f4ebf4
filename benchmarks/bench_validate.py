"""Benchmark: PT_VALIDATE on a 5,000-row session log (target: under 100 ms in Python).

Run: python benchmarks/bench_validate.py

The log is what Excel hands the function for SessionLog[#All]: a header row,
then rows of datetimes, floats for codes and numbers, text, and None. About a
fifth of the visits carry a mistake so the finding paths run too.
"""
from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "addin"))

from ptbilling import udfs  # noqa: E402

HEADER = ("Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units")
TIMED = [97110.0, 97112.0, 97140.0, 97530.0, 97116.0, 97035.0]


def make_log(rows: int, seed: int = 3):
    rnd = random.Random(seed)
    out = [HEADER]
    visit = 0
    while len(out) <= rows:
        visit += 1
        patient = f"P{visit % 400:03d}"
        day = dt.datetime(2025, 1, 1) + dt.timedelta(days=visit % 360)
        payer = rnd.choice(["Medicare", "Medicare", "Aetna", "Medicare Advantage"])
        codes = rnd.sample(TIMED, rnd.randint(2, 4))
        minutes = [float(rnd.randint(8, 30)) for _ in codes]
        for code, m in zip(codes, minutes):
            units = float((int(m) + 7) // 15)
            if rnd.random() < 0.05:
                units += 1  # a billing mistake
            mods = "GP" if payer != "Aetna" else None
            out.append((patient, day, payer, "PT", code, mods, m, units))
        if rnd.random() < 0.1:
            out.append((patient, day, payer, "PT", 97010.0, "GP", 10.0, 1.0))
    return tuple(out[: rows + 1])


def main() -> None:
    log = [list(r) for r in make_log(5_000)]
    udfs.PT_VALIDATE(log)  # warm the catalog and fee schedule caches, as Excel's first recalc does
    times = []
    for _ in range(7):
        t = time.perf_counter()
        got = udfs.PT_VALIDATE(log)
        times.append(time.perf_counter() - t)
    assert len(got) == 5_001 and got[0] == ["Check"]
    findings = sum(1 for r in got[1:] if r[0] != "OK")
    print(f"PT_VALIDATE, 5,000 rows (target < 100 ms): best {min(times) * 1000:.1f} ms, "
          f"median {sorted(times)[3] * 1000:.1f} ms; {findings} rows with findings")


if __name__ == "__main__":
    main()
