"""Medicare fee schedule amounts of therapy lines, and the KX / review thresholds.

One unit is paid (therapy-billing-rules.md section 7)::

    (work RVU x work GPCI + PE RVU x PE GPCI + MP RVU x MP GPCI) x conversion factor

with the non-facility PE RVU (office setting) and GPCI = 1 for the national
amount. Then, per visit, the therapy multiple procedure payment reduction
(MPPR), then 85% for CQ/CO lines.

References:
- therapy-billing-rules.md sections 5 (CQ/CO at 85% from 2022-01-01),
  6 (KX threshold by year and bucket; $3,000 targeted review), 7 (the formula,
  conversion factors, MPPR and the worked 2025 figures) and 11 (the data files).
- CMS, Medicare Physician Fee Schedule (PFS): the PPRRVU relative value file
  (STATUS CODE, RVUs, MULT PROC, CONV FACTOR) and Addendum E, GPCIs by locality.
- CMS, "Multiple Procedure Payment Reduction (MPPR)" for "always therapy"
  services (MULT PROC 5): 50% of the PE part for all but the unit with the
  highest PE payment, from 1 April 2013.
- CMS, "Billing Examples Using CQ/CO Modifiers" (payment at 85% from 2022).
- CMS Physician Fee Schedule Relative Value File and payment status indicators
  (STATUS CODE: A active, B bundled, C contractor-priced, I not valid for
  Medicare, N not covered, R restricted, T paid only alone that day, ...).

Every dated figure (conversion factors, KX and review thresholds, the CQ/CO
rate, the MPPR rate) is read from ``data/figures.json`` with its source and
whether it is ``official`` or ``unverified``; relative values and GPCIs come
from the release in force on the date of service (``datasets.in_force``).
A year without a figure or a release raises UnsupportedDate naming the year:
money is never taken from another year.

Judgement calls, fixed here so results are predictable:

- Amounts are exact decimals. Each unit's amount is kept in full precision;
  the line's total (after MPPR and after the CQ/CO 85%) is rounded once, to
  the cent, half up. So 97110-CQ x1 in 2025 is 0.85 x 28.788385 = 24.4701...
  -> $24.47, not 0.85 x $28.79.
- MPPR ranking: the unit paid in full is the one with the highest PE payment
  (PE RVU x PE GPCI x CF); on a tie, the higher total unit fee; then a line
  without CQ/CO (the full unit goes where it is not cut again); then the lower
  code; then the earlier line. Only payable lines (status A, R, T with RVUs)
  take part: a bundled or invalid code never "uses up" the full unit.
- A visit is the lines with the same ``visit`` key and date of service: pass a
  patient (and provider) key when pricing several patients in one call.
- The conversion factor comes from figures.json by date (it changed within
  2024, which a yearly file cannot say). When figures.json has no factor for
  the date, the CONV FACTOR column of the RVU release in force is used, with
  that release's name and status. When an ``official`` release states the same
  factor that figures.json marks ``unverified``, the figure is reported as
  ``official`` (the CMS file confirms it).
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from bisect import bisect_right
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from itertools import accumulate, islice
from os import PathLike
from pathlib import Path
from typing import NamedTuple

from . import datasets, gpci_file, relative_value_files, rvu_file
from .code_catalog import normalize_code
from .errors import BadValue, DataImportError, UnknownCode, UnknownLocality, UnsupportedDate

CENT = Decimal("0.01")
_ZERO = Decimal(0)
_ONE = Decimal(1)
NATIONAL = (_ONE, _ONE, _ONE)
ASSISTANT_MODIFIERS = ("CQ", "CO")
# modifiers given as one text ("GP CQ", "gp,co") split as a Modifiers cell does (logs/cells.py)
_MODIFIER_TEXT_SPLIT = re.compile(r"[^0-9A-Za-z]+")
OFFICIAL = "official"
UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Figure:
    """One dated figure: its value, where it comes from, and "official" or "unverified"."""

    value: Decimal
    source: str
    status: str


# --- figures.json -------------------------------------------------------------

@lru_cache(maxsize=1)
def _figures() -> dict[str, tuple[tuple[dt.date, dt.date, Figure], ...]]:
    raw = json.loads((datasets.SHIPPED_DIR / "figures.json").read_text(encoding="utf-8"))
    out: dict[str, tuple[tuple[dt.date, dt.date, Figure], ...]] = {}
    for kind, entries in raw.items():
        if not isinstance(entries, list):
            continue  # "about" and other notes for humans
        out[kind] = tuple(
            (
                dt.date.fromisoformat(e["from"]),
                dt.date.fromisoformat(e["to"]) if e.get("to") else dt.date.max,
                Figure(Decimal(e["value"]), e["source"], e["status"]),
            )
            for e in entries
        )
    return out


def figures_table() -> list[tuple[str, dt.date, dt.date | None, Figure]]:
    """Every dated figure (kind, from, to or None, Figure), for ``ptbilling data list``."""
    return [(kind, start, None if end == dt.date.max else end, fig)
            for kind, entries in _figures().items() for start, end, fig in entries]


def _figure(kind: str, dos: dt.date) -> Figure | None:
    for start, end, fig in _figures()[kind]:
        if start <= dos <= end:
            return fig
    return None


def _available(kind: str) -> str:
    years = sorted({y for start, end, _ in _figures()[kind]
                    for y in range(start.year, (end if end != dt.date.max else start).year + 1)})
    if not years:
        return "none"
    return f"{years[0]}-{years[-1]}" if years[-1] != years[0] else str(years[0])


def _as_date(dos: object) -> dt.date:
    if isinstance(dos, dt.datetime):
        return dos.date()
    if isinstance(dos, dt.date):
        return dos
    raise BadValue(f"date of service must be a date, got {dos!r}")


def _required(kind: str, what: str, dos: object) -> Figure:
    dos = _as_date(dos)
    fig = _figure(kind, dos)
    if fig is None:
        # yearly figures of the PFS final rule are not in CMS's RVU zip: they come with ptbilling
        raise UnsupportedDate(what, dos.year, _available(kind) + f" — {dos.year}'s figure comes with a newer "
                              "ptbilling (pip install -U ptbilling)")
    return fig


def kx_threshold(dos: dt.date) -> Figure:
    """The KX modifier threshold (each bucket: PT+SLP, OT) for the calendar year of ``dos``."""
    return _required("kx_threshold", "KX threshold", dos)


def review_threshold(dos: dt.date) -> Figure:
    """The targeted medical review threshold (each bucket) for the calendar year of ``dos``."""
    return _required("review_threshold", "targeted medical review threshold", dos)


# --- RVU and GPCI releases (cached: PT_FEE runs on every recalculation) -------

@dataclass(frozen=True)
class _Rvu:
    status: str
    mppr: bool  # MULT PROC 5: the therapy MPPR applies
    work: Decimal
    pe: Decimal  # non-facility PE
    mp: Decimal


@dataclass(frozen=True)
class _RvuTable:
    release: datasets.Release
    rows: dict[str, _Rvu]  # code -> its relative values
    conversion_factor: Decimal | None  # the file's CONV FACTOR, when it has one value


def _dec(x: float) -> Decimal:
    # repr gives back the file's own digits (0.43, not 0.429999...)
    return Decimal(repr(x))


def _file_key(path: Path) -> tuple[object, ...]:
    return datasets.file_stamp(path)


def _missing_file(release: datasets.Release) -> DataImportError:
    return DataImportError(
        f"{release.name}: its file {release.path} is missing; import the {release.kind} file again"
    )


@lru_cache(maxsize=16)
def _rvu_table_cached(release: datasets.Release, key: tuple[object, ...]) -> _RvuTable:
    if key == (-1,):
        raise _missing_file(release)
    rows = rvu_file.read_release_csv(release.path)
    cfs = {r.conversion_factor for r in rows.values() if r.conversion_factor}
    table = {
        code: _Rvu(r.status, r.mult_proc == "5", _dec(r.work_rvu), _dec(r.pe_rvu_nonfacility), _dec(r.mp_rvu))
        for code, r in rows.items()
    }
    return _RvuTable(release, table, _dec(cfs.pop()) if len(cfs) == 1 else None)


def _rvu_table(dos: dt.date) -> _RvuTable:
    """The RVUs in force on ``dos``; UnsupportedDate (with the import command) for a year without."""
    release = datasets.in_force("rvu", dos)
    return _rvu_table_cached(release, _file_key(release.path))


@dataclass(frozen=True)
class _GpciTable:
    release: datasets.Release
    values: dict[str, tuple[Decimal, Decimal, Decimal]]  # locality -> (work, pe, mp)
    names: dict[str, str]  # locality -> locality name


@lru_cache(maxsize=16)
def _gpci_table_cached(release: datasets.Release, key: tuple[object, ...]) -> _GpciTable:
    if key == (-1,):
        raise _missing_file(release)
    rows = gpci_file.read_release_csv(release.path)
    return _GpciTable(
        release,
        {k: (_dec(r.work), _dec(r.pe), _dec(r.mp)) for k, r in rows.items()},
        {k: r.name for k, r in rows.items()},
    )


def _gpci_table(dos: dt.date) -> _GpciTable:
    release = datasets.in_force("gpci", dos)
    return _gpci_table_cached(release, _file_key(release.path))


def normalize_locality(value: object) -> str | None:
    """' 2102-1 ' -> '02102-01'; None, blank or 'national' -> None (the national amount)."""
    if value is None:
        return None
    text = "".join(str(value).split()).upper()
    if text in ("", "NATIONAL"):
        return None
    m = re.fullmatch(r"(\d{1,5})-(\d{1,2})", text)
    return gpci_file.locality_key(*m.groups()) if m else text


def _gpci_of(table: _GpciTable, locality: object, key: str) -> tuple[Decimal, Decimal, Decimal]:
    found = table.values.get(key)
    if found is None:
        close = difflib.get_close_matches(key, table.values, n=3, cutoff=0.7)
        picks = close or list(table.values)[:3]
        raise UnknownLocality(
            locality, tuple(f"{k} ({table.names[k]})" for k in picks), f"not in {table.release.name}"
        )
    return found


def gpci(locality: str | None, dos: dt.date) -> tuple[Decimal, Decimal, Decimal]:
    """(work, PE, MP) GPCIs of ``locality`` ("<MAC>-<locality>", e.g. "02102-01") on ``dos``.

    None (or blank, or "national") gives the national (1, 1, 1). An unknown
    locality raises UnknownLocality (a ValueError) naming it, with examples.
    """
    key = normalize_locality(locality)
    if key is None:
        return NATIONAL
    dos = _as_date(dos)
    return _gpci_of(_gpci_table(dos), locality, key)


def _checked_cf(dos: dt.date, table: _RvuTable | None, qualifying_apm: bool) -> Figure:
    fig = _figure("conversion_factor_qualifying_apm", dos) if qualifying_apm else None
    if fig is None:
        apm_from = min((s for s, _, _ in _figures()["conversion_factor_qualifying_apm"]), default=None)
        if qualifying_apm and apm_from is not None and dos >= apm_from:
            # from the year CMS split the factor, the general one is not the APM one
            raise UnsupportedDate("conversion factor for qualifying APM participants", dos.year,
                                  _available("conversion_factor_qualifying_apm"))
        fig = _figure("conversion_factor", dos)
    if fig is None:
        if table is None or table.conversion_factor is None:
            raise UnsupportedDate(
                "Medicare conversion factor", dos.year,
                _available("conversion_factor") + " in figures.json, or a year whose PPRRVU file is installed — "
                + datasets.update_hint("rvu", dos.year),
            )
        return Figure(table.conversion_factor, f"CONV FACTOR column of {table.release.name}", table.release.status)
    if (table is not None and fig.status != OFFICIAL and table.conversion_factor == fig.value
            and table.release.status == OFFICIAL):
        return Figure(fig.value, f"{fig.source}; the same factor is in {table.release.name}", OFFICIAL)
    return fig


def conversion_factor(dos: dt.date, *, qualifying_apm: bool = False) -> Figure:
    """The Medicare PFS conversion factor on ``dos`` (figures.json by date; see the module notes).

    ``qualifying_apm=True`` asks for the qualifying APM participants' factor
    (from 2026; before that there was one factor). Raises UnsupportedDate
    naming the year when there is none.
    """
    dos = _as_date(dos)
    try:
        table = _rvu_table(dos)
    except UnsupportedDate:
        table = None  # figures.json alone may still know the factor
    return _checked_cf(dos, table, qualifying_apm)


# --- pricing lines ------------------------------------------------------------

class FeeLine(NamedTuple):  # a NamedTuple: the KX rule builds one per Medicare line of a log
    """One claim line to price: a code, its units, modifiers, date of service and visit."""

    code: str
    units: int
    dos: dt.date
    modifiers: Collection[str] = frozenset()  # any collection of modifier texts, or one text "GP CQ"
    visit: Hashable = None  # lines with the same visit and dos are one visit for MPPR


@dataclass(frozen=True)
class LineFee:
    """The Medicare allowed amount of one line and why it is that amount."""

    code: str
    units: int
    amount: Decimal | None  # to the cent; None when the contractor prices it (status C)
    why: str
    payment_status: str  # the release's STATUS CODE (A, B, C, I, N, R, ...)
    full_units: int  # units paid with their whole PE
    reduced_units: int  # units paid with the MPPR share of their PE
    assistant: bool  # the CQ/CO rate was applied
    data_status: str  # "official", or "unverified" when a figure used is unverified


# Statuses paid from the RVUs; T only when no other PFS service is paid that day,
# R only when covered: both are priced, with a note.
_PAID = {"A": "", "R": "status R: restricted coverage, paid only when covered",
         "T": "status T: paid only if no other fee schedule service is paid that day"}
_NOT_PAID = {
    "B": "status B: bundled, never paid separately",
    "I": "status I: not valid for Medicare",
    "N": "status N: not covered by Medicare",
    "E": "status E: excluded from the fee schedule by regulation",
    "X": "status X: excluded from Medicare by law",
    "P": "status P: bundled or excluded, not paid separately",
    "M": "status M: measurement code, not paid",
    "D": "status D: deleted code",
    "G": "status G: not valid for Medicare",
    "H": "status H: deleted modifier",
}
# what Medicare wants billed instead of a status I code (therapy-billing-rules.md section 3)
_MEDICARE_INSTEAD = {"97014": "G0283"}
_CONTRACTOR = "status C: priced by the contractor (MAC), no fee schedule amount"


def unpaid_reason(code: str, status: str) -> str | None:
    """Why a code with this payment status pays $0 (e.g. 97010, 97014), or None if it is paid."""
    if status in _PAID or status == "C" or not status:
        return None
    why = _NOT_PAID.get(status, f"status {status}: not paid under the fee schedule")
    if code in _MEDICARE_INSTEAD:
        why += f", bill {_MEDICARE_INSTEAD[code]}"
    return why
_CONTRACTOR_R = "status {} without RVUs: priced by the contractor (MAC) if covered"


@dataclass(frozen=True)
class _DayFigures:
    table: _RvuTable
    cf: Figure
    gpci: tuple[Decimal, Decimal, Decimal]
    place: str
    assistant: Figure | None
    mppr: Figure | None
    data_status: str


def _units(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise BadValue(f"units must be a whole number, got {value!r}")
    # int() of inf or NaN raises OverflowError/ValueError of its own: refuse them first
    if not (value == value and abs(value) != float("inf")) or value != int(value) or value < 0:

        raise BadValue(f"units must be a whole number of 0 or more, got {value!r}")
    return int(value)


@lru_cache(maxsize=16)
def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


class _Unit(NamedTuple):
    """What one distinct (code, date, modifiers) of a pricing call costs per unit (private).

    A log repeats a few codes, modifier sets and dates thousands of times: each distinct one is
    looked up and priced once, and its lines share it.
    """

    code: str
    dos: dt.date
    assistant: str  # "CQ", "CO" or ""
    rvu: _Rvu
    figs: _DayFigures
    full: Decimal  # one unit, full PE, before CQ/CO
    in_mppr: bool  # a payable MULT PROC 5 line: it takes part in its visit's MPPR
    rank: tuple[Decimal, Decimal, bool, str]  # the MPPR order of the module notes (the line's position breaks a tie)
    amounts: dict[tuple[int, int], Decimal | None]  # (full units, reduced units) -> the line's amount


class _Priced(NamedTuple):
    """A pricing call's lines, position by position: each line's unit, units and MPPR role."""

    units: list[int]
    unit: list[_Unit]
    full_units: list[int]  # units paid with their whole PE
    reduced_units: list[int]  # units paid with the MPPR share of their PE
    tops: dict[tuple[Hashable, dt.date], int]  # a visit with two or more MPPR units -> its line paid in full
    amounts: list[Decimal | None]


#: a line to price as ``_price`` reads it: FeeLine's fields in FeeLine's order (a FeeLine is one)
FeeRow = tuple[object, object, object, Collection[str], Hashable]


def allowed_amounts(lines: Iterable[FeeRow], locality: str | None = None, *,
                    qualifying_apm: bool = False) -> list[Decimal | None]:
    """Just the amounts ``price_lines`` gives, without the explanations: the KX rule
    prices every Medicare line of a log, and building each line's "why" text would
    be most of that work. Same rules, same code path, same errors.

    ``lines`` are FeeLines, or any tuples of FeeLine's fields in its order (code, units, date,
    modifiers, visit): the KX rule zips a whole log's columns so, without a FeeLine per line.
    """
    return _price(lines, locality, qualifying_apm).amounts


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
    priced = _price(lines, locality, qualifying_apm)
    fees: list[LineFee] = []
    for i, u in enumerate(priced.unit):
        dos, figs, status, units = u.dos, u.figs, u.rvu.status, priced.units[i]
        amount = priced.amounts[i]
        if status not in _PAID or u.full == 0:
            if status == "C" or status in _PAID:  # R with no RVUs (97545, 97546) is priced locally
                why = _CONTRACTOR if status == "C" else _CONTRACTOR_R.format(status)
            else:
                why = unpaid_reason(u.code, status) or f"status {status}: not paid"
            fees.append(LineFee(u.code, units, amount, why, status, 0, 0, False, figs.table.release.status))
            continue
        full_units, reduced_units = priced.full_units[i], priced.reduced_units[i]
        visit_day = (lines[i].visit, dos)
        rate = figs.assistant if u.assistant else None  # None before CQ/CO were paid less (2022)
        parts = [_PAID[status]] if _PAID[status] else []
        if not units:
            parts.append("0 units")
        if reduced_units:
            cut = f"{reduced_units} at {_percent(_mppr_rate(figs))} PE"
            if full_units:
                parts.append(f"MPPR: 1 unit full, {cut}")
            else:
                parts.append(f"MPPR: {cut} ({priced.unit[priced.tops[visit_day]].code} paid in full)")
        elif visit_day in priced.tops:
            parts.append("MPPR: highest PE, paid in full")
        if u.assistant:
            since = _figures()["assistant_rate"][0][0].year
            parts.append(f"{u.assistant}: {_percent(rate.value)} from {since}" if rate is not None
                         else f"{u.assistant}: paid in full before {since}")
        cf = figs.cf
        parts.append(f"{figs.place}, CF ${cf.value} ({dos.year}{'' if cf.status == OFFICIAL else ', unverified'})")
        fees.append(LineFee(u.code, units, amount, "; ".join(parts), status, full_units, reduced_units,
                            rate is not None, figs.data_status))
    return fees


def _price(lines: Iterable[FeeRow], locality: str | None, qualifying_apm: bool) -> _Priced:
    """The one pricing of lines, as a pass over a whole log (PT_FEE's few lines and the KX rule's all).

    Three steps: each line's distinct (code, date, modifiers) is read and priced per unit once;
    the MPPR roles are set in one pass over the visits with two or more MPPR units; each line's
    amount is computed once per distinct (unit, full units, reduced units). A line that cannot be
    priced raises at the first such line, in line order, as pricing line by line would.
    """
    key = normalize_locality(locality)
    days: dict[dt.date, _DayFigures] = {}
    no_mppr: set[dt.date] = set()  # the days of the call without an MPPR rate (before April 2013)

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
            if got.mppr is None:
                no_mppr.add(dos)
        return got

    per_unit: dict[tuple[str, dt.date], tuple[Decimal, Decimal]] = {}  # (code, date) -> (full, PE part)
    assistant_of: dict[object, str] = {}

    def unit(code: str, dos: dt.date, mods: Collection[str]) -> _Unit:
        try:
            assistant = assistant_of.get(mods)
            known = True
        except TypeError:  # modifiers given as a list: read them every time
            assistant, known = None, False
        if assistant is None:
            # a str is a Collection[str] too: read "GP CQ" as modifiers, not as the letters G, P, C, Q
            texts = _MODIFIER_TEXT_SPLIT.split(mods) if isinstance(mods, str) else mods
            given = {str(m).strip().upper() for m in texts}
            assistant = next((m for m in ASSISTANT_MODIFIERS if m in given), "")
            if known:
                assistant_of[mods] = assistant
        figs = day(dos)
        rvu = figs.table.rows.get(code)
        if rvu is None:
            raise UnknownCode(code, f"not in {figs.table.release.name}")
        amounts = per_unit.get((code, dos))
        if amounts is None:  # the same code on the same day costs the same: compute once
            gw, gpe, gmp = figs.gpci
            pe = rvu.pe * gpe
            amounts = per_unit[(code, dos)] = ((rvu.work * gw + pe + rvu.mp * gmp) * figs.cf.value,
                                               pe * figs.cf.value)
        full, pe_pay = amounts
        # the MPPR order of the module notes: PE payment, total fee, no CQ/CO, lower code (then the line)
        return _Unit(code, dos, assistant, rvu, figs, full, rvu.status in _PAID and full > 0 and rvu.mppr,
                     (-pe_pay, -full, bool(assistant), code), {})

    unit_of: dict[tuple[object, dt.date, Collection[str]], _Unit] = {}  # (code as given, date, modifiers)
    code_of: dict[object, str | None] = {}
    units_out: list[int] = []
    line_unit: list[_Unit] = []
    visit_lines: dict[tuple[Hashable, dt.date], list[tuple[tuple[Decimal, Decimal, bool, str], int]]] = {}
    # the methods of the loop's dicts and lists, bound once: the loop runs once per line of a log
    find_unit, find_visit, add_count, add_unit = unit_of.get, visit_lines.get, units_out.append, line_unit.append
    for i, (code_given, count, dos, mods, visit) in enumerate(lines):
        if type(dos) is not dt.date:
            dos = _as_date(dos)
        try:
            u = find_unit((code_given, dos, mods))
        except TypeError:  # modifiers given as a list: nothing to remember them by
            u = None
        if u is None:
            # the checks in the order of pricing line by line: code, units, the date's figures, the release's row
            try:
                code = code_of[code_given]
            except KeyError:
                code = code_of[code_given] = normalize_code(code_given)
            if code is None:
                raise UnknownCode("(blank)", "a code is required")
            if type(count) is not int or count < 0:
                count = _units(count)
            u = unit(code, dos, mods)
            try:
                unit_of[(code_given, dos, mods)] = u
            except TypeError:
                pass
        elif type(count) is not int or count < 0:
            count = _units(count)
        add_count(count)
        add_unit(u)
        if count and u.in_mppr:
            members = find_visit((visit, dos))
            if members is None:
                visit_lines[(visit, dos)] = [(u.rank, i)]
            else:
                members.append((u.rank, i))

    # MPPR roles, one pass over the visits with two or more MPPR units
    full_units = units_out[:]
    reduced_units = [0] * len(units_out)
    tops: dict[tuple[Hashable, dt.date], int] = {}
    for visit_day, members in visit_lines.items():
        if len(members) == 1 and units_out[members[0][1]] < 2:  # every member has a unit or more
            continue
        if no_mppr and visit_day[1] in no_mppr:
            raise UnsupportedDate("therapy MPPR rate", visit_day[1].year, _available("mppr_pe_rate"))
        for _, j in members:
            full_units[j] = 0
            reduced_units[j] = units_out[j]
        top = tops[visit_day] = min(members)[1]  # see the module notes for the order
        full_units[top] = 1
        reduced_units[top] -= 1

    amounts: list[Decimal | None] = []
    for u, roles in zip(line_unit, zip(full_units, reduced_units)):
        try:
            amounts.append(u.amounts[roles])
        except KeyError:
            amount = u.amounts[roles] = _amount(u, *roles)
            amounts.append(amount)
    return _Priced(units_out, line_unit, full_units, reduced_units, tops, amounts)


_ZERO_CENTS = Decimal("0.00")


def _amount(u: _Unit, full_units: int, reduced_units: int) -> Decimal | None:
    """A line's allowed amount: its units at the full and the MPPR rate, then CQ/CO, rounded once to the cent."""
    status = u.rvu.status
    if status not in _PAID or u.full == 0:
        # contractor-priced (C, or R without RVUs: 97545, 97546) has no amount; the rest pays $0
        return None if status == "C" or status in _PAID else _ZERO_CENTS
    raw = u.full * full_units
    if reduced_units:
        raw += _reduced_unit(u) * reduced_units
    rate = u.figs.assistant if u.assistant else None  # None before CQ/CO were paid less (2022)
    if rate is not None:
        raw *= rate.value
    return raw.quantize(CENT, rounding=ROUND_HALF_UP)


