"""PT_FEE's coercion: Excel columns of codes, units, modifiers and dates -> priced lines.

The front-door half of the fee schedule: it reads cells the way
``logs.cells`` does, lets one bad line fail alone, and hands clean lines to
``rules.fee_schedule.price_lines`` (MPPR, CQ/CO, GPCIs), year by year.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from ..rules import datasets, errors
from ..rules.code_catalog import normalize_code
from ..rules.fee_schedule import FeeLine, LineFee, price_lines
from ..rules.service_units import LineProblem
from ..rules.service_units import _visit_key as visit_key
from .cells import coerce_date, coerce_units, parse_modifiers


def default_date() -> dt.date:
    """The date used when PT_FEE gets no dates: 1 January of the newest year with RVUs.

    Never today's date: the answer depends only on the data installed.
    """
    years = [r.effective_from for r in datasets.releases() if r.kind == "rvu"]
    if not years:
        raise errors.UnsupportedDate("fee schedule", 0, "import CMS's RVUyyA.zip with `ptbilling data import`")
    return dt.date(max(years).year, 1, 1)


def price_column(codes: Sequence[object], units: Sequence[object] | None,
                 modifiers: Sequence[object] | None = None, dates: Sequence[object] | None = None,
                 locality: str | None = None, visits: Sequence[object] | None = None
                 ) -> list[LineFee | LineProblem | None]:
    """One LineFee per line, None for a blank line, or a LineProblem saying what is wrong."""
    with datasets.pinned():  # one read of the release index for the whole column
        return _price_column(codes, units, modifiers, dates, locality, visits)


def _price_column(codes: Sequence[object], units: Sequence[object] | None, modifiers: Sequence[object] | None,
                  dates: Sequence[object] | None, locality: str | None,
                  visits: Sequence[object] | None) -> list[LineFee | LineProblem | None]:
    n = len(codes)
    for name, col in (("units", units), ("modifiers", modifiers), ("dates", dates), ("visits", visits)):
        if col is not None and len(col) != n:
            raise errors.BadValue(f"{name} has {len(col)} cells but codes has {n}")
    out: list[LineFee | LineProblem | None] = [None] * n
    fallback = None
    by_year: dict[int, list[tuple[int, FeeLine]]] = {}
    for i in range(n):
        try:
            code = normalize_code(codes[i])
            u = coerce_units(units[i]) if units is not None else None
            if code is None:
                if u is None:
                    continue  # blank line
                raise LineProblem("code is blank")
            if u is None:
                raise LineProblem(f"no units for {code}")
            if dates is not None and dates[i] is not None:
                dos = coerce_date(dates[i])
            else:
                fallback = fallback or default_date()
                dos = fallback
            mods = frozenset(parse_modifiers(modifiers[i])) if modifiers is not None else frozenset()
            visit = visit_key(visits[i]) if visits is not None else None  # as PT_UNITS: "P01|x" is "p01 |x"
        except (LineProblem, errors.UnsupportedDate) as e:
            out[i] = e if isinstance(e, LineProblem) else LineProblem(str(e))
            continue
        by_year.setdefault(dos.year, []).append((i, FeeLine(code, u, dos, mods, visit)))
    for group in by_year.values():
        _price_group(group, locality, out)
    return out


def _price_group(group: list[tuple[int, FeeLine]], locality: str | None,
                 out: list[LineFee | LineProblem | None]) -> None:
    """Price one year's lines; a code the year's file lacks fails alone, anything else fails the year."""
    while group:
        try:
            fees = price_lines([line for _, line in group], locality)
        except errors.UnknownCode as e:
            bad = {i for i, line in group if line.code == e.code}
            if not bad:
                raise
            for i in bad:
                out[i] = LineProblem(str(e))
            group = [(i, line) for i, line in group if i not in bad]
            continue
        except (errors.UnsupportedDate, errors.UnknownLocality, errors.BadValue) as e:
            for i, _ in group:
                out[i] = LineProblem(str(e))
            return
        for (i, _), fee in zip(group, fees):
            out[i] = fee
        return


def cell_value(fee: LineFee | LineProblem | None) -> float | str | None:
    """What the cell shows: the amount in dollars, blank, or the reason there is no amount."""
    if fee is None:
        return None
    if isinstance(fee, LineProblem):
        return str(fee)
    if fee.amount is None:
        return fee.why
    return float(fee.amount.quantize(Decimal("0.01")))
