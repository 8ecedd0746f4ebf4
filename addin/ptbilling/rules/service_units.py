"""Service units of timed and untimed codes: the CMS 8-minute rule and the per-code (AMA) method.

References:
- CMS Medicare Claims Processing Manual, Pub. 100-04, chapter 5, section 20.2,
  "Reporting of Service Units With HCPCS": units come from the total timed
  minutes of the day (the chart below); one unit per whole 15 minutes of a code;
  leftover units go to the services with the most remaining minutes; never more
  than the chart. Its four worked examples are tests.
- First Coast Service Options, "Counting units for therapy services": a timed
  code is reported on one line per date of service since 19 April 2021, its
  minutes added together.
- AOTA / ASHA guidance: untimed (service-based) codes are one unit per day and
  their minutes are not in the timed total.
- CPT time rule ("a unit is attained when the midpoint is passed"): the
  per-code method many commercial payers apply, 8-22 min = 1 unit, 23-37 = 2 ...
- therapy-billing-rules.md sections 1 and 2; section 5 and CMS, "Billing
  Examples Using CQ/CO Modifiers", for dividing a code's units between the
  assistant's CQ/CO line and the therapist's line (``assistant_split``: the
  same idea as the 8-minute rule; the reference derived its example, CMS's own
  answer was not recovered, so a wrong split is a WARN).
- Per-application codes (strapping, reference section 3): one unit per
  application, the applications of a visit told apart by site modifiers
  (``per_application``, with its sources).

Tie rule (the manual lets the therapist choose; software must be predictable):
leftover units go to the codes with the most leftover minutes; on equal
leftovers, to the code with more total minutes; then to the lower code. It does
not depend on the order of lines, and PT_EXPLAIN says when it was used.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count, islice, repeat
from typing import Protocol, TypeVar

from .assistant_split import Split, split_timed, split_untimed
from .code_catalog import TIMED, UNTIMED, Catalog, catalog_for, normalize_code
from .errors import BadValue, UnknownCode, UnknownMethod
from .fee_schedule import unpaid_reason
from .per_application import NO_SITE, Site, applications, fix_hint, site_of


class BilledLine(Protocol):
    """What the unit checks read of a line: ``claim_lines.ClaimLine`` (which imports this module,
    so it is described here, not imported) has all of it."""

    @property
    def index(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def dos(self) -> dt.date: ...
    @property
    def provider(self) -> str: ...
    @property
    def modifiers(self) -> tuple[str, ...]: ...
    @property
    def minutes(self) -> int | None: ...
    @property
    def units(self) -> int | None: ...


L = TypeVar("L", bound=BilledLine)
#: services billed right in total (``unit_findings``): the code, or (code, k) for the k-th
#: application after the first of a per-application code -> (its lines, units, timed)
Services = dict[str | tuple[str, int], tuple[list[L], int, bool]]
#: ``keeper(code, lines, billed)``: the line that keeps an untimed code's one unit, with its split
Keeper = Callable[[str, list[L], list[L]], tuple[L, Split] | None]
#: a service of ``code_units``: a code, an application (code, k), or an unnamed line's index
K = TypeVar("K", bound=Hashable)
#: a line of ``visit_units``: (code, minutes), + (flag, assistant minutes), + (site,)
VisitLine = (tuple[str | None, int] | tuple[str | None, int, object, int | None]
             | tuple[str | None, int, object, int | None, Site | None])

CMS = "CMS"
AMA = "AMA"
METHODS = (CMS, AMA)
CITATION = {CMS: "CMS Pub. 100-04 ch.5 §20.2", AMA: "CPT midpoint rule, per code"}

MAX_MINUTES = 24 * 60  # one line, and the timed minutes of one visit, cannot hold more than a day
MAX_UNITS = MAX_MINUTES // 15  # billed units on one line: what 24 hours of 15-minute units can give (96)


def chart_units(total_minutes: int) -> int:
    """Units the CMS chart allows for a day's total timed minutes (0-7 -> 0, 8-22 -> 1, ...)."""
    return (total_minutes + 7) // 15 if total_minutes >= 8 else 0


def chart_range(units: int) -> tuple[int, int]:
    """The total-minute band that gives ``units`` (0 -> 0-7, 1 -> 8-22, 3 -> 38-52)."""
    return (0, 7) if units == 0 else (15 * units - 7, 15 * units + 7)


def per_code_units(minutes: int) -> int:
    """The per-code (AMA/CPT midpoint) units of one timed code: 8-22 -> 1, 23-37 -> 2 ..."""
    return chart_units(minutes)


def normalize_method(method: object) -> str:
    if method is None or (isinstance(method, str) and not method.strip()):
        return CMS
    text = str(method).strip().upper()
    if text in METHODS:
        return text
    raise UnknownMethod(method, METHODS)


class LineProblem(BadValue):
    """Why one line has no units; it names the value and how to fix it."""


Units = list[int | None | LineProblem]  # per line, as ``log_units`` gives them


