"""The Medicare fee schedule pricing and KX running totals as they were before the whole-log passes
(``fee_schedule._price`` priced line by line through a mutable ``_Work`` per line; ``kx_marks`` added
up one patient's lines). Kept only as the oracle of ``tests/test_equivalence_kx.py``.

The rules are those of ``ptbilling.rules.fee_schedule`` (its module notes give the CMS references):
CMS PFS relative value file and GPCIs, the therapy MPPR (50% of PE for all but the unit with the
highest PE payment, from 1 April 2013), CQ/CO at 85% from 2022, the KX threshold by year and the
$3,000 targeted medical review threshold (therapy-billing-rules.md sections 5-7).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, overload

from ptbilling.rules.code_catalog import normalize_code
from ptbilling.rules.errors import UnknownCode, UnsupportedDate
from ptbilling.rules.fee_schedule import (
    _CONTRACTOR,
    _CONTRACTOR_R,
    _MODIFIER_TEXT_SPLIT,
    _PAID,
    _ZERO,
    ASSISTANT_MODIFIERS,
    CENT,
    NATIONAL,
    OFFICIAL,
    UNVERIFIED,
    FeeLine,
    Figure,
    KxLine,
    KxMark,
    LineFee,
    _as_date,
    _available,
    _bucket,
    _checked_cf,
    _DayFigures,
    _figure,
    _figures,
    _gpci_of,
    _gpci_table,
    _money,
    _percent,
    _Rvu,
    _rvu_table,
    _units,
    kx_threshold,
    normalize_locality,
    review_threshold,
    unpaid_reason,
)


@dataclass
class _Work:  # one line on its way through the visit (mutable scratch, private)
    index: int
    line: FeeLine
    code: str
    units: int
    assistant: str  # "CQ", "CO" or ""
    rvu: _Rvu
    dos: dt.date
    full: Decimal = Decimal(0)  # one unit, full PE, before CQ/CO
    pe_pay: Decimal = Decimal(0)  # the PE part of one unit
    full_units: int = 0
    reduced_units: int = 0



def allowed_amounts(lines: Sequence[FeeLine], locality: str | None = None, *,
                    qualifying_apm: bool = False) -> list[Decimal | None]:
    """Just the amounts ``price_lines`` gives, without the explanations: the KX rule
    prices every Medicare line of a log, and building each line's "why" text would
    be most of that work. Same rules, same code path, same errors."""
    return _price(lines, locality, qualifying_apm, explain=False)


def price_lines(lines: Sequence[FeeLine], locality: str | None = None, *,
                qualifying_apm: bool = False) -> list[LineFee]:
    """Price claim lines with the Medicare PFS (non-facility), one LineFee per line, in order.

    ``locality`` is "<MAC>-<locality>" (e.g. "02102-01") or None for the
    national amount. Each line's date of service picks its RVU release, GPCIs
    and conversion factor. Lines of one visit (same ``visit`` and date) share
    one MPPR; CQ/CO lines are then paid at 85% from 2022-01-01.

    Raises UnsupportedDate (a year without an RVU release: import it with
    ``ptbilling data import-rvu``; or without a conversion factor),
    UnknownCode (a code not in the release), UnknownLocality, BadValue.
    """
    return _price(lines, locality, qualifying_apm, explain=True)


@overload
def _price(lines: Sequence[FeeLine], locality: str | None, qualifying_apm: bool,
           explain: Literal[True]) -> list[LineFee]: ...
@overload
def _price(lines: Sequence[FeeLine], locality: str | None, qualifying_apm: bool,
           explain: Literal[False]) -> list[Decimal | None]: ...
def _price(lines: Sequence[FeeLine], locality: str | None, qualifying_apm: bool,
           explain: bool) -> list[LineFee] | list[Decimal | None]:
    key = normalize_locality(locality)
    days: dict[dt.date, _DayFigures] = {}

    def day(dos: dt.date) -> _DayFigures:
        got = days.get(dos)
        if got is None:
            table = _rvu_table(dos)
            cf = _checked_cf(dos, table, qualifying_apm)
            statuses = {cf.status, table.release.status}
            if key is None:
                g, place = NATIONAL, "national"
            else:
                gt = _gpci_table(dos)
                g, place = _gpci_of(gt, locality, key), f"locality {key}"
                statuses.add(gt.release.status)
            got = days[dos] = _DayFigures(
                table, cf, g, place, _figure("assistant_rate", dos), _figure("mppr_pe_rate", dos),
                UNVERIFIED if UNVERIFIED in statuses else OFFICIAL,
            )
        return got

    work: list[_Work] = []
    visits: dict[tuple[Hashable, dt.date], list[_Work]] = {}
    unit_cache: dict[tuple[str, dt.date], tuple[Decimal, Decimal]] = {}
    # a log repeats a few codes, modifier sets and dates: read each distinct one once
    code_of: dict[object, str | None] = {}
    assistant_of: dict[object, str] = {}
    for i, line in enumerate(lines):
        dos = line.dos if type(line.dos) is dt.date else _as_date(line.dos)
        try:
            code = code_of[line.code]
        except KeyError:
            code = code_of[line.code] = normalize_code(line.code)
        if code is None:
            raise UnknownCode("(blank)", "a code is required")
        units = line.units if type(line.units) is int and line.units >= 0 else _units(line.units)
        try:
            assistant = assistant_of.get(line.modifiers)
            known = True
        except TypeError:  # modifiers given as a list: read them every time
            assistant, known = None, False
        if assistant is None:
            # a str is a Collection[str] too: read "GP CQ" as modifiers, not as the letters G, P, C, Q
            given = line.modifiers
            texts = _MODIFIER_TEXT_SPLIT.split(given) if isinstance(given, str) else given
            mods = {str(m).strip().upper() for m in texts}

            assistant = next((m for m in ASSISTANT_MODIFIERS if m in mods), "")
            if known:
                assistant_of[line.modifiers] = assistant
        figs = day(dos)
        rvu = figs.table.rows.get(code)
        if rvu is None:
            raise UnknownCode(code, f"not in {figs.table.release.name}")
        w = _Work(i, line, code, units, assistant, rvu, dos)
        amounts = unit_cache.get((code, dos))
        if amounts is None:  # the same code on the same day costs the same: compute once
            gw, gpe, gmp = figs.gpci
            pe = rvu.pe * gpe
            amounts = unit_cache[(code, dos)] = ((rvu.work * gw + pe + rvu.mp * gmp) * figs.cf.value,
                                                 pe * figs.cf.value)
        w.full, w.pe_pay = amounts
        w.full_units = units
        work.append(w)
        if rvu.status in _PAID and w.full > 0 and rvu.mppr and units:
            visits.setdefault((line.visit, dos), []).append(w)

    tops: dict[tuple[Hashable, dt.date], _Work] = {}
    for (visit, dos), members in visits.items():
        if sum(w.units for w in members) < 2:
            continue
        if day(dos).mppr is None:
            raise UnsupportedDate("therapy MPPR rate", dos.year, _available("mppr_pe_rate"))
        # see the module notes for the order: PE payment, total fee, no CQ/CO, lower code, earlier line
        top = min(members, key=lambda w: (-w.pe_pay, -w.full, bool(w.assistant), w.code, w.index))
        tops[(visit, dos)] = top
        for w in members:
            w.full_units = 1 if w is top else 0
            w.reduced_units = w.units - w.full_units

    fees: list[LineFee] = []  # explain=True
    amounts_out: list[Decimal | None] = []  # explain=False
    reduced_cache: dict[tuple[str, dt.date], Decimal] = {}
    for w in work:
        dos = w.dos
        figs = days[dos]
        status = w.rvu.status
        if status not in _PAID or w.full == 0:
            if status == "C" or status in _PAID:  # R with no RVUs (97545, 97546) is priced locally
                why, amount = (_CONTRACTOR if status == "C" else _CONTRACTOR_R.format(status)), None
            else:
                why = unpaid_reason(w.code, status) or f"status {status}: not paid"
                amount = Decimal("0.00")
            if explain:
                fees.append(LineFee(w.code, w.units, amount, why, status, 0, 0, False, figs.table.release.status))
            else:
                amounts_out.append(amount)
            continue
        raw = w.full * w.full_units
        if w.reduced_units:
            reduced = reduced_cache.get((w.code, dos))
            if reduced is None:
                reduced = reduced_cache[(w.code, dos)] = _reduced_unit(w, figs)
            raw += reduced * w.reduced_units
        rate = figs.assistant if w.assistant else None  # None before CQ/CO were paid less (2022)
        applied = rate is not None
        if rate is not None:
            raw *= rate.value
        amount = raw.quantize(CENT, rounding=ROUND_HALF_UP)
        if not explain:
            amounts_out.append(amount)
            continue
        parts = [_PAID[status]] if _PAID[status] else []
        if not w.units:
            parts.append("0 units")
        if w.reduced_units:
            cut = f"{w.reduced_units} at {_percent(_mppr_rate(figs))} PE"
            if w.full_units:
                parts.append(f"MPPR: 1 unit full, {cut}")
            else:
                parts.append(f"MPPR: {cut} ({tops[(w.line.visit, dos)].code} paid in full)")
        elif (w.line.visit, dos) in tops:
            parts.append("MPPR: highest PE, paid in full")
        if w.assistant:
            since = _figures()["assistant_rate"][0][0].year
            parts.append(f"{w.assistant}: {_percent(rate.value)} from {since}" if rate is not None
                         else f"{w.assistant}: paid in full before {since}")
        cf = figs.cf
        parts.append(f"{figs.place}, CF ${cf.value} ({dos.year}{'' if cf.status == OFFICIAL else ', unverified'})")
        fees.append(LineFee(w.code, w.units, amount, "; ".join(parts), status, w.full_units, w.reduced_units,
                            applied, figs.data_status))
    return fees if explain else amounts_out


def _mppr_rate(figs: _DayFigures) -> Decimal:
    assert figs.mppr is not None, "reduced units on a day without an MPPR rate"
    return figs.mppr.value


def _reduced_unit(w: _Work, figs: _DayFigures) -> Decimal:
    """One unit with the MPPR share of its PE (the other units of the visit)."""
    gw, gpe, gmp = figs.gpci
    return (w.rvu.work * gw + w.rvu.pe * gpe * _mppr_rate(figs) + w.rvu.mp * gmp) * figs.cf.value


def kx_marks(lines: Sequence[KxLine],
             prior: Mapping[tuple[int, str], object] | None = None) -> list[KxMark]:
    """Mark each of one patient's Medicare therapy lines for KX and targeted review.

    Per calendar year and bucket (PT+SLP together, OT alone), the allowed
    amounts add up in date order, starting from ``prior[(year, bucket)]``
    (what other providers were paid that year; 0 if absent). A line needs KX
    when the running total *passes* that year's threshold with it: the line
    that takes the bucket past it (total > threshold; reaching it exactly is
    not past) and every later line of the bucket in that year, including
    zero-amount ones. ``past_review`` says the same of the $3,000 targeted
    review threshold (a warning, not a denial).

    Lines on one date keep their given order; the result is in the input's
    order. Pure: no clock, no files beyond figures.json. Raises UnsupportedDate
    for a year without a threshold and BadValue for a negative amount or an
    unknown discipline.
    """
    totals: dict[tuple[int, str], Decimal] = {}
    for (year, given), amount in (prior or {}).items():
        totals[(int(year), _bucket(given))] = _money(amount, f"prior amount for {year} {given}")
    marks: list[KxMark | None] = [None] * len(lines)
    year_limits: dict[int, tuple[Figure, Figure]] = {}
    dates = [line.dos if type(line.dos) is dt.date else _as_date(line.dos) for line in lines]
    order = sorted(range(len(lines)), key=dates.__getitem__)  # stable: same-day order kept
    buckets: dict[object, str] = {}
    for i in order:
        line = lines[i]
        dos = dates[i]
        bucket = buckets.get(line.discipline)
        if bucket is None:
            bucket = buckets[line.discipline] = _bucket(line.discipline)
        limits = year_limits.get(dos.year)
        if limits is None:  # both thresholds are yearly figures
            limits = year_limits[dos.year] = (kx_threshold(dos), review_threshold(dos))
        kx, review = limits
        k = (dos.year, bucket)
        allowed = line.allowed
        if not (type(allowed) is Decimal and allowed.is_finite() and allowed >= 0):
            allowed = _money(allowed, f"allowed amount of line {i + 1}")
        total = totals.get(k, _ZERO) + allowed
        totals[k] = total
        marks[i] = KxMark(bucket, total, total > kx.value, total > review.value, kx, review)
    # every position is filled: ``order`` is a permutation of range(len(lines))
    return marks  # type: ignore[return-value]