def _mppr_rate(figs: _DayFigures) -> Decimal:
    # only lines of a visit with two or more MPPR units have reduced units, and
    # _price raises UnsupportedDate for such a visit on a day without a rate
    assert figs.mppr is not None, "reduced units on a day without an MPPR rate"
    return figs.mppr.value


def _reduced_unit(u: _Unit) -> Decimal:
    """One unit with the MPPR share of its PE (the other units of the visit)."""
    figs = u.figs
    gw, gpe, gmp = figs.gpci
    return (u.rvu.work * gw + u.rvu.pe * gpe * _mppr_rate(figs) + u.rvu.mp * gmp) * figs.cf.value


# --- KX threshold and targeted review ----------------------------------------

#: KX buckets (therapy-billing-rules.md section 6): PT and SLP share one, OT has its own.
PT_SLP = "PT+SLP"
KX_BUCKETS = {"PT": PT_SLP, "SLP": PT_SLP, "OT": "OT"}


class KxLine(NamedTuple):  # a NamedTuple: the KX rule builds one per Medicare line of a log
    """One Medicare therapy line of a patient: date, discipline (PT, SLP, OT) and allowed amount."""

    dos: dt.date
    discipline: str
    allowed: Decimal


class KxMark(NamedTuple):  # a NamedTuple: the KX rule builds one per Medicare line of a log
    """What one line needs: KX, and whether the bucket is past the targeted review threshold."""

    bucket: str
    year_total: Decimal  # the bucket's allowed amount for the year through this line, prior included
    needs_kx: bool
    past_review: bool
    threshold: Figure
    review: Figure


