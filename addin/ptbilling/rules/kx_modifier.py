"""The KX modifier (therapy threshold) and targeted medical review, per patient and year.

References:
- Bipartisan Budget Act of 2018 §50202; CMS Pub. 100-04 ch.5 §10.3 and the
  yearly PFS final rules: once a patient's Medicare-allowed therapy amount for
  the calendar year passes the KX threshold, lines need KX (attesting medical
  necessity) or they are denied. PT and SLP share one amount; OT has its own.
  Amounts from other providers that year count too.
- The targeted medical review threshold, $3,000 per bucket (through 2027 in
  our data): a claim past it may be reviewed; a warning, not a denial.
- therapy-billing-rules.md section 6; thresholds by year in data/figures.json.

The allowed amounts are the fee schedule's national amounts (``fee_schedule``,
MPPR and CQ/CO included): a session log does not say the locality. The
``Prior Allowed`` column starts the year's total (the largest value given on a
patient's lines of that year and bucket). Only traditional Medicare lines with
a therapy modifier (GP, GN, GO) are counted; Medicare Advantage plans set their
own rules.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from decimal import Decimal, Inexact, localcontext
from functools import lru_cache
from operator import itemgetter, mul
from pathlib import Path

from . import datasets
from .claim_lines import ClaimLine, is_medicare, is_medicare_advantage
from .errors import PtBillingError
from .fee_schedule import (
    PT_SLP,
    FeeLine,
    Figure,
    allowed_amounts,
    kx_running,
    kx_start,
    kx_threshold,
    price_lines,
    review_threshold,
)
from .findings import ERROR, WARN, Finding

RULES = {
    "KX-MISSING": (ERROR, "Medicare: the patient's PT+SLP (or OT) allowed amount this year is past the KX threshold and the line has no KX."),
    "KX-REVIEW": (WARN, "Medicare: the bucket is past the $3,000 targeted medical review threshold."),
    "KX-UNCHECKED": (WARN, "Medicare: the KX threshold could not be checked (no fee schedule for the year); once per patient and year."),
}

DISCIPLINE_OF_MODIFIER = {"GP": "PT", "GN": "SLP", "GO": "OT"}
_ZERO = Decimal(0)
# ClaimLine's fields read at C speed (map over a whole log's lines)
_CODE, _UNITS, _DOS, _MODIFIERS, _PRIOR = (itemgetter(ClaimLine._fields.index(f))
                                            for f in ("code", "units", "dos", "modifiers", "prior_allowed"))


def _discipline_of(modifiers: tuple[str, ...]) -> str | None:
    """PT, SLP or OT: the line's first therapy modifier (GP, GN, GO), None without one."""
    for m in modifiers:
        d = DISCIPLINE_OF_MODIFIER.get(m)
        if d:
            return d
    return None


def _full_unit_price(code: str, dos: dt.date) -> Decimal | None:
    """One unit at the full national fee (no MPPR, no CQ/CO cut): an upper bound per unit."""
    try:
        release = datasets.in_force("rvu", dos)
    except PtBillingError:
        return None
    return _full_unit_price_cached(code, dos, release.path, datasets.file_stamp(release.path))


@lru_cache(maxsize=4096)
def _full_unit_price_cached(code: str, dos: dt.date, path: Path, stamp: tuple[object, ...]) -> Decimal | None:
    try:
        return price_lines([FeeLine(code, 1, dos)])[0].amount
    except PtBillingError:
        return None


def _same_day_order(ln: ClaimLine) -> tuple[dt.date, str, tuple[str, ...], int, int, str, str, int]:
    return (ln.dos, ln.code, ln.modifiers, ln.units or 0, ln.minutes or 0, ln.provider, ln.payer, ln.index)


#: ``_same_day_order`` read straight from the tuple (C speed), for lines without a blank units or
#: minutes cell; where a None meets a number the sort raises TypeError and ``_same_day_order`` decides
_SAME_DAY_FIELDS = itemgetter(*(ClaimLine._fields.index(f) for f in (
    "dos", "code", "modifiers", "units", "minutes", "provider", "payer", "index")))



