"""The scalar unit rule as it was before ``service_units.log_code_units`` (the whole-log kernel):
``code_units`` ran once per visit, and ``_log_units`` (PT_UNITS over a log) and ``unit_findings``
(PT_VALIDATE's unit checks, through ``_timed_findings``) called it visit by visit. Kept only as the oracle of ``tests/test_equivalence_units.py``.

CMS Pub. 100-04 ch.5 §20.2 (the 8-minute rule, its chart and leftover units); the CPT midpoint rule
per code (AMA). The tie rule: most leftover minutes, then more total minutes, then the lower code.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from itertools import count, repeat
from typing import TypeVar

from ptbilling.rules.assistant_split import Split
from ptbilling.rules.code_catalog import TIMED, UNTIMED, Catalog, catalog_for
from ptbilling.rules.errors import BadValue
from ptbilling.rules.findings import ERROR, WARN, Finding
from ptbilling.rules.per_application import Site
from ptbilling.rules.service_units import (
    CMS,
    MAX_MINUTES,
    SINGLE_LINE_FROM,
    Keeper,
    L,
    LineProblem,
    Services,
    Units,
    _code_entry,
    _divide,
    _per_application_findings,
    _place_applications,
    _untimed_findings,
    _visit_key,
    chart_units,
    coerce_minutes,
    is_assistant_flag,
    normalize_method,
    over_a_day,
    tie_alternative,
)

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


def _log_units(minutes: Sequence[object], codes: Sequence[object] | None, method: object,
               visits: Sequence[object] | None, catalog: Catalog | None, assisted: Sequence[object] | None,
               assistant_minutes: Sequence[object] | None, dates: Sequence[object] | None,
               default_dos: dt.date | None = None, explain: bool = False,
               sites: Sequence[Site | None] | None = None) -> tuple[Units, dict[object, list[Split]]]:
    """``log_units`` and the splits it made, per visit key (``explain``: every assisted service's)."""
    method = normalize_method(method)
    n = len(minutes)
    for what, seq in (("codes", codes), ("visits", visits), ("modifiers", assisted),
                      ("assistant minutes", assistant_minutes), ("dates", dates), ("sites", sites)):
        if seq is not None and len(seq) != n:
            raise BadValue(f"{what} has {len(seq)} lines but minutes has {n}")
    catalog = catalog if catalog is not None else catalog_for(None)
    out: list[int | None | LineProblem] = [None] * n
    line_code: list[object] = [None] * n  # code, or the line's index for an unnamed service
    line_min = [0] * n
    line_timed = [True] * n
    line_pa = [False] * n  # a per-application code's line (counted by application when sites are given)
    split = assisted is not None or assistant_minutes is not None
    flags = assisted if assisted is not None else [None] * n
    helped_of = list(map(is_assistant_flag, flags)) if split else []
    asst_of: list[int | None] = [None] * n
    a_line = [0] * n  # the assistant's minutes of each line (for the split)
    # raw cell value -> (code, timing) or the LineProblem it causes; -> whole minutes
    code_cache: dict[object, tuple[str | None, str, bool] | LineProblem] = {None: (None, TIMED, False)}
    min_cache: dict[float, int] = {}
    raw_groups: dict[object, list[int]] = {}
    float_, bool_, problem = float, bool, LineProblem
    codes_it = codes if codes is not None else repeat(None, n)
    visits_it = visits if visits is not None else repeat(None, n)
    for i, rc, rm, rv in zip(count(), codes_it, minutes, visits_it):
        if rc.__class__ is bool_:
            entry = _code_entry(rc, catalog)
        else:
            try:
                entry = code_cache[rc]
            except KeyError:
                entry = code_cache[rc] = _code_entry(rc, catalog)
        if rm.__class__ is float_ and rm in min_cache:
            m: int | None = min_cache[rm]
        else:
            try:
                m = coerce_minutes(rm)
            except LineProblem as e:
                out[i] = e
                continue
            if rm.__class__ is float_:
                # rm is a float (checked by class, which mypy does not follow), and a float's minutes are never None
                min_cache[rm] = m  # type: ignore[assignment]
        if entry.__class__ is problem:
            out[i] = entry
            continue
        code, timing, pa = entry  # type: ignore[misc]  # not a LineProblem: its class was just checked
        if m is None:
            if code is None:
                continue  # a blank line stays blank
            if timing == TIMED:
                out[i] = LineProblem(f"no minutes for timed code {code}")
                continue
            m = 0
        if dates is not None and dates[i].__class__ is problem:
            out[i] = dates[i]  # type: ignore[call-overload]  # a LineProblem: its class was just checked
            continue
        if assistant_minutes is not None and assistant_minutes[i] is not None:
            try:
                a = coerce_minutes(assistant_minutes[i])
            except LineProblem as e:
                out[i] = problem(f"assistant {e}")
                continue
            if a is not None and a > m:
                out[i] = problem(f"{a} assistant minutes exceed the line's {m} minutes")
                continue
            asst_of[i] = a
        line_code[i] = code if code is not None else i
        line_min[i] = m
        line_timed[i] = timing == TIMED
        if pa:
            line_pa[i] = True
        if split:
            a = asst_of[i]
            a_line[i] = a if a is not None else (m if helped_of[i] else 0)
        g = raw_groups.get(rv)
        if g is None:
            raw_groups[rv] = [i]
        else:
            g.append(i)
    # Visit keys as typed ("P1 " and "P1", 7.0 and 7) mean the same visit.
    groups: dict[object, list[int]] = {}
    for raw, idxs in raw_groups.items():
        key = _visit_key(raw) if visits is not None else None
        if visits is not None and key is None:
            for i in idxs:
                out[i] = LineProblem("no visit key on this line")
            continue
        if key in groups:
            groups[key] = sorted(groups[key] + idxs)
        else:
            groups[key] = idxs
    splits: dict[object, list[Split]] = {}
    for key, idxs in groups.items():
        totals: dict[object, int] = {}
        first: dict[object, int] = {}
        untimed: set[object] = set()
        per_app: dict[object, list[int]] | None = None
        for i in idxs:
            c = line_code[i]
            if line_timed[i]:
                if c in totals:
                    totals[c] += line_min[i]
                    out[i] = 0
                else:
                    totals[c] = line_min[i]
                    first[c] = i
            elif sites is not None and line_pa[i]:
                if per_app is None:
                    per_app = {}
                per_app.setdefault(c, []).append(i)
            elif c in untimed:
                out[i] = 0  # one service per visit, however many lines record it
            else:
                untimed.add(c)
                out[i] = 1
        if len(idxs) > 1 and sum(totals.values()) > MAX_MINUTES:
            try:
                over_a_day(sum(totals.values()))
            except LineProblem as e:
                for i in idxs:
                    out[i] = e
            continue
        if totals:
            for c, u in code_units(totals, method).items():
                out[first[c]] = u
        divide = idxs
        if per_app is not None:
            assert sites is not None  # per_app is only filled when sites are given
            repeats = _place_applications(per_app, sites, line_code, out)
            if repeats:
                divide = [i for i in idxs if i not in repeats]  # a repeat is in no application's split
        if split:
            # Divide only where it can change a line: a code with an assistant's line and a
            # therapist's line, or assistant minutes within a line. An assistant's code alone is
            # all the assistant's, its units already on its first line (unless explaining).
            helped_codes = None
            need = False
            for i in idxs:
                a = asst_of[i]
                if a is not None and not (helped_of[i] and a == line_min[i]):
                    need = True
                    break
                if helped_of[i]:
                    if helped_codes is None:
                        helped_codes = set()
                    helped_codes.add(line_code[i])
            if not need and helped_codes:
                need = explain or any(not helped_of[i] and line_code[i] in helped_codes for i in idxs)
            if need:
                dos = default_dos
                if dates is not None:  # the visit's date: its first line's
                    dos = next((d for d in (dates[i] for i in idxs) if isinstance(d, dt.date)), None)
                made = _divide(divide, line_code, line_min, line_timed, flags, helped_of, a_line, out, dos)
                if made:
                    splits[key] = made
    return out, splits


def unit_findings(visit_lines: Sequence[L], method: str, catalog: Catalog, medicare: bool,
                  services: Services[L] | None = None, keeper: Keeper[L] | None = None) -> list[Finding]:
    """Billed units against the method, for the lines of ONE visit (ClaimLine-like objects).

    Reuses ``code_units`` (the PT_UNITS rule). Lines of the same timed code
    are added together, as the rule requires; their billed units are compared
    as a total on the code's first line. A CQ/CO line and a line without are
    different lines of the same code by design (CMS's CQ/CO billing examples).
    A different allocation of a tie at the cut is the biller's choice and is
    accepted (``tie_alternative``). An untimed code is one unit per visit,
    however many lines record it; a per-application code (strapping) one unit
    per application, its lines grouped by ``per_application.applications``
    from their modifiers, as ``log_units`` groups them.

    ``services`` (a dict), when given, receives each service billed right in
    total, code -> (lines, units, timed): the CQ/CO split is checked on those
    (``assistant_modifiers.split_findings``, called by ``validate``).
    ``keeper(code, lines, billed)`` picks, of the lines billing an untimed code
    twice, the one that keeps the unit, with the split that says so (or None).
    """
    out: list[Finding] = []
    usable: list[L] = []
    untimed: dict[str, list[L]] = {}
    for ln in visit_lines:
        info = catalog.get(ln.code)
        if info is None or info.timing not in (TIMED, UNTIMED):
            continue
        if info.timing == UNTIMED:
            untimed.setdefault(ln.code, []).append(ln)
            continue
        if ln.minutes is None:
            out.append(Finding(ln.index, ERROR, "MINUTES-MISSING",
                               f"{ln.code} is timed but Minutes is blank — enter the treatment minutes"))
            continue
        usable.append(ln)
    if services is None:
        services = {}
    for code, lns in untimed.items():
        if catalog[code].per_application:
            out += _per_application_findings(code, lns, keeper, services)
            continue
        found = _untimed_findings(code, lns, keeper)
        out += found
        if not found and sum(ln.units or 0 for ln in lns) == 1:
            services[code] = (lns, 1, False)
    if usable:
        out += _timed_findings(usable, method, medicare, services)
    return out


def _timed_findings(usable: list[L], method: str, medicare: bool, services: Services[L]) -> list[Finding]:
    """``usable``: lines of timed codes, each with minutes (``unit_findings`` leaves out the others)."""
    out: list[Finding] = []
    by_code: dict[str, list[L]] = {}
    for ln in usable:
        g = by_code.get(ln.code)
        if g is None:
            by_code[ln.code] = [ln]
        else:
            g.append(ln)
    totals: dict[str, int] = {}
    billed_of: dict[str, int] = {}
    complete_of: dict[str, bool] = {}
    for code, lns in by_code.items():
        if len(lns) == 1:  # the usual case: one line per code, nothing to add up or to call a duplicate
            ln = lns[0]
            totals[code] = ln.minutes  # type: ignore[assignment]  # not None: see the docstring
            billed_of[code] = ln.units or 0
            complete_of[code] = ln.units is not None
            continue
        totals[code] = sum(ln.minutes for ln in lns)  # type: ignore[misc]  # not None: see the docstring
        billed_of[code] = sum(ln.units or 0 for ln in lns)
        complete_of[code] = all(ln.units is not None for ln in lns)
        seen: dict[bool, object] = {}
        for ln in lns:
            assisted = "CQ" in ln.modifiers or "CO" in ln.modifiers
            first = seen.setdefault(assisted, ln)
            if first is not ln:
                strict = medicare and ln.dos >= SINGLE_LINE_FROM
                out.append(Finding(ln.index, ERROR if strict else WARN, "UNITS-DUPLICATE",
                                   f"{code} is on another line of this visit — put all {code} minutes on one line"))
    timed_total = sum(totals.values())
    if timed_total > MAX_MINUTES:  # as a line over 24 hours: no units can be judged, the rows say why
        try:
            over_a_day(timed_total)
        except LineProblem as e:
            return out + [Finding(ln.index, ERROR, "INPUT", f"Minutes cells: {e}") for ln in usable]
    units_of = code_units(totals, method)
    if (method == CMS and billed_of != units_of and all(complete_of.values())
            and tie_alternative(totals, units_of, billed_of)):
        units_of = dict(billed_of)  # the biller broke the tie the other way: CMS lets them
    alone = len(by_code) == 1
    for code, lns in by_code.items():
        want = units_of[code]
        first = lns[0]
        billed, complete = billed_of[code], complete_of[code]
        minutes = totals[code]
        if alone and minutes < 8 and billed >= 1:
            out.append(Finding(first.index, ERROR, "UNITS-UNDER-8",
                               f"{code} {minutes} min alone is under 8 minutes — not billable, bill 0 units"))
            continue
        if billed == want and complete:
            services[code] = (lns, want, True)
            continue
        if method == CMS:
            timed_total = sum(totals.values())
            chart = chart_units(timed_total)
            why = (f"{timed_total} timed min allow {chart} unit{'s' if chart != 1 else ''}"
                   + ("" if alone else f", {want} to {code} by the 8-minute rule"))
        else:
            why = f"{code} {minutes} min allow {want} unit{'s' if want != 1 else ''} (per code)"
        if billed > want:
            out.append(Finding(first.index, ERROR, "UNITS-OVER", f"{why}, {billed} billed — bill {want}"))
        elif not complete and billed == 0:
            out.append(Finding(first.index, WARN, "UNITS-UNDER", f"Units blank; {why} — bill {want}"))
        elif billed < want:
            out.append(Finding(first.index, WARN, "UNITS-UNDER", f"{why}, {billed} billed — bill {want}"))
    return out
