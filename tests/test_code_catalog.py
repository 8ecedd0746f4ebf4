"""The code catalog and the PPRRVU importer it takes Medicare status from."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from ptbilling.rules import datasets
from ptbilling.rules.code_catalog import FIRST_YEAR, catalog_for, lookup, normalize_code
from ptbilling.rules.errors import DataImportError, UnknownCode, UnsupportedDate
from ptbilling.rules.rvu_file import parse_rvu_file, read_release_csv

D2025 = dt.date(2025, 6, 1)


def shared_rvu(cms_dir):
    return parse_rvu_file((cms_dir / "PPRRVU2025_Oct.therapy.csv").read_text())


def test_catalog_covers_every_code_in_the_cms_file_plus_g0283(shared_cms_dir):
    """Each HCPCS in the full shared 2025 PPRRVU therapy file, and G0283, is in the catalog."""
    codes = {r.code for r in shared_rvu(shared_cms_dir)} | {"G0283"}
    cat = catalog_for(D2025)
    assert codes <= {c.code for c in cat}


def test_every_entry_has_timing_family_discipline_and_our_own_label():
    """Each code records timing, family, discipline and a short label."""
    for info in catalog_for(D2025):
        assert info.timing in ("timed", "untimed", "other-time")
        assert info.family in ("modality", "procedure", "evaluation", "group", "SLP", "strapping", "other")
        assert info.discipline in ("PT", "OT", "SLP", "any")
        assert 3 <= len(info.label) <= 60


@pytest.mark.parametrize("code,timing", [("97110", "timed"), ("97035", "timed"), ("97763", "timed"),
                                         ("97010", "untimed"), ("G0283", "untimed"), ("97150", "untimed"),
                                         ("97161", "untimed"), ("92507", "untimed"), ("29530", "untimed")])
def test_timed_and_untimed_follow_the_reference(code, timing):
    """Timing follows the reference's section 3 lists."""
    assert lookup(code).timing == timing


@pytest.mark.parametrize("code,status,mult", [("97010", "B", "9"), ("97014", "I", "9"), ("97026", "R", "5"),
                                              ("97169", "N", "9"), ("97039", "C", "0"), ("97110", "A", "5")])
def test_medicare_status_and_mult_proc_come_from_the_cms_file(code, status, mult):
    """Status and MULT PROC are the 2025 file's values, with the release named."""
    info = lookup(code, D2025)
    assert (info.status, info.mult_proc) == (status, mult)
    assert "RVU25D" in info.status_release


@pytest.mark.parametrize("raw", [97110.0, 97110, "97110", " 97110 ", "97110.0"])
def test_codes_typed_as_numbers_or_with_spaces_normalise(raw):
    """Excel's floats, ints and padded text all mean the same code."""
    assert normalize_code(raw) == "97110"


def test_lower_case_hcpcs_normalises():
    """' g0283 ' is G0283."""
    assert normalize_code(" g0283 ") == "G0283"


def test_unknown_code_names_the_code_and_is_a_value_error():
    """UnknownCode(ValueError) names the bad code and close matches."""
    with pytest.raises(ValueError, match="unknown code 97111.*did you mean"):
        lookup("97111")
    assert issubclass(UnknownCode, ValueError)


def test_date_before_the_catalog_names_the_year():
    """A 2016 date of service is refused with the year in the message."""
    with pytest.raises(UnsupportedDate, match="2016"):
        catalog_for(dt.date(2016, 12, 31))
    assert catalog_for(dt.date(FIRST_YEAR, 1, 1))  # first day of the first year is fine


def test_year_without_a_release_carries_the_status_forward_and_says_so():
    """2027 has no shipped PPRRVU: status comes from 2026 (RVU26C), marked as carried forward."""
    info = lookup("97010", dt.date(2027, 1, 1))
    assert info.status == "B" and "RVU26C" in info.status_release and "carried forward to 2027" in info.status_release


def test_each_shipped_year_takes_its_own_status():
    """97010's status comes from RVU25D on 2025-12-31 and from RVU26C on 2026-01-01."""
    assert "RVU25D" in lookup("97010", dt.date(2025, 12, 31)).status_release
    assert "RVU26C" in lookup("97010", dt.date(2026, 1, 1)).status_release


def test_codes_added_later_do_not_exist_before_their_first_year():
    """97550 (caregiver training) starts in 2024: unknown in 2023, known on 2024-01-01."""
    with pytest.raises(UnknownCode):
        lookup("97550", dt.date(2023, 12, 31))
    assert lookup("97550", dt.date(2024, 1, 1)).code == "97550"


def test_rvu_importer_reads_the_shared_file(shared_cms_dir):
    """The importer finds 112 rows and 97110's RVUs in the full 2025 file."""
    rows = shared_rvu(shared_cms_dir)
    assert len(rows) == 112
    r = next(r for r in rows if r.code == "97110")
    assert (r.work_rvu, r.pe_rvu_nonfacility, r.mp_rvu, r.mult_proc, r.conversion_factor) == \
        (0.45, 0.43, 0.01, "5", 32.3465)


def test_shipped_release_is_exactly_the_import_of_the_cms_file(shared_cms_dir):
    """The packaged rvu_2025.csv holds what the importer reads from the full CMS file."""
    shipped = read_release_csv(datasets.in_force("rvu", D2025).path)
    assert shipped == {r.code: r for r in shared_rvu(shared_cms_dir)}


def test_shipped_release_holds_the_fixture_rows_as_cms_prints_them(cms_dir):
    """Each row of the small 2025 fixture (copied from CMS's file) is in rvu_2025.csv unchanged."""
    shipped = read_release_csv(datasets.in_force("rvu", D2025).path)
    for r in shared_rvu(cms_dir):
        assert shipped[r.code] == r


def test_rvu_importer_finds_columns_by_header_words_not_position(cms_dir):
    """Reordering the columns (as a later year's file might) gives the same rows."""
    text = (cms_dir / "PPRRVU2025_Oct.therapy.csv").read_text()
    rows = list(csv.reader(io.StringIO(text)))
    width = max(len(r) for r in rows)
    order = list(range(width))[::-1]  # every column moves
    out = io.StringIO()
    w = csv.writer(out)
    for r in rows:
        r = r + [""] * (width - len(r))
        w.writerow([r[j] for j in order])
    # the HCPCS header must lead its line for the importer to find the header row
    moved = parse_rvu_file(_hcpcs_first(out.getvalue()))
    assert moved == shared_rvu(cms_dir)


def _hcpcs_first(text):
    rows = list(csv.reader(io.StringIO(text)))
    j = next(r for r in rows if "HCPCS" in r).index("HCPCS")
    out = io.StringIO()
    w = csv.writer(out)
    for r in rows:
        w.writerow([r[j]] + r[:j] + r[j + 1:])
    return out.getvalue()


def test_rvu_importer_names_a_missing_column(cms_dir):
    """A file without MULT PROC is refused with the column named."""
    text = (cms_dir / "PPRRVU2025_Oct.therapy.csv").read_text().replace("MULT", "MUL")
    with pytest.raises(DataImportError, match="mult_proc"):
        parse_rvu_file(text)


def test_rvu_importer_refuses_a_file_that_is_not_pprrvu():
    """A random CSV is refused, not half-read."""
    with pytest.raises(DataImportError, match="HCPCS"):
        parse_rvu_file("a,b,c\n1,2,3\n")
