"""The GPCI importer (CMS Addendum E layout) and the shipped 2025 GPCI release."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from ptbilling.rules import datasets
from ptbilling.rules.errors import DataImportError
from ptbilling.rules.gpci_file import file_year, locality_key, parse_gpci_file, read_release_csv

D2025 = dt.date(2025, 6, 1)


def shared_text(cms_dir):
    return (cms_dir / "GPCI2025.csv").read_text(encoding="utf-8")


def rewrite(text, fn):
    """Apply ``fn`` to every parsed CSV row of ``text`` and write the rows back."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for r in csv.reader(io.StringIO(text)):
        w.writerow(fn(r))
    return out.getvalue()


def test_reads_every_locality_of_the_shared_file(shared_cms_dir):
    """The full 2025 file has 109 localities, each keyed <MAC>-<two-digit locality>."""
    rows = parse_gpci_file(shared_text(shared_cms_dir))
    assert len(rows) == 109
    assert all(re.fullmatch(r"\d{5}-\d{2}", r.locality) for r in rows)
    assert len({r.locality for r in rows}) == 109


def test_alaska_keeps_its_leading_zeros_and_values(cms_dir):
    """02102-01 is Alaska with work 1.5 (its floor), PE 1.081, MP 0.592."""
    alaska = {r.locality: r for r in parse_gpci_file(shared_text(cms_dir))}["02102-01"]
    assert (alaska.state, alaska.name, alaska.work, alaska.pe, alaska.mp) == ("AK", "ALASKA", 1.5, 1.081, 0.592)


def test_quoted_names_and_footnote_marks_are_read_cleanly(cms_dir):
    """'HAWAII, GUAM' keeps its comma; the '*' footnote marks are dropped from names."""
    rows = {r.locality: r for r in parse_gpci_file(shared_text(cms_dir))}
    assert rows["01212-01"].name == "HAWAII, GUAM"
    assert not any("*" in r.name for r in rows.values())


def test_footnote_lines_are_not_localities(cms_dir):
    """Lines after the table ('MAC Assignments as of ...', '*Work GPCI ...') are skipped."""
    names = {r.name for r in parse_gpci_file(shared_text(cms_dir))}
    assert not any("MAC" in n or "GPCI" in n for n in names)


def test_shipped_release_is_exactly_the_import_of_the_cms_file(shared_cms_dir):
    """The packaged gpci_2025.csv holds what the importer reads from the full GPCI2025.csv."""
    release = datasets.in_force("gpci", D2025)
    assert release.status == "official" and release.origin == "shipped"
    assert read_release_csv(release.path) == {r.locality: r for r in parse_gpci_file(shared_text(shared_cms_dir))}


def test_shipped_release_holds_the_fixture_localities_as_cms_prints_them(cms_dir):
    """Each locality of the small fixture (rows copied from CMS's file) is in gpci_2025.csv with the same values."""
    shipped = read_release_csv(datasets.in_force("gpci", D2025).path)
    for r in parse_gpci_file(shared_text(cms_dir)):
        assert shipped[r.locality] == r


def test_shipped_releases_cover_exactly_2025_and_2026():
    """gpci_2025.csv is in force through 2025-12-31, gpci_2026.csv from 2026-01-01 to 2026-12-31, not a day more."""
    assert datasets.in_force("gpci", dt.date(2025, 1, 1)).path.name == "gpci_2025.csv"
    assert datasets.in_force("gpci", dt.date(2025, 12, 31)).path.name == "gpci_2025.csv"
    assert datasets.in_force("gpci", dt.date(2026, 1, 1)).path.name == "gpci_2026.csv"
    assert datasets.in_force("gpci", dt.date(2026, 12, 31)).path.name == "gpci_2026.csv"
    for outside in (dt.date(2024, 12, 31), dt.date(2027, 1, 1)):
        with pytest.raises(ValueError, match=str(outside.year)):
            datasets.in_force("gpci", outside)


def test_columns_are_found_by_header_words_not_position(cms_dir):
    """Reversing the column order gives the same rows."""
    text = shared_text(cms_dir)
    moved = rewrite(text, lambda r: (r + [""] * (7 - len(r)))[::-1])
    assert parse_gpci_file(moved) == parse_gpci_file(text)


