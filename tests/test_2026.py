"""The shipped 2026 fee schedule (RVU26C, non-QP), the 2026 GPCIs and KX threshold, and the 2026 layout."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from cms_files import pprrvu_text
from ptbilling.logs.cells import check_table
from ptbilling.rules import datasets, gpci_file, rvu_file
from ptbilling.rules.fee_schedule import (
    FeeLine,
    KxLine,
    conversion_factor,
    gpci,
    kx_marks,
    kx_threshold,
    price_lines,
)

D2026 = dt.date(2026, 3, 2)
LAST_2025, FIRST_2026 = dt.date(2025, 12, 31), dt.date(2026, 1, 1)


def amounts(*lines, locality=None):
    return [f.amount for f in price_lines(list(lines), locality)]


# --- the reference's 2026 national figures (therapy-billing-rules.md section 10) -----

def test_97110_one_unit_is_29_06():
    """2026 national 97110 x1: 0.87 RVU x 33.4009 = $29.06."""
    assert amounts(FeeLine("97110", 1, D2026)) == [Decimal("29.06")]


def test_a_reduced_97110_unit_is_22_21():
    """97110 after 97530 in one 2026 visit: 0.45 + 0.205 + 0.01 RVU = $22.21; 97530 in full $35.07."""
    fees = price_lines([FeeLine("97110", 1, D2026, visit="v"), FeeLine("97530", 1, D2026, visit="v")])
    assert [f.amount for f in fees] == [Decimal("22.21"), Decimal("35.07")]
    assert (fees[0].full_units, fees[0].reduced_units) == (0, 1)


def test_97530_one_unit_is_35_07():
    """2026 national 97530 x1: 1.05 RVU x 33.4009 = $35.07."""
    assert amounts(FeeLine("97530", 1, D2026)) == [Decimal("35.07")]


def test_97110_two_units_are_one_full_and_one_reduced():
    """97110 x2 in 2026: 29.06 + 22.21 = $51.27."""
    assert amounts(FeeLine("97110", 2, D2026)) == [Decimal("51.27")]


def test_alaska_2026_uses_the_2026_gpcis():
    """02102-01 in 2026: GPCIs 1.5 / 1.065 / 0.551; 97110 = (0.675 + 0.43665 + 0.00551) x 33.4009 = $37.31."""
    assert gpci("02102-01", D2026) == (Decimal("1.5"), Decimal("1.065"), Decimal("0.551"))
    assert amounts(FeeLine("97110", 1, D2026), locality="02102-01") == [Decimal("37.31")]


def test_the_2026_figures_are_official_and_cite_cms():
    """The 2026 conversion factor (33.4009, RVU26C) and KX threshold ($2,480, CR 14252) are official."""
    cf = conversion_factor(D2026)
    assert (cf.value, cf.status) == (Decimal("33.4009"), "official") and "RVU26C" in cf.source
    kx = kx_threshold(D2026)
    assert (kx.value, kx.status) == (Decimal("2480"), "official") and "CR 14252" in kx.source
    [fee] = price_lines([FeeLine("97110", 1, D2026)])
    assert fee.data_status == "official" and "unverified" not in fee.why


# --- 2025 dates keep 2025 data (both sides of the year boundary) ---------------------

def test_31_december_2025_is_priced_with_2025_data_and_1_january_2026_with_2026():
    """97110 x1: $28.79 on 2025-12-31 (RVU25D, CF 32.3465), $29.06 on 2026-01-01 (RVU26C, CF 33.4009)."""
    assert amounts(FeeLine("97110", 1, LAST_2025), FeeLine("97110", 1, FIRST_2026, visit="next day")) == \
        [Decimal("28.79"), Decimal("29.06")]
    assert "RVU25D" in datasets.in_force("rvu", LAST_2025).name
    assert "RVU26C" in datasets.in_force("rvu", FIRST_2026).name
    assert gpci("02102-01", LAST_2025) == (Decimal("1.5"), Decimal("1.081"), Decimal("0.592"))


def test_the_kx_threshold_changes_with_the_year():
    """$2,410 on 2025-12-31, $2,480 on 2026-01-01."""
    assert (kx_threshold(LAST_2025).value, kx_threshold(FIRST_2026).value) == (Decimal("2410"), Decimal("2480"))


# --- KX in 2026 ------------------------------------------------------------------------

def test_a_2026_line_that_passes_2480_needs_kx_and_one_that_reaches_it_exactly_does_not():
    """Prior $2,450.94 + 97110 $29.06 = $2,480.00 (no KX); prior $2,450.95 passes it (KX)."""
    amount = amounts(FeeLine("97110", 1, D2026))[0]
    at = kx_marks([KxLine(D2026, "PT", amount)], {(2026, "PT+SLP"): Decimal("2450.94")})[0]
    past = kx_marks([KxLine(D2026, "PT", amount)], {(2026, "PT+SLP"): Decimal("2450.95")})[0]
    assert (at.year_total, at.needs_kx) == (Decimal("2480.00"), False)
    assert (past.year_total, past.needs_kx) == (Decimal("2480.01"), True)


def test_pt_validate_flags_the_2026_crossing_with_the_2026_amounts():
    """A 2026 log: 97110 x2 ($51.27) on a $2,460 prior is past $2,480 without KX; the same with KX is OK."""
    header = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units", "Prior Allowed"]
    got = check_table([header,
                       ["P1", dt.datetime(2026, 2, 2), "Medicare", "PT", "97110", "GP", 30, 2, 2460],
                       ["P2", dt.datetime(2026, 2, 2), "Medicare", "PT", "97110", "GP KX", 30, 2, 2460]])
    assert got[1] == ("ERROR KX-MISSING: PT+SLP allowed in 2026 reaches $2,511.27, past the $2,480 KX threshold "
                      "— add KX if medically necessary")
    assert got[2] == "OK"


def test_a_2026_medicare_line_is_kx_checked_with_nothing_imported():
    """No KX-UNCHECKED for 2026 dates: the shipped data price them."""
    header = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"]
    got = check_table([header, ["P1", dt.datetime(2026, 7, 1), "Medicare", "PT", "97110", "GP", 30, 2]])
    assert got[1] == "OK"


# --- the 2026 layout: PRIC IND shifts nothing ------------------------------------------

def _drop_column(text: str, header_word: str) -> str:
    """``text`` without the column whose header line cell (the HCPCS line) or the line above says ``header_word``."""
    rows = list(csv.reader(io.StringIO(text)))
    above = next(i for i, r in enumerate(rows) if r and r[0] == "HCPCS") - 1
    j = rows[above].index(header_word)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for r in rows:
        w.writerow(r[:j] + r[j + 1:])
    return out.getvalue()


def test_the_2026_layout_has_32_columns_with_pric_ind_between_team_surg_and_endo_base():
    """The fixture's header is CMS's 2026 one: 32 columns, PRIC IND after TEAM SURG, before ENDO BASE."""
    rows = list(csv.reader(io.StringIO(pprrvu_text(2026))))
    above, hcpcs = rows[8], rows[9]
    assert len(hcpcs) == 32 and len(list(csv.reader(io.StringIO(pprrvu_text(2025))))[9]) == 31
    j = above.index("PRIC")
    assert (above[j - 1], hcpcs[j - 1], hcpcs[j], above[j + 1], hcpcs[j + 1]) == ("TEAM", "SURG", "IND", "ENDO", "BASE")


def test_pric_ind_shifts_no_column():
    """The 2026 file with or without its PRIC IND column gives the same rows (RVUs, MULT PROC, CONV FACTOR)."""
    text = pprrvu_text(2026)
    with_it = rvu_file.parse_rvu_file(text)
    without = rvu_file.parse_rvu_file(_drop_column(text, "PRIC"))
    assert with_it == without
    r = next(r for r in with_it if r.code == "97110")
    assert (r.work_rvu, r.pe_rvu_nonfacility, r.mp_rvu, r.mult_proc, r.conversion_factor) == (0.45, 0.41, 0.01, "5",
                                                                                             33.4009)


def test_the_shipped_2026_release_holds_the_fixture_rows():
    """Each row of the small 2026 fixture (copied from CMS's file) is in the shipped rvu_2026.csv unchanged."""
    shipped = rvu_file.read_release_csv(datasets.in_force("rvu", D2026).path)
    for r in rvu_file.parse_rvu_file(pprrvu_text(2026)):
        assert shipped[r.code] == r


def test_the_shipped_2026_releases_are_named_with_source_and_status():
    """RVU26C and the 2026 GPCIs are shipped, official, and their sources cite CMS's files."""
    rvu, g = datasets.in_force("rvu", D2026), datasets.in_force("gpci", D2026)
    assert (rvu.origin, rvu.status, g.origin, g.status) == ("shipped", "official", "shipped", "official")
    assert rvu.name.startswith("RVU26C") and "PPRRVU2026_Jul_nonQPP" in rvu.source
    assert "GPCI2026.csv" in g.source and "109 localities" in g.name


# --- against the full shared files, where they exist -----------------------------------

def test_shipped_rvu_2026_is_exactly_the_import_of_the_full_cms_file(shared_cms_dir):
    """rvu_2026.csv holds what the importer reads from PPRRVU2026_Jul.therapy.csv: 119 rows, CF 33.4009."""
    rows = rvu_file.parse_rvu_file((shared_cms_dir / "PPRRVU2026_Jul.therapy.csv").read_text(encoding="utf-8"))
    assert len(rows) == 119 and {r.conversion_factor for r in rows} == {33.4009}
    assert rvu_file.read_release_csv(datasets.in_force("rvu", D2026).path) == {r.code: r for r in rows}


def test_shipped_gpci_2026_is_exactly_the_import_of_the_full_cms_file(shared_cms_dir):
    """gpci_2026.csv holds what the importer reads from GPCI2026.csv: 109 localities, year 2026."""
    text = (shared_cms_dir / "GPCI2026.csv").read_text(encoding="utf-8")
    rows = gpci_file.parse_gpci_file(text)
    assert len(rows) == 109 and gpci_file.file_year(text) == 2026
    assert gpci_file.read_release_csv(datasets.in_force("gpci", D2026).path) == {r.locality: r for r in rows}


@pytest.mark.parametrize("code,amount", [("97110", "29.06"), ("97530", "35.07")])
def test_the_full_2026_file_gives_the_reference_amounts(shared_cms_dir, code, amount):
    """The reference's 2026 amounts hold for the full file's RVUs x 33.4009 (rounded half up)."""
    rows = {r.code: r for r in rvu_file.parse_rvu_file(
        (shared_cms_dir / "PPRRVU2026_Jul.therapy.csv").read_text(encoding="utf-8"))}
    r = rows[code]
    total = (Decimal(repr(r.work_rvu)) + Decimal(repr(r.pe_rvu_nonfacility)) + Decimal(repr(r.mp_rvu)))
    assert (total * Decimal("33.4009")).quantize(Decimal("0.01")) == Decimal(amount)


def test_codes_new_in_the_2026_file_are_in_the_catalog():
    """Every code of the shipped 2026 PPRRVU release is a known code on a 2026 date, with the file's status."""
    from pathlib import Path

    from ptbilling.rules.code_catalog import catalog_for

    path = Path(datasets.__file__).parent / "data" / "pfs" / "rvu_2026.csv"
    with path.open(newline="", encoding="utf-8") as f:
        shipped = {r["code"]: r["status"] for r in csv.DictReader(f)}
    known = {i.code: i.status for i in catalog_for(dt.date(2026, 6, 1))}
    assert set(shipped) <= set(known), f"not in code_catalog.csv: {sorted(set(shipped) - set(known))}"
    assert all(known[c] == s for c, s in shipped.items())