def coerce_minutes(value: object) -> int | None:
    """Minutes as Excel or a CSV hands them -> whole minutes; None for blank.

    Raises LineProblem for text, negatives, fractions, NaN/inf, booleans,
    dates and more than 24 hours: a number there would be silently wrong.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise LineProblem(f"minutes must be a number, not {value}")
    if isinstance(value, int):
        m = value
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise LineProblem(f"minutes must be a number, not {value}")
        if not value.is_integer():
            raise LineProblem(f"minutes must be whole: {value:g}")
        m = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            f = float(text)
        except ValueError:
            raise LineProblem(f"minutes must be a number, not {text[:20]!r}") from None
        return coerce_minutes(f)
    else:
        raise LineProblem(f"minutes must be a number, not a {type(value).__name__}")
    if m < 0:
        raise LineProblem(f"minutes cannot be negative: {m}")
    if m > MAX_MINUTES:
        raise LineProblem(f"{m} minutes is over 24 hours")
    return m


def over_a_day(timed_total: int) -> None:
    """Refuse a visit whose timed minutes add up to more than 24 hours, as one line's are refused."""
    if timed_total > MAX_MINUTES:
        raise LineProblem(f"the visit's timed minutes add up to {timed_total:,}, over 24 hours "
                          f"({MAX_MINUTES:,}) — check the minutes")


@dataclass
class CodeShare:
    """One code's part of a visit: its minutes and how its units were reached."""

    code: str  # "" for a line with no code (a generic timed service)
    minutes: int
    timed: bool
    lines: list[int] = field(default_factory=list)  # input positions, first is billed
    whole: int = 0
    leftover: int = 0
    extra: int = 0
    units: int = 0
    site: str = ""  # a per-application code's site modifiers (PT_EXPLAIN), when sites are known
    repeats: str = ""  # why a per-application line is no application of its own (0 units)


@dataclass
class VisitUnits:
    method: str
    timed_total: int
    chart: int  # CMS chart units for the timed total (also shown for AMA)
    shares: list[CodeShare]
    tie: str = ""  # how a tie was broken, if one was
    payment_notes: list[str] = field(default_factory=list)  # e.g. 97010 pays $0 (status B)
    splits: list[Split] = field(default_factory=list)  # how each assisted service's units divide (CQ/CO)

    def explain(self) -> str:
        """One line saying how the units were reached (for notes and auditors)."""
        timed = [s for s in self.shares if s.timed]
        parts = []
        if self.method == CMS:
            lo, hi = chart_range(self.chart)
            parts.append(f"{self.timed_total} timed min → {self.chart} unit{'s' if self.chart != 1 else ''} ({lo}–{hi}).")
            bits = []
            for s in timed:
                name = s.code or "timed"
                rep = f" (on {len(s.lines)} lines, added)" if len(s.lines) > 1 else ""
                bits.append(f"{name} {s.minutes} min{rep}: {s.whole} whole + {s.leftover} left")
            if bits:
                parts.append("; ".join(bits) + ";")
            rank = lambda s: _rank(s.minutes, s.code)  # noqa: E731  (the tie rule; s.leftover is minutes % 15)
            got = sorted((s for s in timed if s.extra), key=rank)
            missed = sorted((s for s in timed if not s.extra and s.leftover), key=rank)
            if got:
                who = ", ".join(f"{s.code or 'timed'} ({s.leftover})" for s in got)
                cut = min(s.leftover for s in got)
                # a code tied with the last one in is not "beaten": the tie sentence below says so
                beaten = [s for s in missed if s.leftover < cut]
                vs = (" > " + ", ".join(f"{s.code or 'timed'} ({s.leftover})" for s in beaten)) if beaten else ""
                parts.append(f"extra unit{'s' if len(got) > 1 else ''} to {who}{vs}.")
            elif timed:
                parts.append("no extra units.")
            if self.tie:
                parts.append(self.tie + ".")
        else:
            bits = [f"{s.code or 'timed'} {s.minutes} min → {s.units}" for s in timed]
            parts.append("Per code: " + ("; ".join(bits) if bits else "no timed codes") + ".")
        for s in self.shares:
            if s.timed:
                continue
            if s.repeats:
                parts.append(f"{s.code} {s.site} per application: 0 units ({s.repeats}; add RT/LT, or 59/XS, "
                             "if it is a different site).")
            elif s.site:
                rep = f" (on {len(s.lines)} lines: one application)" if len(s.lines) > 1 else ""
                parts.append(f"{s.code} {s.site} per application: 1 unit{rep}.")
            else:
                rep = f" (on {len(s.lines)} lines: one service)" if len(s.lines) > 1 else ""
                parts.append(f"{s.code} untimed: 1 unit{rep}.")
        for sp in self.splits:
            parts.append(sp.explain() + ".")
        for note in self.payment_notes:
            parts.append(note + ".")
        parts.append(CITATION[self.method])
        return " ".join(parts)


def _rank(minutes: int, name: str) -> tuple[int, int, str]:
    """THE tie rule's ranking of one timed service for a leftover unit (lowest first): most
    leftover minutes, then more total minutes, then the lower code ("" for an unnamed service)."""
    return (-(minutes % 15), -minutes, name)


def _tie_key(key: K, totals: Mapping[K, int]) -> tuple[int, int, str]:
    """``_rank`` of a service of ``code_units``: a code, or any other key (an unnamed service) as ""."""
    return _rank(totals[key], key if isinstance(key, str) else "")


