"""The 8-minute rule written plainly: the benchmark's baseline.

No catalog objects, no coercion, no per-line messages: ints in, ints out, the
timed codes as a set. It is what a careful developer would write in an
afternoon, and what ``PT_UNITS`` must stay within 1.5x of. The tests also use it
as an independent second reading of the rule.
"""
from __future__ import annotations

import csv
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[1] / "addin" / "ptbilling" / "rules" / "data" / "code_catalog.csv"
with open(CATALOG, newline="") as f:
    TIMED = {r["code"] for r in csv.DictReader(f) if r["timing"] == "timed"}


def plain_units(minutes, codes, visits):
    out = [0] * len(minutes)
    by_visit = {}
    for i, v in enumerate(visits):
        by_visit.setdefault(v, []).append(i)
    for idxs in by_visit.values():
        first = {}
        total_by_code = {}
        untimed = set()
        for i in idxs:
            c = codes[i]
            if c in TIMED:
                if c not in first:
                    first[c] = i
                    total_by_code[c] = 0
                total_by_code[c] += minutes[i]
            elif c not in untimed:  # an untimed code is one unit per visit
                untimed.add(c)
                out[i] = 1
        total = sum(total_by_code.values())
        chart = (total + 7) // 15 if total >= 8 else 0
        given = {c: m // 15 for c, m in total_by_code.items()}
        left = chart - sum(given.values())
        ranked = sorted((c for c, m in total_by_code.items() if m % 15),
                        key=lambda c: (-(total_by_code[c] % 15), -total_by_code[c], c))
        for c in ranked[:left]:
            given[c] += 1
        for c, i in first.items():
            out[i] = given[c]
    return out


def plain_pt_units(minutes_col, codes_col, visits_col):
    """The whole job of one PT_UNITS call, plainly: Excel's columns in, a column out."""
    minutes = [int(r[0]) for r in minutes_col]
    codes = [str(int(r[0])) if isinstance(r[0], float) else r[0] for r in codes_col]
    visits = [r[0] for r in visits_col]
    return [[u] for u in plain_units(minutes, codes, visits)]