def _money(value: object, what: str) -> Decimal:
    if isinstance(value, bool):
        raise BadValue(f"{what} must be an amount, got {value!r}")
    try:
        # value is whatever the caller has (a cell, a str): Decimal() refuses what it cannot read, caught below
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise BadValue(f"{what} must be an amount, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise BadValue(f"{what} must be an amount of 0 or more, got {value!r}")
    return amount


def _bucket(discipline: object) -> str:
    text = str(discipline).strip().upper()
    if text in KX_BUCKETS:
        return KX_BUCKETS[text]
    if text in KX_BUCKETS.values():
        return text
    raise BadValue(f"unknown discipline {discipline!r} for the KX threshold; use PT, SLP or OT")


def kx_start(prior: Mapping[tuple[int, str], object] | None) -> dict[tuple[int, str], Decimal]:
    """Where each year's buckets start: ``prior[(year, bucket or discipline)]`` (what other providers
    were paid that year) as (year, bucket) -> amount. Raises BadValue for an amount that is not one
    (negative, not finite, text) and for an unknown discipline."""
    return {(int(year), _bucket(given)): _money(amount, f"prior amount for {year} {given}")
            for (year, given), amount in (prior or {}).items()}


def kx_running(allowed: Sequence[Decimal], start: Decimal, kx: Decimal,
               review: Decimal) -> tuple[list[Decimal], int, int]:
    """One bucket's year, its lines in date order: (the year total through each line, the first line
    past ``kx``, the first line past ``review``); a position of ``len(allowed)`` when none is past.

    The totals add up from ``start``. Past means over (total > threshold: reaching it exactly is
    not past), and every later line is past too: amounts are never negative, so the totals never
    fall, and the first line past is found by bisection. The one implementation of the running
    total, for ``kx_marks`` and the KX rule's whole-log pass.
    """
    totals = list(islice(accumulate(allowed, initial=start), 1, None))  # Decimal additions in line order
    return totals, bisect_right(totals, kx), bisect_right(totals, review)


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
    starts = kx_start(prior)
    year_limits: dict[int, tuple[Figure, Figure]] = {}
    dates = [line.dos if type(line.dos) is dt.date else _as_date(line.dos) for line in lines]
    order = sorted(range(len(lines)), key=dates.__getitem__)  # stable: same-day order kept
    buckets: dict[object, str] = {}
    runs: dict[tuple[int, str], tuple[list[int], list[Decimal]]] = {}  # (year, bucket) -> its lines, amounts
    for i in order:  # every line checked in date order, so the first bad one is the one named
        line = lines[i]
        dos = dates[i]
        bucket = buckets.get(line.discipline)
        if bucket is None:
            bucket = buckets[line.discipline] = _bucket(line.discipline)
        if dos.year not in year_limits:  # both thresholds are yearly figures
            year_limits[dos.year] = (kx_threshold(dos), review_threshold(dos))
        allowed = line.allowed
        if not (type(allowed) is Decimal and allowed.is_finite() and allowed >= 0):
            allowed = _money(allowed, f"allowed amount of line {i + 1}")
        run = runs.get((dos.year, bucket))
        if run is None:
            run = runs[(dos.year, bucket)] = ([], [])
        run[0].append(i)
        run[1].append(allowed)
    marks: list[KxMark | None] = [None] * len(lines)
    for (year, bucket), (positions, amounts) in runs.items():
        kx, review = year_limits[year]
        totals, first_kx, first_review = kx_running(amounts, starts.get((year, bucket), _ZERO), kx.value,
                                                    review.value)
        for j, i in enumerate(positions):
            marks[i] = KxMark(bucket, totals[j], j >= first_kx, j >= first_review, kx, review)
    # every position is filled: ``order`` is a permutation of range(len(lines))
    return marks  # type: ignore[return-value]


# --- importing CMS files into the user data folder ----------------------------

def _read_text(path: Path) -> str:
    # read only: the user's file is never written; a binary file is refused in one line
    return datasets.read_cms_text(path)


def _year(value: object) -> int:
    try:
        year = int(str(value).strip())
    except ValueError:
        raise BadValue(f"year must be a number like 2026, got {value!r}") from None
    if not 1992 <= year <= 2100:  # the RBRVS fee schedule started in 1992
        raise BadValue(f"year {year} is out of range")
    return year


_RVU_TITLE = re.compile(r"\b((?:19|20)\d\d)\s+National Physician Fee Schedule[^,]*", re.I)


def _rvu_file_year(text: str, file_name: str) -> tuple[int | None, str]:
    """(year, title) from the title line ("2025 National Physician Fee Schedule ..."), else the file name."""
    head = text[: text.upper().find("HCPCS")] if "HCPCS" in text.upper() else text[:4000]
    m = _RVU_TITLE.search(head)
    if m:
        return int(m.group(1)), " ".join(m.group(0).split())
    m = re.search(r"PPRRVU(20\d\d)", file_name, re.I) or re.search(r"PPRRVU(\d\d)(?!\d)", file_name, re.I)
    if m:
        y = int(m.group(1))
        return (y if y > 99 else 2000 + y), ""
    return None, ""


store_year = relative_value_files.store_year



def import_rvu(path: str | PathLike[str], year: int | None = None, *, force: bool = False) -> datasets.Release:
    """Import a CMS PPRRVU CSV as the RVU release of ``year`` (1 January - 31 December).

    The year comes from the title line ("2025 National Physician Fee
    Schedule Relative Value File ...") or the file name (PPRRVU2025_Oct.csv,
    PPRRVU24_JAN.csv) when not given; a given year that contradicts the file
    is refused, and so is a title whose year contradicts the file name. The
    normalised rows go to the user data folder, replacing an earlier import of
    that year (a later quarter replaces the earlier one); a file lacking over
    10% of the codes of the release it replaces (a cut-off file) is refused
    unless ``force``. The input file is only read. Raises DataImportError naming what
    is wrong.
    """
    path = Path(path)
    text = _read_text(path)
    rows = rvu_file.parse_rvu_file(text)
    found, title = _rvu_file_year(text, path.name)
    named, _ = _rvu_file_year("", path.name)
    if title and named is not None and named != found:
        raise DataImportError(f"{path.name}: its title says {found} ({title}) but its name says {named}; "
                              "import the file of the year you mean")
    if year is None:
        if found is None:
            raise DataImportError(f"cannot tell which year {path.name} is for; give the year")
        year = found
    year = _year(year)
    if found is not None and found != year:
        raise DataImportError(f"{path.name} is the {found} file, not {year}")
    stated = relative_value_files.pprrvu_title(text)
    rid = f"{relative_value_files.release_id(year, stated.letter)}: " if stated is not None and stated.letter else ""
    name = f"{rid}{title or 'PPRRVU'} for {year} (imported from {path.name}, {len(rows)} rows)"
    source = f"CMS National Physician Fee Schedule Relative Value File {path.name}"
    return store_year("rvu", year, lambda p: rvu_file.write_release_csv(rows, p), name, source, path, force=force)


def import_gpci(path: str | PathLike[str], year: int, *, force: bool = False) -> datasets.Release:

    """Import a CMS GPCI CSV (Addendum E layout) as the GPCI release of ``year``.

    A year in the file's GPCI headers, title or name that contradicts ``year``
    (or another of them) is refused; so is a file lacking over 10% of the
    localities of the release it replaces (a cut-off file) unless ``force``.
    The input file is only read. Raises DataImportError naming what is wrong.
    """
    path = Path(path)
    year = _year(year)
    text = _read_text(path)
    rows = gpci_file.parse_gpci_file(text)
    stated = gpci_file.file_years(text, path.name)
    if len(set(stated.values())) > 1:
        raise DataImportError(f"{path.name}: " + ", ".join(f"its {w} says {y}" for w, y in stated.items())
                              + "; import the file of the year you mean")
    found = next(iter(stated.values()), None)
    if found is not None and found != year:
        raise DataImportError(f"{path.name} is the {found} GPCI file, not {year}")
    name = f"CY {year} GPCIs by locality, {len(rows)} localities (imported from {path.name})"
    source = f"CMS Geographic Practice Cost Indices by Medicare locality {path.name} (PFS Addendum E layout)"
    return store_year("gpci", year, lambda p: gpci_file.write_release_csv(rows, p), name, source, path, force=force)


__all__ = [
    "ASSISTANT_MODIFIERS", "CENT", "FeeLine", "FeeRow", "Figure", "KX_BUCKETS", "KxLine", "KxMark", "LineFee",
    "NATIONAL", "PT_SLP", "allowed_amounts", "conversion_factor", "gpci", "import_gpci", "import_rvu", "kx_marks",
    "kx_running", "kx_start", "kx_threshold", "normalize_locality", "price_lines", "review_threshold", "store_year",
]