def log_code_units(bounds: Sequence[int], minutes: Sequence[int], names: Sequence[str],
                   cms: Sequence[bool]) -> list[int]:
    """THE unit rule over many visits at once: timed minutes per service -> units per service.

    Columns, one entry per timed service (a code's minutes of a visit, added
    over its lines): ``minutes`` (whole, not over a day), ``names`` (the code,
    "" for an unnamed service; only the tie rule reads it). Visit ``v``'s
    services are ``bounds[v]:bounds[v + 1]``, in the order the visit met them
    (an unnamed tie falls to the earlier one); ``cms[v]``: the visit's method
    is CMS, else per code (AMA).

    CMS: the chart for the visit's total; one unit per whole 15 minutes of each
    service; the remaining units one each to the services with the most
    leftover minutes (tie rule in ``_rank``). AMA: each service on its own.
    ``code_units`` is this on one visit, so PT_UNITS, PT_VALIDATE and
    PT_EXPLAIN cannot disagree.
    """
    units = [m // 15 for m in minutes]  # whole units
    left = [m - 15 * w for m, w in zip(minutes, units)]
    for a, b, is_cms in zip(bounds, islice(bounds, 1, None), cms):
        if b - a == 1 or not is_cms:  # per code, as CMS's chart is for a visit of one service
            for j in range(a, b):
                if left[j] >= 8:
                    units[j] += 1
            continue
        # chart(total) - sum(whole) = (sum(leftover) + 7) // 15, as total = 15 * whole + leftover
        # (and under 8 minutes both are 0): never negative, never more than the leftovers
        lf = left[a:b]
        remaining = (sum(lf) + 7) // 15
        if not remaining:
            continue
        if remaining == b - a - lf.count(0):  # every leftover gets its unit: nothing to rank
            for j in range(a, b):
                if left[j]:
                    units[j] += 1
            continue
        by_left = sorted(lf, reverse=True)
        cut = by_left[remaining - 1]  # the least leftover that gets a unit (never 0: remaining <= leftovers)
        if by_left[remaining] < cut:  # no tie at the cut: the most leftover take the units, nothing to rank
            for j in range(a, b):
                if left[j] >= cut:
                    units[j] += 1
            continue
        ranks = list(map(_rank, minutes[a:b], names[a:b]))
        # a leftover of 0 ranks after every other (remaining never reaches it); sorted() is stable
        for j in sorted(range(b - a), key=ranks.__getitem__)[:remaining]:
            units[a + j] += 1
    return units


def code_units(totals: Mapping[K, int], method: str) -> dict[K, int]:
    """THE unit rule for one visit: timed minutes per code -> units per code (``log_code_units``).

    Keys are codes (or any hashable for unnamed services, which rank as "");
    values whole minutes. ``method``: CMS, anything else per code (AMA).
    """
    keys = list(totals)
    got = log_code_units((0, len(keys)), list(totals.values()),
                         [k if isinstance(k, str) else "" for k in keys], (method == CMS,))
    return dict(zip(keys, got))


def tie_alternative(totals: Mapping[K, int], want: Mapping[K, int], billed: Mapping[K, int]) -> bool:
    """True when ``billed`` differs from ``want`` (``code_units``, CMS) only by how a tie was broken.

    The manual lets the therapist choose between codes with equal leftover
    minutes at the cut (its example 2; CMS's CQ/CO example #E): any code tied
    at the cut may take the extra unit, as long as the total is the same.
    """
    got = [c for c in totals if want[c] > totals[c] // 15]
    if not got:
        return False
    cut = min(totals[c] % 15 for c in got)
    diff = [c for c in totals if billed.get(c) != want[c]]
    for c in diff:
        whole = totals[c] // 15
        if totals[c] % 15 != cut or billed.get(c) not in (whole, whole + 1):
            return False
    return bool(diff) and sum(billed[c] for c in diff) == sum(want[c] for c in diff)


def _tie_note(shares: list[CodeShare], totals: Mapping[object, int], keys: Mapping[int, object]) -> str:
    """Say how a tie at the cut between units given and not given was broken, if there was one."""
    got = [s for s in shares if s.extra]
    missed = [s for s in shares if not s.extra and s.leftover]
    if not got or not missed:
        return ""
    last_in = max(got, key=lambda s: _tie_key(keys[id(s)], totals))
    first_out = min(missed, key=lambda s: _tie_key(keys[id(s)], totals))
    if last_in.leftover != first_out.leftover:
        return ""
    cut = last_in.leftover
    tied_out = ", ".join(s.code or "timed" for s in missed if s.leftover == cut)
    how = "more total minutes" if last_in.minutes != first_out.minutes else "lower code"
    return (f"tie at {cut} left between {last_in.code or 'timed'} and {tied_out}: the tie rule (more total "
            f"minutes, then the lower code) gives the unit to {last_in.code or 'timed'} ({how}); the manual "
            "lets the biller choose, and PT_VALIDATE accepts either")


_ASSISTANT_FLAGS = frozenset(("CQ", "CO", True))


def is_assistant_flag(flag: object) -> bool:
    """A line's flag (see ``log_units``) says an assistant furnished it (CQ or CO)."""
    try:
        return flag in _ASSISTANT_FLAGS
    except TypeError:  # an unhashable flag is no assistant's
        return False


def visit_units(lines: Sequence[VisitLine], method: object = CMS, catalog: Catalog | None = None,
                dos: dt.date | None = None) -> tuple[list[int], VisitUnits]:
    """Units for each line of one visit (one patient, one date), with the working.

    ``lines`` are (code, minutes), or (code, minutes, flag, assistant_minutes)
    for the CQ/CO split (``flag`` as in ``log_units``), or (code, minutes,
    flag, assistant_minutes, site) with each line's ``per_application.Site``
    (the lines' sites all given, or none), with codes normalised
    (None = an unnamed timed service) and minutes already whole and in range.
    ``dos`` picks the dated CQ/CO rule (None: the newest). Returns the units
    per line (as ``log_units`` gives them) and the working, for PT_EXPLAIN.
    Raises UnknownCode for a code not in the catalog, LineProblem naming the
    line for assistant minutes it cannot use.
    """
    method = normalize_method(method)
    catalog = catalog if catalog is not None else catalog_for(None)
    # padded to five fields, as VisitLine's longest shape: mypy cannot follow the padding
    rows: list[tuple[str | None, int, object, int | None, Site | None]] = [
        tuple(ln) + (None,) * (5 - len(ln)) for ln in lines]  # type: ignore[misc]
    sites = [r[4] for r in rows] if any(r[4] is not None for r in rows) else None
    # a per-application code's lines: each application its own share, a line that repeats one a share of 0
    placed: dict[int, tuple[object, str, str]] = {}  # line -> (share key, site label, why it repeats)
    if sites is not None:
        by_code: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            pa_code = r[0]
            if pa_code is not None:
                info = catalog.get(pa_code)
                if info is not None and info.per_application:
                    by_code.setdefault(pa_code, []).append(i)
        for pa_code, lns in by_code.items():
            apps, repeats = applications([sites[i] for i in lns])
            plain = len(apps) == 1 and not repeats and _site_label(sites[lns[0]]) == _NO_SITE_LABEL
            for k, g in enumerate(apps):
                label = "" if plain else _site_label(sites[lns[g[0]]])  # one unsited application reads as before
                for j in g:
                    placed[lns[j]] = ((pa_code, k), label, "")
            for u in repeats:
                placed[lns[u.line]] = ((pa_code, "repeat", lns[u.line]), _site_label(sites[lns[u.line]]), u.why)
    shares: dict[object, CodeShare] = {}
    keys: dict[int, object] = {}
    order: list[CodeShare] = []
    for i, (code, minutes, _, _, _) in enumerate(rows):
        site = why = ""
        if code is None:
            key: object = i  # each unnamed line is its own service
            timed = True
        else:
            info = catalog[code]
            timed = info.timing == TIMED
            key = code  # timed: minutes added; untimed: one service per visit
            if info.timing not in (TIMED, UNTIMED):
                raise LineProblem(f"{code} is not billed in 15-minute units; enter its units by hand")
            if i in placed:
                key, site, why = placed[i]
        s = shares.get(key)
        if s is None:
            s = shares[key] = CodeShare(code or "", 0, timed, site=site, repeats=why)
            keys[id(s)] = key
            order.append(s)
        s.minutes += minutes
        s.lines.append(i)
    over_a_day(sum(s.minutes for s in order if s.timed))  # the visit's, not one line's, before the lines
    split = any(r[2] is not None or r[3] is not None for r in rows)
    per_line, splits = _log_units([r[1] for r in rows], [r[0] for r in rows], method, None, catalog,
                                  [r[2] for r in rows] if split else None,
                                  [r[3] for r in rows] if split else None, None, dos, explain=True, sites=sites)
    for i, line_units in enumerate(per_line):
        if line_units.__class__ is not int:
            raise LineProblem(f"line {i + 1}: {line_units}")
    timed_shares = [s for s in order if s.timed]
    totals = {keys[id(s)]: s.minutes for s in timed_shares}
    units = code_units(totals, method)
    for s in timed_shares:
        s.whole, s.leftover = divmod(s.minutes, 15)
        s.units = units[keys[id(s)]]
        s.extra = max(0, s.units - s.whole) if method == CMS else 0
    tie = _tie_note(timed_shares, totals, keys) if method == CMS else ""
    total = sum(totals.values())
    for s in order:
        if not s.timed:
            s.units = 0 if s.repeats else 1
    notes = []
    for s in order:
        known = catalog.get(s.code) if s.code else None
        reason = unpaid_reason(s.code, known.status) if known is not None else None
        if reason and reason not in notes:
            notes.append(f"{s.code} pays $0 to Medicare ({reason})")
    found = [sp for visit in splits.values() for sp in visit]
    # per_line holds only ints: the loop above raised for any other line
    return per_line, VisitUnits(method, total, chart_units(total), order, tie, notes, found)  # type: ignore[return-value]


def log_units(minutes: Sequence[object], codes: Sequence[object] | None = None,
              method: object = CMS, visits: Sequence[object] | None = None,
              catalog: Catalog | None = None,
              assisted: Sequence[object] | None = None,
              assistant_minutes: Sequence[object] | None = None,
              dates: Sequence[object] | None = None,
              sites: Sequence[Site | None] | None = None) -> list[int | None | LineProblem]:
    """Units for every line of a log, grouped into visits by ``visits`` (or one visit).

    Per line: an int, None for a blank line, or a LineProblem saying what is
    wrong with it. A bad line is left out of its visit's total and the other
    lines are still computed. Raises UnknownMethod or BadValue for arguments
    that spoil every line (a method name, mismatched lengths).

    A timed code's units go on its first line of the visit (repeats get 0); an
    untimed code is one unit per visit, on its first line. A per-application
    code (strapping) is one unit per application when ``sites`` (per line, the
    ``per_application.Site`` of its modifiers) are given: lines told apart by
    their site modifiers (RT/LT, 59/XS...) each bill 1; a line that cannot be
    told from another gets 0 (``per_application.applications``). Without
    ``sites``, one unit per visit like any untimed code.

    The CQ/CO split (``assistant_split``): ``assisted`` holds a flag per line:
    "CQ" or "CO" (or True) for an assistant's line, anything else for a
    therapist's line ("GO" marks an OT line). ``assistant_minutes`` (raw cells)
    are the assistant's independent minutes within a line; when blank, an
    assistant's line is all the assistant's. ``dates`` (per line: a date,
    None, or the LineProblem of an unreadable date) pick the dated rule, by the
    visit's first line; omitted, the newest rule. A service's units with CQ/CO
    go on its first assistant line, the others on its first therapist line
    (either, when the service has only one kind of line).

    This runs on every recalculation of a whole log in Excel, so the loop is
    kept flat: the common cell types are handled inline and codes are looked up
    once per distinct value; anything unusual goes through the full coercion.
    """
    return _log_units(minutes, codes, method, visits, catalog, assisted, assistant_minutes, dates, sites=sites)[0]


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
    asst_cache: dict[object, int | None] = {}  # assistant minutes cell -> minutes (often '' -> None)
    raw_groups: dict[object, list[int]] = {}
    float_, int_, str_, bool_, problem = float, int, str, bool, LineProblem
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
        number = rm.__class__ is float_ or rm.__class__ is int_  # not a bool: its class is bool
        if number and rm in min_cache:
            m: int | None = min_cache[rm]
        else:
            try:
                m = coerce_minutes(rm)
            except LineProblem as e:
                out[i] = e
                continue
            if number:
                # rm is a number (checked by class, which mypy does not follow), whose minutes are never None;
                # 20.0 and 20 are one key, as they are the same minutes
                min_cache[rm] = m  # type: ignore[index, assignment]
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
        if assistant_minutes is not None and (ra := assistant_minutes[i]) is not None:
            kind = ra.__class__
            plain = kind is str_ or kind is float_ or kind is int_  # the cells a column holds, by value
            if plain and ra in asst_cache:
                a = asst_cache[ra]
            else:
                try:
                    a = coerce_minutes(ra)
                except LineProblem as e:
                    out[i] = problem(f"assistant {e}")
                    continue
                if plain:
                    asst_cache[ra] = a
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
    # Every visit's timed services as columns, for ONE run of the kernel over the whole log: a code's
    # minutes added over its lines of the visit, its units on its first line (its repeats get 0).
    s_min: list[int] = []
    s_name: list[str] = []  # the tie rule's name: the code, "" for an unnamed line
    s_line: list[int] = []  # the line that bills the service's units
    bounds = [0]
    # the visits with per-application lines, or lines the CQ/CO split may divide: done after the units
    later: list[tuple[object, list[int], dict[object, list[int]] | None]] = []
    # a line the split may divide: an assistant's, or one with assistant minutes (see the split below)
    maybe = [h or a is not None for h, a in zip(helped_of, asst_of)] if split else []
    for key, idxs in groups.items():
        start = len(s_min)
        seen: dict[object, int] = {}  # code -> its timed service's column position; -1 for an untimed code
        per_app: dict[object, list[int]] | None = None
        total = 0
        for i in idxs:
            c = line_code[i]
            if line_timed[i]:
                m = line_min[i]
                total += m
                j = seen.get(c)
                if j is None:
                    seen[c] = len(s_min)
                    s_min.append(m)
                    s_name.append(c if c.__class__ is str else "")  # a code, or "" for an unnamed line
                    s_line.append(i)
                else:
                    s_min[j] += m
                    out[i] = 0
            elif sites is not None and line_pa[i]:
                if per_app is None:
                    per_app = {}
                per_app.setdefault(c, []).append(i)
            elif c in seen:
                out[i] = 0  # one service per visit, however many lines record it
            else:
                seen[c] = -1
                out[i] = 1
        if len(idxs) > 1 and total > MAX_MINUTES:
            try:
                over_a_day(total)
            except LineProblem as e:
                for i in idxs:
                    out[i] = e
            del s_min[start:], s_name[start:], s_line[start:]  # no units for this visit: its rows say why
            continue
        bounds.append(len(s_min))
        if per_app is not None or (split and any(map(maybe.__getitem__, idxs))):
            later.append((key, idxs, per_app))
    if s_min:
        for i, u in zip(s_line, log_code_units(bounds, s_min, s_name, [method == CMS] * (len(bounds) - 1))):
            out[i] = u
    splits: dict[object, list[Split]] = {}
    for key, idxs, per_app in later:
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


def _place_applications(per_app: dict[object, list[int]], sites: Sequence[Site | None],
                        line_code: list[object], out: Units) -> set[int]:
    """One visit's per-application lines (code -> line indices): 1 unit on the first line of each
    application (``per_application.applications``), 0 on the others; each application after the first
    becomes its own service for the CQ/CO split. Returns the lines that are no application."""
    repeats: set[int] = set()
    for c, lns in per_app.items():
        apps, unplaced = applications([sites[i] for i in lns])
        for k, g in enumerate(apps):
            key = c if k == 0 else (c, k)
            for j in g:
                line_code[lns[j]] = key
                out[lns[j]] = 0
            out[lns[g[0]]] = 1
        for u in unplaced:
            out[lns[u.line]] = 0
            repeats.add(lns[u.line])
    return repeats


_NO_SITE_LABEL = NO_SITE.label()


def _site_label(site: Site | None) -> str:
    return site.label() if site is not None else _NO_SITE_LABEL


def _divide(idxs: list[int], line_code: list[object], line_min: list[int], line_timed: list[bool],
            flags: Sequence[object], helped_of: list[bool], a_line: list[int], out: Units,
            dos: dt.date | None) -> list[Split]:
    """Divide each assisted service's units of one visit (``assistant_split``) and place them:
    CQ/CO units on its first assistant line, the others on its first therapist line.

    Every line of ``idxs`` has its int units in ``out`` already (``_log_units`` set them), hence
    the type: ignore[operator] on adding to them."""
    lines_of: dict[object, list[int]] = {}
    involved = set()
    for i in idxs:
        c = line_code[i]
        g = lines_of.get(c)
        if g is None:
            lines_of[c] = [i]
        else:
            g.append(i)
        if a_line[i] or helped_of[i]:
            involved.add(c)
    made = []
    for c in involved:
        lns = lines_of[c]
        helped = [i for i in lns if helped_of[i]]
        plain = [i for i in lns if not helped_of[i]]
        a_min = total = units = 0
        co = False
        for i in lns:
            a_min += a_line[i]
            total += line_min[i]
            units += out[i]  # type: ignore[operator]
            co = co or flags[i] == "CO" or flags[i] == "GO"
        modifier = "CO" if co else "CQ"
        # a code, an application of a per-application code (code, k), or an unnamed line's index
        code = c if isinstance(c, str) else c[0] if isinstance(c, tuple) else ""
        if line_timed[lns[0]]:
            s = split_timed(code, a_min, total - a_min, units, dos, modifier)
        else:
            s = split_untimed(code, a_min, total - a_min, dos, modifier, bool(helped))
        for i in lns:
            out[i] = 0
        out[helped[0] if helped else plain[0]] += s.assistant_units  # type: ignore[operator]
        out[plain[0] if plain else helped[0]] += s.therapist_units  # type: ignore[operator]
        made.append(s)
    made.sort(key=lambda s: s.code)  # a stable order for the explanation, whatever the line order
    return made


def _code_entry(raw_code: object, catalog: Catalog) -> tuple[str | None, str, bool] | LineProblem:
    code = normalize_code(raw_code)
    if code is None:
        return (None, TIMED, False)
    info = catalog.get(code)
    if info is None:
        try:
            info = catalog[code]  # raises: the lookup's UnknownCode names the likely fix
        except UnknownCode as e:
            return LineProblem(str(e))
    if info.timing not in (TIMED, UNTIMED):
        return LineProblem(f"{code} is not billed in 15-minute units; enter its units by hand")
    return (code, info.timing, info.per_application)


def _visit_key(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        value = value.strip().casefold()  # keys compare as patients do: "P01|45931" is "p01|45931"
        return value or None
    return value


def explain_visit(minutes: Iterable[object], codes: Iterable[object] | None = None,
                  method: object = CMS, catalog: Catalog | None = None,
                  assisted: Iterable[object] | None = None, assistant_minutes: Iterable[object] | None = None,
                  dos: dt.date | None = None, sites: Iterable[Site | None] | None = None) -> str:
    """The PT_EXPLAIN text for one visit; raises LineProblem/UnknownCode naming the bad line.

    ``assisted``, ``assistant_minutes`` and ``sites`` as in ``log_units``;
    ``dos`` picks the dated CQ/CO rule (None: the newest).
    """
    minutes = list(minutes)
    n = len(minutes)
    codes = list(codes) if codes is not None else [None] * n
    flags = list(assisted) if assisted is not None else [None] * n
    asst = list(assistant_minutes) if assistant_minutes is not None else [None] * n
    where = list(sites) if sites is not None else [None] * n
    for what, seq in (("codes", codes), ("modifiers", flags), ("assistant minutes", asst), ("sites", where)):
        if len(seq) != n:
            raise BadValue(f"{what} has {len(seq)} lines but minutes has {n}")
    catalog = catalog if catalog is not None else catalog_for(None)
    lines = []
    for i, (raw_m, raw_c, flag, raw_a, site) in enumerate(zip(minutes, codes, flags, asst, where), start=1):
        try:
            m = coerce_minutes(raw_m)
            code = normalize_code(raw_c)
            if code is not None:
                info = catalog[code]
                if m is None and info.timing != TIMED:
                    m = 0
            if m is None:
                if code is None:
                    continue
                raise LineProblem(f"no minutes for timed code {code}")
            a = coerce_minutes(raw_a) if raw_a is not None else None
        except (LineProblem, UnknownCode) as e:
            raise LineProblem(f"line {i}: {e}") from None
        lines.append((code, m, flag, a, site) if sites is not None else (code, m, flag, a))
    if not lines:
        raise BadValue("no lines to explain")
    _, working = visit_units(lines, method, catalog, dos)
    return working.explain()


# --- checking billed units (PT_VALIDATE) ----------------------------------------------------

from .findings import ERROR, WARN, Finding, describe_line  # noqa: E402  (kept beside the checks that use it)

UNIT_RULES = {
    "UNITS-OVER": (ERROR, "More units billed than the payer's method (CMS 8-minute rule or per code) gives."),
    "UNITS-UNDER": (WARN, "Fewer units billed than the method gives (or Units blank): revenue left unbilled."),
    "UNITS-UNTIMED": (ERROR, "An untimed (service-based) code billed with more than 1 unit in a visit, on one line or across lines; a per-application code (strapping) more than 1 unit a line, or on a line whose site modifiers (RT/LT, finger/toe, 50, 59/XS...) do not tell it from another line's application."),
    "UNITS-UNDER-8": (ERROR, "A timed code under 8 minutes billed alone."),
    "UNITS-DUPLICATE": (ERROR, "The same timed code on two lines of one visit (WARN before 2021-04-19 or for non-Medicare)."),
    "GROUP-UNITS": (ERROR, "Group therapy 97150 billed with more than 1 unit in a visit (it is per session), on one line or across lines."),
    "MINUTES-MISSING": (ERROR, "A timed code with no minutes: its units cannot be checked."),
}
SINGLE_LINE_FROM = dt.date(2021, 4, 19)  # First Coast: one line per timed code per date of service


def unit_findings(visit_lines: Sequence[L], method: str, catalog: Catalog, medicare: bool,
                  services: Services[L] | None = None, keeper: Keeper[L] | None = None) -> list[Finding]:
    """Billed units against the method, for the lines of ONE visit (ClaimLine-like objects).

    ``unit_log_findings`` on one visit (the PT_UNITS rule, ``log_code_units``).
    Lines of the same timed code are added together, as the rule requires;
    their billed units are compared as a total on the code's first line. A
    CQ/CO line and a line without are different lines of the same code by
    design (CMS's CQ/CO billing examples). A different allocation of a tie at
    the cut is the biller's choice and is accepted (``tie_alternative``). An
    untimed code is one unit per visit, however many lines record it; a
    per-application code (strapping) one unit per application, its lines
    grouped by ``per_application.applications`` from their modifiers, as
    ``log_units`` groups them.

    ``services`` (a dict), when given, receives each service billed right in
    total, code -> (lines, units, timed): the CQ/CO split is checked on those
    (``assistant_modifiers.split_findings``, called by ``validate``).
    ``keeper(code, lines, billed)`` picks, of the lines billing an untimed code
    twice, the one that keeps the unit, with the split that says so (or None).
    """
    found, billed_right = unit_log_findings([(visit_lines, method, catalog, medicare, keeper)])[0]
    if services is not None:
        services.update(billed_right)
    return found


def unit_log_findings(visits: Iterable[tuple[Sequence[L], str, Catalog, bool, Keeper[L] | None]]
                      ) -> list[tuple[list[Finding], Services[L]]]:
    """``unit_findings`` for many visits at once: per visit (lines, method, catalog, Medicare,
    keeper), its findings and its services billed right in total, in the visits' order.

    The timed services of every visit go through the kernel (``log_code_units``)
    once. A visit whose timed codes are each on one line billing the kernel's
    units is right and needs nothing more; only the others (units that differ
    or are blank, repeated lines, untimed and per-application codes, missing
    minutes) run the per-visit message code. Nothing here reads a dated
    release (the catalogs come in), so no visit can fail for its date here.
    """
    results: list[tuple[list[Finding], Services[L]]] = []
    bounds = [0]
    s_min: list[int] = []  # per timed service of every visit: minutes, code, as the kernel reads them
    s_name: list[str] = []
    cms: list[bool] = []
    # per visit in the kernel, in its order: its findings, services, timed lines by code, method
    judged: list[tuple[list[Finding], Services[L], dict[str, list[L]], str]] = []
    # catalog -> code -> its timing ("" for a code the catalog lacks): a log has a catalog a year
    # and a few dozen codes, looked up on every line
    timings: dict[Catalog, dict[str, str]] = {}
    for visit_lines, method, catalog, medicare, keeper in visits:
        out: list[Finding] = []
        services: Services[L] = {}
        results.append((out, services))
        by_code: dict[str, list[L]] = {}  # the timed lines with minutes, by code
        untimed: dict[str, list[L]] | None = None
        repeated = False  # a timed code on two lines
        start = len(s_min)  # this visit's timed services go on the columns as its lines meet them
        timing_of = timings.get(catalog)
        if timing_of is None:
            timing_of = timings[catalog] = {}
        for ln in visit_lines:
            timing = timing_of.get(ln.code)
            if timing is None:
                info = catalog.get(ln.code)
                timing = timing_of[ln.code] = info.timing if info is not None else ""
            if timing == TIMED:
                if ln.minutes is None:
                    out.append(Finding(ln.index, ERROR, "MINUTES-MISSING",
                                       f"{ln.code} is timed but Minutes is blank — enter the treatment minutes"))
                    continue
                g = by_code.get(ln.code)
                if g is None:
                    by_code[ln.code] = [ln]
                    s_min.append(ln.minutes)
                    s_name.append(ln.code)
                else:
                    g.append(ln)
                    repeated = True
            elif timing == UNTIMED:
                if untimed is None:
                    untimed = {}
                untimed.setdefault(ln.code, []).append(ln)
        if untimed is not None:
            for code, lns in untimed.items():
                if catalog[code].per_application:
                    out += _per_application_findings(code, lns, keeper, services)
                    continue
                found = _untimed_findings(code, lns, keeper)
                out += found
                if not found and sum(ln.units or 0 for ln in lns) == 1:
                    services[code] = (lns, 1, False)
        if not by_code:
            continue
        if repeated:  # the repeated codes' minutes added up, and each repeat called a duplicate
            for k, (code, lns) in enumerate(by_code.items(), start):
                if len(lns) > 1:
                    s_min[k] = sum(ln.minutes for ln in lns)  # type: ignore[misc]  # not None: by_code's lines have minutes
                    out += _duplicate_findings(code, lns, medicare)
        timed_total = sum(s_min[start:])
        if timed_total > MAX_MINUTES:  # as a line over 24 hours: no units can be judged, the rows say why
            del s_min[start:], s_name[start:]
            try:
                over_a_day(timed_total)
            except LineProblem as e:
                out += [Finding(ln.index, ERROR, "INPUT", f"Minutes cells: {e}") for ln in visit_lines
                        if ln.minutes is not None and ln.code in by_code]
            continue
        bounds.append(len(s_min))
        cms.append(method == CMS)
        judged.append((out, services, by_code, method))
    units = log_code_units(bounds, s_min, s_name, cms)
    for (out, services, by_code, method), a in zip(judged, bounds):
        j = a
        for code, lns in by_code.items():
            if len(lns) > 1 or lns[0].units != units[j]:  # blank units (None) differ too
                break
            services[code] = (lns, units[j], True)  # one line, billed as the kernel says: right
            j += 1
        else:  # every code right: nothing to say
            continue
        for code in islice(by_code, j - a):  # the message code says it all, in its order
            del services[code]
        out += _timed_messages(by_code, units[a:a + len(by_code)], method, services)
    return results


def _per_application_findings(code: str, lines: list[L], keeper: Keeper[L] | None,
                               services: Services[L]) -> list[Finding]:
    """One unit per application of a per-application code: each application is checked as one untimed
    service; a billed line that is no application of its own (``applications``) is an ERROR."""
    apps, repeats = applications([site_of(ln.modifiers) for ln in lines])
    out: list[Finding] = []
    for k, g in enumerate(apps):
        lns = [lines[j] for j in g]
        found = _untimed_findings(code, lns, keeper, per_application=True)
        out += found
        if not found and sum(ln.units or 0 for ln in lns) == 1:
            services[code if k == 0 else (code, k)] = (lns, 1, False)
    for u in repeats:
        ln = lines[u.line]
        if (ln.units or 0) < 1:
            continue
        other = describe_line(lines[u.beside])
        if "50" in lines[u.beside].modifiers and "50" not in ln.modifiers:
            fix = "bill 0 here, or bill RT and LT on two lines instead of 50"
        else:
            fix = "add the other side (RT/LT), or 59/XS if it is a different site; else bill 0 here"
        out.append(Finding(ln.index, ERROR, "UNITS-UNTIMED",
                           f"{code} is billed per application: {u.why} ({other}) — {fix}"))
    return out


def _untimed_findings(code: str, lines: list[L], keeper: Keeper[L] | None,
                      per_application: bool = False) -> list[Finding]:
    """One unit of an untimed code per visit (per application): more on a line, or on two lines, is an ERROR."""
    out = []
    for ln in lines:
        if (ln.units or 0) > 1:
            if per_application:
                how = ("with 50 a bilateral application is 1 unit on one line" if "50" in ln.modifiers
                       else "a second application goes on its own line with RT/LT (or 59/XS)")
                out.append(Finding(ln.index, ERROR, "UNITS-UNTIMED",
                                   f"{code} is billed per application, 1 unit a line — bill 1, not {ln.units}; {how}"))
            elif code == "97150":
                out.append(Finding(ln.index, ERROR, "GROUP-UNITS",
                                   f"97150 is billed per session, not per 15 min — bill 1 unit, not {ln.units}"))
            else:
                out.append(Finding(ln.index, ERROR, "UNITS-UNTIMED",
                                   f"{code} is untimed (1 unit per day) — bill 1, not {ln.units}"))
    billed = [ln for ln in lines if (ln.units or 0) >= 1]
    if out or len(billed) < 2:
        return out
    keep, why = billed[0], ""
    kept = keeper(code, lines, billed) if keeper is not None else None
    if kept is not None:
        keep, split = kept
        why = f" ({split.explain()})"
    rule = "GROUP-UNITS" if code == "97150" else "UNITS-UNTIMED"
    what = "group therapy 97150 is one unit per session" if code == "97150" else f"{code} is untimed: one unit per visit"
    end = " — bill 0 here"
    if per_application:
        what = f"{code} is one unit per application and these lines name the same site ({site_of(keep.modifiers).label()})"
        end = f" — {fix_hint(code)}"
    for ln in billed:
        if ln is not keep:
            out.append(Finding(ln.index, ERROR, rule, f"{what}: bill it once, on the line {describe_line(keep)}{why}{end}"))
    return out


def _duplicate_findings(code: str, lines: list[L], medicare: bool) -> list[Finding]:
    """A timed code on more than one line of a visit: each repeat of its CQ/CO line or of its
    line without is a duplicate (ERROR for Medicare from 2021-04-19, else WARN)."""
    out = []
    seen: dict[bool, object] = {}
    for ln in lines:
        assisted = "CQ" in ln.modifiers or "CO" in ln.modifiers
        first = seen.setdefault(assisted, ln)
        if first is not ln:
            strict = medicare and ln.dos >= SINGLE_LINE_FROM
            out.append(Finding(ln.index, ERROR if strict else WARN, "UNITS-DUPLICATE",
                               f"{code} is on another line of this visit — put all {code} minutes on one line"))
    return out


def _timed_messages(by_code: dict[str, list[L]], kernel_units: list[int], method: str,
                    services: Services[L]) -> list[Finding]:
    """The findings of one visit's timed codes (``by_code``: their lines, each with minutes), given
    the kernel's units per code (``kernel_units``, in ``by_code``'s order); fills ``services``."""
    out: list[Finding] = []
    totals: dict[str, int] = {}
    billed_of: dict[str, int] = {}
    complete_of: dict[str, bool] = {}
    for code, lns in by_code.items():
        totals[code] = sum(ln.minutes for ln in lns)  # type: ignore[misc]  # not None: see the docstring
        billed_of[code] = sum(ln.units or 0 for ln in lns)
        complete_of[code] = all(ln.units is not None for ln in lns)
    units_of = dict(zip(by_code, kernel_units))
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