def test_header_words_that_drift_between_years_are_understood(cms_dir):
    """'2024 Work GPCI', 'Practice Expense GPCI', 'Malpractice GPCI', 'Locality' still map to the same columns."""
    text = shared_text(cms_dir)
    drifted = (text.replace("2025 PW GPCI (with 1.0 Floor)", "2024 Work GPCI")
               .replace("2025 PE GPCI", "2024 Practice Expense GPCI")
               .replace("2025 MP GPCI", "2024 Malpractice GPCI")
               .replace("Locality Number", "Locality")
               .replace("CY 2025", "CY 2024"))
    assert parse_gpci_file(drifted) == parse_gpci_file(text)
    assert file_year(drifted) == 2024


def test_a_header_stacked_over_two_lines_is_joined(cms_dir):
    """Header words split over two lines ('2025 PW GPCI' / '(with 1.0 Floor)') are read as one header."""
    text = shared_text(cms_dir)
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("Medicare Administrative"))
    top = next(csv.reader([lines[head]]))
    upper = ["Medicare Administrative", "", "Locality", "Locality", "2025 PW GPCI", "2025 PE", "2025 MP"]
    lower = ["Contractor (MAC)", "State", "Number", "Name", "(with 1.0 Floor)", "GPCI", "GPCI"]
    assert len(top) == 7
    stacked = lines[:head] + [",".join(upper), ",".join(lower)] + lines[head + 1:]
    assert parse_gpci_file("\n".join(stacked)) == parse_gpci_file(text)


def test_a_work_column_without_the_floor_is_not_used(cms_dir):
    """When a file also has 'PW GPCI (without floor)', the floored column is the one read."""
    def add_column(r):
        if r and r[0].startswith("Medicare Administrative"):
            return r[:4] + ["2025 PW GPCI (without 1.0 Floor)"] + r[4:]
        if r and r[0].isdigit():
            return r[:4] + ["0.123"] + r[4:]
        return r[:4] + [""] + r[4:]
    rows = parse_gpci_file(rewrite(shared_text(cms_dir), add_column))
    assert {r.locality: r.work for r in rows}["02102-01"] == 1.5


def test_zeros_a_spreadsheet_dropped_are_restored(cms_dir):
    """MAC 2102 and locality 1 (as Excel saves them) still key as 02102-01."""
    def strip_zeros(r):
        if r and r[0].isdigit():
            return [str(int(r[0])), r[1], str(int(r[2]))] + r[3:]
        return r
    rows = parse_gpci_file(rewrite(shared_text(cms_dir), strip_zeros))
    assert "02102-01" in {r.locality for r in rows}
    assert locality_key("2102", "1") == "02102-01"


def test_a_missing_column_is_named(cms_dir):
    """A file without the MP GPCI column is refused with 'mp' named."""
    text = shared_text(cms_dir).replace("2025 MP GPCI", "2025 XX")
    with pytest.raises(DataImportError, match=r"lacks column\(s\) mp"):
        parse_gpci_file(text)


def test_a_file_without_locality_rows_is_refused():
    """A CSV without GPCI numbers is refused, not half-read."""
    with pytest.raises(DataImportError, match="not a CMS GPCI file"):
        parse_gpci_file("a,b,c\nx,y,z\n")


def test_a_value_that_is_not_a_number_names_the_line(cms_dir):
    """A GPCI cell reading 'n/a' is refused with its line number."""
    text = shared_text(cms_dir).replace("02102,AK,01,ALASKA*,1.5,", "02102,AK,01,ALASKA*,n/a,")
    with pytest.raises(DataImportError, match=r"line 5 \(02102-01\): work GPCI 'n/a' is not a number"):
        parse_gpci_file(text)


def test_a_locality_listed_twice_is_refused(cms_dir):
    """Two rows for 02102-01 are an error, not a silent overwrite."""
    text = shared_text(cms_dir).replace("03102,AZ,00,", "02102,AZ,01,")
    with pytest.raises(DataImportError, match="locality 02102-01 is listed twice, on lines"):
        parse_gpci_file(text)


def test_file_year_comes_from_the_headers_or_the_title(cms_dir):
    """GPCI2025.csv says 2025; with the year gone from the headers the title ('CY 2025') still says so."""
    text = shared_text(cms_dir)
    assert file_year(text) == 2025
    assert file_year(text.replace("2025 PW", "PW").replace("2025 PE", "PE").replace("2025 MP", "MP")) == 2025
    no_year = text.replace("2025 ", "").replace("CY 2025", "CY")
    assert file_year(no_year) is None
