"""The KX modifier (therapy threshold) and targeted medical review check as it was before the
whole-log pass: ``kx_findings`` grouped a log's lines per patient and year, priced each year through
the line-by-line ``fee_schedule._price`` and added each patient's lines up with ``kx_marks``. Kept
only as the oracle of ``tests/test_equivalence_kx.py``.

References (as in ``ptbilling.rules.kx_modifier``): Bipartisan Budget Act of 2018 §50202; CMS Pub.
100-04 ch.5 §10.3 and the yearly PFS final rules (the KX threshold per calendar year, PT+SLP
together, OT alone, other providers' amounts included); the $3,000 targeted medical review
threshold; therapy-billing-rules.md section 6.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from ptbilling.rules import datasets
from ptbilling.rules.claim_lines import ClaimLine, is_medicare, is_medicare_advantage
from ptbilling.rules.errors import PtBillingError
from ptbilling.rules.fee_schedule import FeeLine, KxLine, kx_threshold
from ptbilling.rules.findings import ERROR, WARN, Finding
from ptbilling.rules.kx_modifier import DISCIPLINE_OF_MODIFIER

from .fee_schedule import allowed_amounts, kx_marks, price_lines


def _discipline(line: ClaimLine) -> str | None:
    for m in line.modifiers:
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


def _surely_under(members: list[tuple[ClaimLine, str]]) -> bool:
    """True when even full fees for every unit keep each bucket at or under the KX threshold.

    MPPR and the CQ/CO rate only ever lower a line, so this bound is safe. Any
    doubt (no fee data, a contractor-priced code) answers False: price exactly.
    """
    bound: dict[str, Decimal] = {}
    year_day = members[0][0].dos
    for ln, d in members:
        unit = _full_unit_price(ln.code, ln.dos)
        if unit is None:
            return False
        bucket = "OT" if d == "OT" else "PT+SLP"
        prior = Decimal(str(ln.prior_allowed)) if ln.prior_allowed else Decimal(0)
        bound[bucket] = bound.get(bucket, Decimal(0)) + unit * (ln.units or 0) + prior  # prior counted generously
    try:
        limit = kx_threshold(year_day).value
    except PtBillingError:
        return False
    return all(total <= limit for total in bound.values())


def _same_day_order(
    member: tuple[ClaimLine, str],
) -> tuple[dt.date, str, tuple[str, ...], int, int, str, str, int]:
    ln = member[0]
    return (ln.dos, ln.code, ln.modifiers, ln.units or 0, ln.minutes or 0, ln.provider, ln.payer, ln.index)


def kx_findings(lines: list[ClaimLine],
                totals: dict[tuple[str, int, str], Decimal] | None = None) -> list[Finding]:
    """KX and review findings for every traditional-Medicare therapy line of a log.

    When ``totals`` is a dict it receives each patient's year totals:
    ``(patient, year, bucket) -> Decimal`` (prior amounts included), for reports.
    """
    by_patient_year: dict[tuple[str, int], list[tuple[ClaimLine, str]]] = {}
    traditional: dict[str, bool] = {}  # payer -> traditional Medicare
    names: dict[str, str] = {}  # patient key -> how the totals name the patient
    for ln in lines:
        t = traditional.get(ln.payer)
        if t is None:
            t = traditional[ln.payer] = is_medicare(ln.payer) and not is_medicare_advantage(ln.payer)
        if not t:
            continue
        d = _discipline(ln)
        if d is not None:
            key = ln.patient_key  # "P01" and "p01 " are one patient
            by_patient_year.setdefault((key, ln.dos.year), []).append((ln, d))
            shown = names.get(key)
            if shown is None or ln.patient < shown:  # the same spelling whatever the row order
                names[key] = ln.patient
    # The year's total adds up in date order; lines of one date are taken in an order of what
    # they hold (code, modifiers, units...), not of the rows, so which line takes the bucket past
    # the threshold, and the total each line's finding names, never depend on the row order.
    for members in by_patient_year.values():
        members.sort(key=_same_day_order)
    out: list[Finding] = []
    if totals is None:
        # Nothing to report for a patient who cannot reach the lower (KX) threshold
        # even if every unit were paid in full: skip pricing them exactly.
        by_patient_year = {k: v for k, v in by_patient_year.items() if not _surely_under(v)}
    # Price each year's lines in one call (the MPPR visit key is the patient).
    by_year: dict[int, list[tuple[str, int]]] = {}
    for patient_year in by_patient_year:
        by_year.setdefault(patient_year[1], []).append(patient_year)
    fee_of: dict[int, Decimal] = {}  # line index -> allowed amount
    failed: dict[int, str] = {}
    for year, keys in by_year.items():
        year_lines = [(p, ln) for p, y in keys for ln, _ in by_patient_year[(p, y)]]
        try:
            fees = allowed_amounts([FeeLine(ln.code, ln.units or 0, ln.dos, ln.modifiers, p) for p, ln in year_lines])
        except PtBillingError as e:
            failed[year] = str(e)
            continue
        for (_, ln), fee in zip(year_lines, fees):
            fee_of[ln.index] = fee or Decimal(0)
    for (patient, year), members in by_patient_year.items():
        if year in failed:
            first = min(ln.index for ln, _ in members)
            out.append(Finding(first, WARN, "KX-UNCHECKED", f"KX threshold not checked for {year}: {failed[year]}"))
            continue
        prior: dict[tuple[int, str], Decimal] = {}
        for ln, d in members:
            if ln.prior_allowed:
                bucket = "OT" if d == "OT" else "PT+SLP"
                prior[(year, bucket)] = max(prior.get((year, bucket), Decimal(0)), Decimal(str(ln.prior_allowed)))
        try:
            marks = kx_marks([KxLine(ln.dos, d, fee_of[ln.index]) for ln, d in members], prior)
        except PtBillingError as e:
            first = min(ln.index for ln, _ in members)
            out.append(Finding(first, WARN, "KX-UNCHECKED", f"KX threshold not checked for {year}: {e}"))
            continue
        for (ln, _), mark in zip(members, marks):
            if totals is not None:
                total_key = (names[patient], year, mark.bucket)
                totals[total_key] = max(totals.get(total_key, Decimal(0)), mark.year_total)
            if mark.needs_kx and "KX" not in ln.modifiers:
                out.append(Finding(ln.index, ERROR, "KX-MISSING",
                                   f"{mark.bucket} allowed in {year} reaches ${mark.year_total:,.2f}, past the "
                                   f"${mark.threshold.value:,.0f} KX threshold — add KX if medically necessary"))
            if mark.past_review:
                out.append(Finding(ln.index, WARN, "KX-REVIEW",
                                   f"{mark.bucket} allowed in {year} reaches ${mark.year_total:,.2f}, past the "
                                   f"${mark.review.value:,.0f} targeted medical review threshold — keep records ready"))
    return out
