"""The whole-log rules (``validate_lines``, ``mue.log_mue_findings``) against the scalar code they
replaced (tests/oracle): on many random logs, every line's findings, in order, and the KX totals.

The logs hold what every rule family looks at: catalog and unknown codes, evaluations, PTP
pairs, codes with MUEs (line edits and per-day ones), untimed and per-application codes,
assistants with and without Assistant Minutes, patients and payers spelt several ways, dates
across the CQ/CO, single-line and release boundaries and outside the data, blank and unreadable
rows. Each runs on the shipped data, on imported PTP, MUE and RVU releases, on the same
releases damaged, and on a damaged release index.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from cms_fixtures import mue_text, pprrvu_text, ptp_text
from oracle import mue as oracle_mue
from oracle import validate as oracle
from ptbilling.rules import datasets, mue, ncci_ptp, validate
from ptbilling.rules.claim_lines import PROVIDERS, ClaimLine, visit_key
from ptbilling.rules.code_catalog import catalog_for
from ptbilling.rules.errors import DamagedStore, UnsupportedDate
from ptbilling.rules.fee_schedule import import_rvu
from ptbilling.rules.findings import ERROR, WARN, Finding

PAYERS = ["Medicare", "MCR", "medicare part b ", "Medicare Advantage", "Humana Medicare HMO", "Aetna",
          "aetna", "BCBS / Medicare secondary", "BCBS"]
MODIFIERS = ["GP", "GO", "GN", "CQ", "CO", "59", "XU", "XS", "KX", "RT", "LT", "50", "F1"]
#: the codes the visit rules single out, weighted over the rest of the catalog
HOT = ["97110", "97110", "97112", "97140", "97140", "97530", "97530", "97116", "97035", "97161", "97162",
       "97163", "97164", "97165", "97166", "97167", "97168", "97150", "29530", "29540", "G0283", "97010",
       "97012", "92507"]
#: codes paired by the seed's or the imported PTP edits (below), and evaluations together
PAIRS = [["97161", "97140"], ["97163", "97140", "97161"], ["97164", "97530", "97150"], ["97112", "97116"],
         ["97530", "97116", "97140"], ["97110", "97035"], ["97164", "97162", "97161"], ["97166", "97168"]]
DAYS = [dt.date(2016, 6, 1),  # before the catalog
        dt.date(2017, 1, 3), dt.date(2019, 12, 31), dt.date(2020, 1, 1), dt.date(2021, 4, 18),
        dt.date(2021, 4, 19), dt.date(2022, 3, 1), dt.date(2024, 5, 1), dt.date(2025, 3, 31),
        dt.date(2025, 7, 1), dt.date(2025, 8, 4), dt.date(2026, 1, 2), dt.date(2027, 2, 1),
        dt.date(2100, 1, 4)]  # after every PTP and MUE release


def random_log(seed: int, n: int, days: list[dt.date] | None = None) -> tuple[list[ClaimLine | None], dict[int, Finding]]:
    """``n`` rows: visits of one to six lines (often one code twice), a few blank or unreadable; the rows
    shuffled, or (one seed in three) a visit at a time, as EMR exports write them."""
    rnd = random.Random(seed)
    codes = sorted(c.code for c in catalog_for(None)) + HOT * 4 + ["99999", "97001", "9711"]
    providers = sorted(PROVIDERS) + ["", "XYZ", "PT", "PT", "PTA", "PTA", "OT", "COTA"]
    with_asst = rnd.random() < 0.6
    days = days or rnd.sample(DAYS, rnd.randint(1, len(DAYS)))
    specs = []
    in_order = seed % 3 == 0  # a visit at a time, each visit its own patient and payer: no key comes twice
    while len(specs) < n:
        patient = len(specs) if in_order else rnd.randint(1, 30)
        dos = rnd.choice(days)
        payer = rnd.choice(PAYERS)
        visit_codes = rnd.sample(HOT if rnd.random() < 0.5 else codes, rnd.randint(1, 4))
        if rnd.random() < 0.15:
            visit_codes = rnd.choice(PAIRS)
        for _ in range(rnd.choice([1, 1, 2, 3, 4, 6])):
            code = rnd.choice(visit_codes)
            spelt = rnd.choice([f"P{patient}", f"P{patient}", f"p{patient}", f" P{patient} "])
            line_payer = payer if in_order or rnd.random() < 0.8 else rnd.choice(PAYERS)
            minutes = rnd.choice([None, 0, 5, 7, 8, 10, 15, 22, 23, 30, 38, 45, 60, 75])
            if rnd.random() < 0.005:
                minutes = 1000  # two such lines put a visit over a day
            units = rnd.choice([None, 0, 1, 1, 1, 2, 2, 3, 4, 5, 7, 9])
            if rnd.random() < 0.4:  # often as the 8-minute rule gives, so that the CQ/CO split is judged
                units = (minutes + 7) // 15 if minutes else 1
            asst = None
            if with_asst and rnd.random() < 0.5:
                asst = rnd.randint(0, minutes) if minutes else rnd.choice([0, None])
            mods = rnd.sample(MODIFIERS, rnd.choice([0, 1, 1, 2, 2, 3]))
            provider = rnd.choice(providers)
            if rnd.random() < 0.6:  # mostly the modifiers a biller would put, so that the visit rules get to judge
                mods = [{"OT": "GO", "OTA": "GO", "COTA": "GO", "SLP": "GN"}.get(provider, "GP")] + mods[:1]
                if provider in ("PTA", "OTA", "COTA") or (asst and rnd.random() < 0.5):
                    mods.append("CO" if mods[0] == "GO" else "CQ")
            specs.append((spelt, dos, line_payer, provider, code, tuple(dict.fromkeys(mods)), minutes, units, asst,
                          rnd.choice([None, None, None, 1800.0, 2500.0])))
    specs = specs[:n]
    if not in_order:
        rnd.shuffle(specs)
    lines: list[ClaimLine | None] = []
    problems: dict[int, Finding] = {}
    for i, s in enumerate(specs):
        roll = rnd.random()
        if roll < 0.03:
            lines.append(None)  # a blank row
        elif roll < 0.06:
            lines.append(None)
            problems[i] = Finding(i, ERROR, "INPUT", "Minutes cell: 'abc' is not a number — correct it")
        else:
            lines.append(ClaimLine(i, *s, has_assistant_column=with_asst))
            if roll > 0.99:  # a reading note on a line that is checked
                problems[i] = Finding(i, WARN, "MOD-DUPLICATE", "GP given twice; it is read once")
    return lines, problems


def import_releases(folder):
    """A 2025Q3 PTP release, a 2025Q3 MUE release with a line edit, and a 2027 RVU release."""
    (folder / "in").mkdir(exist_ok=True)
    ptp = folder / "in" / "ccipra-v312r0-f1.txt"
    ptp.write_text(ptp_text([("97110", "97035", "20200101", "*", "1"), ("97112", "97116", "20200101", "*", "0"),
                             ("97530", "97116", "20200101", "*", "1"), ("97140", "97530", "20200101", "*", "1"),
                             ("97161", "97140", "20170101", "*", "0"), ("97164", "97530", "20170101", "*", "9")]),
                   encoding="utf-8")
    table = folder / "in" / "MCR_MUE_PractitionerServices_Eff_07-01-2025.csv"
    table.write_text(mue_text([("97110", "4", "3 Date of Service Edit: Clinical"),
                               ("97112", "3", "2 Date of Service Edit: Policy"),
                               ("97140", "2", "1 Line Edit"), ("G0283", "1", "1 Line Edit"),
                               ("97161", "1", "2 Date of Service Edit: Policy"), ("97530", "0", "")]),
                     encoding="utf-8")
    rvu = folder / "in" / "PPRRVU2027_Jan.csv"
    rvu.write_text(pprrvu_text(2027), encoding="utf-8")
    return [ncci_ptp.import_ptp(ptp), mue.import_mue(table), import_rvu(rvu)]


@pytest.fixture(params=["shipped", "imported", "damaged", "damaged-index"])
def store(request, isolated_user_data, tmp_path):
    if request.param != "shipped":
        releases = import_releases(tmp_path)
        if request.param == "damaged":
            for release in releases:
                with open(release.path, "a", encoding="utf-8") as f:
                    f.write("97530,,,,1,\n")  # a fragment a torn write leaves
        elif request.param == "damaged-index":
            index = isolated_user_data / datasets.INDEX_NAME
            index.write_bytes(index.read_bytes()[:40])
    return request.param


def answers(found: list[list[Finding]]) -> list[list[tuple[object, ...]]]:
    return [[tuple(f) for f in row] for row in found]


@pytest.mark.parametrize("seed", range(12))
def test_validate_lines_gives_the_oracles_findings_in_order(store, seed):
    lines, problems = random_log(seed, 300 + 40 * seed)
    method = [None, "AMA", "CMS", ""][seed % 4]
    totals: dict[tuple[str, int, str], Decimal] = {}
    expected_totals: dict[tuple[str, int, str], Decimal] = {}
    got = validate.validate_lines(lines, method, problems, totals)
    expected = oracle.validate_lines(lines, method, problems, expected_totals)
    assert answers(got) == answers(expected)
    assert totals == expected_totals


def test_the_random_logs_reach_every_visit_rule(isolated_user_data, tmp_path):
    """The logs above are worth comparing: every visit rule fires on them, and so do the date and damage paths."""
    seen: set[str] = set()
    for store_kind in ("shipped", "damaged"):
        if store_kind == "damaged":
            for release in import_releases(tmp_path):
                with open(release.path, "a", encoding="utf-8") as f:
                    f.write("97530,,,,1,\n")
        for seed in range(6):
            lines, problems = random_log(seed, 400)
            for row in validate.validate_lines(lines, None, problems):
                for f in row:
                    seen.add(f.rule if f.rule != "INPUT" else f"INPUT {f.message.split(' ')[0]}")
    wanted = {"MUE", "NCCI-PTP", "EVAL-MULTIPLE", "EVAL-AND-REEVAL", "UNITS-ASSISTANT-SPLIT", "ASSIST-MISSING",
              "UNITS-OVER", "UNITS-UNTIMED", "UNITS-DUPLICATE", "DATA-DAMAGED", "CODE-UNKNOWN", "INPUT Date",
              "INPUT Minutes", "MOD-DUPLICATE", "KX-MISSING"}
    assert wanted <= seen, wanted - seen


def test_the_equal_keys_of_a_row_keep_their_order():
    """Two findings of one rule on one line (97140 with two evaluations' pairs: NCCI-PTP twice) come in the
    oracle's order, not re-sorted by message."""
    d = dt.date(2024, 5, 1)
    lines = [ClaimLine(0, "P1", d, "Medicare", "PT", "97163", ("GP",), 45, 1),
             ClaimLine(1, "P1", d, "Medicare", "PT", "97140", ("GP",), 15, 1),
             ClaimLine(2, "P1", d, "Medicare", "PT", "97161", ("GP",), 30, 1)]
    got = validate.validate_lines(lines)
    assert [f.rule for f in got[1]].count("NCCI-PTP") == 2
    assert answers(got) == answers(oracle.validate_lines(lines))


# --- MUE on one visit, as tests and callers other than validate ask ------------------------

class Line:
    """A line of another shape than ClaimLine: codes and units as a spreadsheet may hand them."""

    def __init__(self, index, code, units):
        self.index, self.code, self.units, self.modifiers = index, code, units, ()


@pytest.mark.parametrize("seed", range(30))
def test_mue_findings_of_one_visit_are_the_oracles(seed, isolated_user_data, tmp_path):
    rnd = random.Random(seed)
    if seed % 3:
        import_releases(tmp_path)
    codes = ["97110", " 97110 ", "97112", "97140", "g0283", "G0283", "97161", "97530", "97035", "97164", "", None,
             97110, 97110.0, "97010"]
    visit = [None if rnd.random() < 0.05 else
             Line(i, rnd.choice(codes), rnd.choice([None, 0, 1, 2, 3, 4, 5, 7, 2.0, "3", True, "x"]))
             for i in range(rnd.randint(0, 9))]
    for dos in (dt.date(2025, 3, 31), dt.date(2025, 8, 4), dt.datetime(2025, 8, 4, 9, 30)):
        assert mue.mue_findings(visit, dos) == oracle_mue.mue_findings(visit, dos)
    with pytest.raises(UnsupportedDate):
        mue.mue_findings(visit, dt.date(2100, 1, 4))


def test_mue_findings_raise_for_a_damaged_table_even_without_lines(isolated_user_data, tmp_path):
    for release in import_releases(tmp_path):
        with open(release.path, "a", encoding="utf-8") as f:
            f.write("97530,,,,1,\n")
    for visit in ([], [Line(0, "97140", 1)]):
        with pytest.raises(DamagedStore):
            mue.mue_findings(visit, dt.date(2025, 8, 4))


def test_claim_line_visit_is_the_key_of_its_patient_date_and_payer():
    """``ClaimLine.visit`` reads fields 1-3 by position: they must stay patient, dos, payer."""
    assert ClaimLine._fields[1:4] == ("patient", "dos", "payer")
    ln = ClaimLine(0, " P01 ", dt.date(2025, 1, 2), "MCR", "PT", "97110", (), 8, 1)
    assert ln.visit == ("p01", dt.date(2025, 1, 2), "medicare") == visit_key(" P01 ", dt.date(2025, 1, 2), "MCR")


@pytest.mark.parametrize("seed", range(4))
def test_a_visit_rule_missing_a_figure_for_the_date_fails_that_visit_as_the_oracle_did(seed, monkeypatch):
    """No shipped release makes a visit rule raise UnsupportedDate (a date no release covers is caught
    per line first), but a dated figure may one day: then the visit's rows say so instead of its visit
    findings, and the log goes on. Forced here for the units of one date and the MUE table of another."""
    units_day, mue_day = dt.date(2024, 5, 1), dt.date(2026, 1, 2)

    def failing(real):
        def unit_findings(vlines, *args):
            if vlines[0].dos == units_day:
                raise UnsupportedDate("unit figure", units_day.year)
            return real(vlines, *args)
        return unit_findings

    def failing_log(real):  # the whole-log unit check: it fails whole when any of its visits would
        def unit_log_findings(visits):
            visits = list(visits)
            if any(v[0][0].dos == units_day for v in visits):
                raise UnsupportedDate("unit figure", units_day.year)
            return real(visits)
        return unit_log_findings

    real_on = mue._on

    def on(dos):
        if dos == mue_day:
            raise UnsupportedDate("MUE table", dos.year)
        return real_on(dos)

    monkeypatch.setattr(validate, "unit_log_findings", failing_log(validate.unit_log_findings))
    monkeypatch.setattr(oracle, "unit_findings", failing(oracle.unit_findings))
    monkeypatch.setattr(mue, "_on", on)
    monkeypatch.setattr(oracle_mue, "_on", on)
    lines, problems = random_log(100 + seed, 500, [units_day, mue_day, dt.date(2025, 8, 4)])
    got = validate.validate_lines(lines, None, problems)
    assert answers(got) == answers(oracle.validate_lines(lines, None, problems))
    assert any("no unit figure for 2024" in f.message for row in got for f in row)
    assert any("no MUE table for 2026" in f.message for row in got for f in row)
