"""The summary's counts, kept per distinct key, equal their per-line definitions.

``count_visits`` keys each distinct (patient, date, payer) as typed once; it must
equal the number of distinct ``ClaimLine.visit`` (patients in any case and outer
spaces, traditional Medicare in any spelling, None for no line). ``missing_data``
judges each distinct payer once; its years must be those of the Medicare lines.
"""
from __future__ import annotations

import datetime as dt
import random

import pytest

from ptbilling.logs import check as log_check
from ptbilling.rules.claim_lines import ClaimLine, is_medicare
from ptbilling.rules.errors import UnsupportedDate

PATIENTS = ["P1", "p1", " P1 ", "P2", "Zoë", "ZOË", "ß", "SS", ""]
PAYERS = ["Medicare", "MEDICARE ", "MCR", "Medicare B", "Medicare Part B", "Medicare Advantage", "BCBS Medicare Adv",
          "Aetna", "aetna", "Humana HMO"]


def _lines(rnd: random.Random) -> list:
    out: list = []
    for i in range(rnd.choice([0, 1, 5, 50, 300])):
        if rnd.random() < 0.15:
            out.append(None)
            continue
        day = dt.date(rnd.choice([2024, 2025, 2026]), rnd.randint(1, 2), rnd.randint(1, 3))
        out.append(ClaimLine(i, rnd.choice(PATIENTS), day, rnd.choice(PAYERS), "PT", "97110", ("GP",), 23, 2))
    return out


@pytest.mark.parametrize("seed", range(200))
def test_visits_and_the_years_of_medicare_lines(seed, monkeypatch):
    rnd = random.Random(seed)
    lines = _lines(rnd)
    assert log_check.count_visits(lines) == len({ln.visit for ln in lines if ln is not None})
    units = [rnd.choice([None, 0, 1, 3]) for _ in lines]
    blank = [ln is None and rnd.random() < 0.5 for ln in lines]
    s = log_check.summarize(lines, units, [[] for _ in lines], blank)
    assert s["lines"] == sum(1 for b in blank if not b) and s["units"] == sum(u for u in units if u is not None)
    years = sorted({ln.dos.year for ln in lines if ln is not None and is_medicare(ln.payer)})

    def none_installed(kind, day):
        raise UnsupportedDate(kind, day.year)
    monkeypatch.setattr(log_check.datasets, "in_force", none_installed)  # every year is then named, in order
    notes = log_check.missing_data(lines)
    assert [next(y for y in (2024, 2025, 2026) if f"for {y} is installed" in n) for n in notes] == years
