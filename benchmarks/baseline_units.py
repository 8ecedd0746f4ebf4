"""The 8-minute rule written plainly: the benchmark's baseline.

No catalog objects, no coercion, no per-line messages, no checks: the job and
nothing more, as a careful developer would write it in an afternoon. One pass
reads each cell, normalises the code (Excel hands 97110 as 97110.0), looks up
whether it is timed, and adds its minutes to its visit; then the rule runs per
visit. It is what ``PT_UNITS`` must stay within 1.5x of. The tests also use it
as an independent second reading of the rule.
"""
from __future__ import annotations

import csv
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[1] / "addin" / "ptbilling" / "rules" / "data" / "code_catalog.csv"
with open(CATALOG, newline="") as f:
    TIMED = {r["code"] for r in csv.DictReader(f) if r["timing"] == "timed"}


def _apply_rule(visit: dict, out: list) -> None:
    """One visit: ``visit`` is code -> [first line, total minutes] (None for an untimed code, which
    keeps its one unit); units go on each timed code's first line."""
    codes = {c: e for c, e in visit.items() if e is not None}
    total = whole = 0
    for first, m in codes.values():
        total += m
        whole += m // 15
        out[first] = m // 15
    left = ((total + 7) // 15 if total >= 8 else 0) - whole
    if left > 0:
        ranked = sorted((c for c, (_, m) in codes.items() if m % 15),
                        key=lambda c: (-(codes[c][1] % 15), -codes[c][1], c))
        for c in ranked[:left]:
            out[codes[c][0]] += 1


def plain_units(minutes, codes, visits):
    """Units per line for clean lists: ints, code strings, visit keys."""
    out = [1] * len(minutes)  # an untimed code: one unit per visit; timed lines are overwritten below
    by_visit: dict = {}
    for i, (m, c, v) in enumerate(zip(minutes, codes, visits)):
        visit = by_visit.get(v)
        if visit is None:
            visit = by_visit[v] = {}
        if c not in TIMED:
            if c in visit:
                out[i] = 0  # a repeat of an untimed code
            else:
                visit[c] = None
        else:
            out[i] = 0  # a repeat of a timed code: its minutes go to the code's first line
            entry = visit.get(c)
            if entry is None:
                visit[c] = [i, m]
            else:
                entry[1] += m
    for visit in by_visit.values():
        _apply_rule(visit, out)
    return out


def plain_pt_units(minutes_col, codes_col, visits_col):
    """The whole job of one PT_UNITS call, plainly: Excel's columns in, a column out.

    Each distinct code cell is normalised and looked up once (a log repeats a
    dozen codes), the leanest plain form we found; it is what the ratio is
    measured against.
    """
    out = [1] * len(minutes_col)
    code_of: dict = {}  # code cell as handed (97110.0, "G0283") -> (code, timed)
    by_visit: dict = {}
    for i, ((m,), (c,), (v,)) in enumerate(zip(minutes_col, codes_col, visits_col)):
        got = code_of.get(c)
        if got is None:
            text = str(int(c)) if c.__class__ is float else c
            got = code_of[c] = (text, text in TIMED)
        code, timed = got
        visit = by_visit.get(v)
        if visit is None:
            visit = by_visit[v] = {}
        if not timed:
            if code in visit:
                out[i] = 0  # a repeat of an untimed code
            else:
                visit[code] = None
        else:
            out[i] = 0
            entry = visit.get(code)
            if entry is None:
                visit[code] = [i, int(m)]
            else:
                entry[1] += int(m)
    for visit in by_visit.values():
        _apply_rule(visit, out)
    return [[u] for u in out]