def _surely_under(groups: dict[tuple[str, int], list[ClaimLine]], with_ot: set[tuple[str, int]],
                  discipline_of: dict[tuple[str, ...], str | None]) -> set[tuple[str, int]]:
    """The patient-years whose buckets all stay at or under the KX threshold even at full fees.

    MPPR and the CQ/CO rate only ever lower a line, so this bound is safe. Any
    doubt (no fee data, a contractor-priced code) leaves the patient out: price
    exactly. ``groups`` are each patient's lines of a year, in date order.
    """
    flat = [ln for members in groups.values() for ln in members]
    keys = list(zip(map(_CODE, flat), map(_DOS, flat)))
    price_of = {key: _full_unit_price(*key) for key in set(keys)}  # each code and date once
    unpriced = {key for key, price in price_of.items() if price is None}
    prices = list(map(price_of.__getitem__, keys))
    units = list(map(_UNITS, flat))
    if None in units:
        units = [u or 0 for u in units]
    limit_of: dict[dt.date, Decimal | None] = {}  # a year's threshold, by the date of its first line
    for members in groups.values():
        day = members[0].dos
        if day not in limit_of:
            try:
                limit_of[day] = kx_threshold(day).value
            except PtBillingError:
                limit_of[day] = None
    under: set[tuple[str, int]] = set()
    line_by_line: list[tuple[tuple[str, int], int, int, Decimal]] = []
    end = 0
    with localcontext() as ctx:
        # one bucket, no prior amounts: the bound is one sum at C speed. Exact (Inexact trapped), it is
        # the same number in any order; a sum too long for the context's digits is added up line by
        # line below (outside this context), as its rounding then depends on the order.
        ctx.traps[Inexact] = True
        for group_key, members in groups.items():
            start, end = end, end + len(members)
            limit = limit_of[members[0].dos]
            if limit is None or (unpriced and not unpriced.isdisjoint(keys[start:end])):
                continue
            if group_key in with_ot or any(map(_PRIOR, members)) or min(units[start:end]) < 0:
                line_by_line.append((group_key, start, end, limit))
                continue
            try:
                if sum(map(mul, prices[start:end], units[start:end]), Decimal(0)) <= limit:
                    under.add(group_key)
            except Inexact:
                line_by_line.append((group_key, start, end, limit))
    for group_key, start, end, limit in line_by_line:
        bound: dict[str, Decimal] = {}
        for ln, unit, count in zip(flat[start:end], prices[start:end], units[start:end]):
            assert unit is not None  # no unpriced code in this group
            bucket = "OT" if discipline_of[ln.modifiers] == "OT" else PT_SLP
            prior = Decimal(str(ln.prior_allowed)) if ln.prior_allowed else Decimal(0)
            bound[bucket] = bound.get(bucket, Decimal(0)) + unit * count + prior  # prior counted generously
        if all(total <= limit for total in bound.values()):
            under.add(group_key)
    return under


def kx_findings(lines: list[ClaimLine],
                totals: dict[tuple[str, int, str], Decimal] | None = None) -> list[Finding]:
    """KX and review findings for every traditional-Medicare therapy line of a log.

    When ``totals`` is a dict it receives each patient's year totals:
    ``(patient, year, bucket) -> Decimal`` (prior amounts included), for reports.

    One pass over the log: the lines are grouped per patient and year, each year's lines are
    priced in one call (``fee_schedule.allowed_amounts``, PT_FEE's pricing: each distinct
    code, date and modifiers once, the MPPR per visit), and each bucket's year adds up at C speed
    (``fee_schedule.kx_running``); only lines past a threshold are looked at one by one.
    """
    groups: dict[tuple[str, int], list[ClaimLine]] = {}  # (patient key, year) -> its lines
    with_ot: set[tuple[str, int]] = set()  # the groups with OT lines: two buckets to tell apart
    traditional: dict[str, bool] = {}  # payer -> traditional Medicare
    discipline_of: dict[tuple[str, ...], str | None] = {}  # modifiers -> PT, SLP, OT or None
    key_of: dict[str, str] = {}  # patient as typed -> patient key
    names: dict[str, str] = {}  # patient key -> how the totals name the patient
    for ln in lines:
        t = traditional.get(ln.payer)
        if t is None:
            t = traditional[ln.payer] = is_medicare(ln.payer) and not is_medicare_advantage(ln.payer)
        if not t:
            continue
        mods = ln.modifiers
        d = discipline_of.get(mods, "")
        if d == "":
            d = discipline_of[mods] = _discipline_of(mods)
        if d is None:
            continue
        key = key_of.get(ln.patient)
        if key is None:
            key = key_of[ln.patient] = ln.patient_key  # "P01" and "p01 " are one patient
            shown = names.get(key)
            if shown is None or ln.patient < shown:  # the same spelling whatever the row order
                names[key] = ln.patient
        group_key = (key, ln.dos.year)
        members = groups.get(group_key)
        if members is None:
            members = groups[group_key] = []
        members.append(ln)
        if d == "OT":
            with_ot.add(group_key)
    # The year's total adds up in date order; lines of one date are taken in an order of what
    # they hold (code, modifiers, units...), not of the rows, so which line takes the bucket past
    # the threshold, and the total each line's finding names, never depend on the row order.
    for members in groups.values():
        try:
            members.sort(key=_SAME_DAY_FIELDS)
        except TypeError:  # a blank units or minutes cell beside a number: blank is 0 here
            members.sort(key=_same_day_order)
    if totals is None:
        # Nothing to report for a patient who cannot reach the lower (KX) threshold
        # even if every unit were paid in full: skip pricing them exactly.
        under = _surely_under(groups, with_ot, discipline_of)
        groups = {k: v for k, v in groups.items() if k not in under}
    # Price each year's lines in one call (the MPPR visit key is the patient); a year whose
    # lines cannot all be priced is not checked, for every patient of that year.
    by_year: dict[int, list[tuple[str, int]]] = {}
    for group_key in groups:
        by_year.setdefault(group_key[1], []).append(group_key)
    allowed_of: dict[tuple[str, int], list[Decimal]] = {}  # each group's allowed amounts, in its order
    failed: dict[int, str] = {}
    for year, keys in by_year.items():
        year_lines = [ln for k in keys for ln in groups[k]]
        visits: list[Hashable] = []
        for k in keys:
            visits += [k[0]] * len(groups[k])
        units = list(map(_UNITS, year_lines))
        if None in units:
            units = [u or 0 for u in units]  # a blank units cell is no units
        try:  # FeeLine's fields zipped from the columns: no FeeLine per line
            priced = allowed_amounts(zip(map(_CODE, year_lines), units, map(_DOS, year_lines),
                                       map(_MODIFIERS, year_lines), visits))
        except PtBillingError as e:
            failed[year] = str(e)
            continue
        fees = [fee or _ZERO for fee in priced]  # contractor-priced counts $0
        start = 0
        for k in keys:
            end = start + len(groups[k])
            allowed_of[k] = fees[start:end]
            start = end
    out: list[Finding] = []
    limits_of: dict[dt.date, tuple[Figure, Figure]] = {}
    for (patient, year), members in groups.items():
        if year in failed:
            first = min(ln.index for ln in members)
            out.append(Finding(first, WARN, "KX-UNCHECKED", f"KX threshold not checked for {year}: {failed[year]}"))
            continue
        prior: dict[tuple[int, str], Decimal] = {}
        if any(map(_PRIOR, members)):  # most lines have no Prior Allowed: look only where one has
            for ln in members:
                if ln.prior_allowed:
                    bucket = "OT" if discipline_of[ln.modifiers] == "OT" else PT_SLP
                    prior[(year, bucket)] = max(prior.get((year, bucket), Decimal(0)),
                                                Decimal(str(ln.prior_allowed)))
        day = members[0].dos  # the year's figures as on its first line
        try:
            starts = kx_start(prior) if prior else {}
            limits = limits_of.get(day)
            if limits is None:
                limits = limits_of[day] = (kx_threshold(day), review_threshold(day))
        except PtBillingError as e:
            first = min(ln.index for ln in members)
            out.append(Finding(first, WARN, "KX-UNCHECKED", f"KX threshold not checked for {year}: {e}"))
            continue
        kx, review = limits
        allowed = allowed_of[(patient, year)]
        runs: dict[str, tuple[Sequence[int], list[Decimal]]]  # bucket -> its lines (positions in members), amounts
        if (patient, year) in with_ot:
            split: dict[str, tuple[list[int], list[Decimal]]] = {}
            for pos, ln in enumerate(members):
                bucket = "OT" if discipline_of[ln.modifiers] == "OT" else PT_SLP
                run = split.get(bucket)
                if run is None:
                    run = split[bucket] = ([], [])
                run[0].append(pos)
                run[1].append(allowed[pos])
            runs = dict(split)
        else:
            runs = {PT_SLP: (range(len(members)), allowed)}
        found: list[tuple[int, Finding]] = []
        for bucket, (positions, amounts) in runs.items():
            running, first_kx, first_review = kx_running(amounts, starts.get((year, bucket), _ZERO),
                                                         kx.value, review.value)
            if totals is not None:
                total_key = (names[patient], year, bucket)
                totals[total_key] = max(totals.get(total_key, _ZERO), running[-1])
            for j in range(min(first_kx, first_review), len(running)):
                ln = members[positions[j]]
                if j >= first_kx and "KX" not in ln.modifiers:
                    found.append((positions[j], Finding(
                        ln.index, ERROR, "KX-MISSING",
                        f"{bucket} allowed in {year} reaches ${running[j]:,.2f}, past the "
                        f"${kx.value:,.0f} KX threshold — add KX if medically necessary")))
                if j >= first_review:
                    found.append((positions[j], Finding(
                        ln.index, WARN, "KX-REVIEW",
                        f"{bucket} allowed in {year} reaches ${running[j]:,.2f}, past the "
                        f"${review.value:,.0f} targeted medical review threshold — keep records ready")))
        if len(runs) > 1:
            found.sort(key=itemgetter(0))  # in the lines' order, as one bucket's are (stable: KX-MISSING first)
        out += [f for _, f in found]
    return out
