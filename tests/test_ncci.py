"""NCCI procedure-to-procedure edits and medically unlikely edits: parsers, lookups, checks, imports.

The CMS files here are synthetic (written in the tests, in CMS's layouts); their
edits and values are made up for the tests and are not CMS's.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import pytest

from ptbilling.rules import datasets
from ptbilling.rules.claim_lines import ClaimLine
from ptbilling.rules.errors import DataImportError
from ptbilling.rules.mue import import_mue, mue_findings, mue_for, parse_mue_file
from ptbilling.rules.ncci_ptp import (
    PtpEdit,
    VisitLine,
    edit_for,
    find_edit,
    import_ptp,
    infer_effective,
    parse_ptp_file,
    ptp_findings,
    read_release_csv,
)

TITLES = (
    "CPT codes, descriptions and other data only are copyright 2023 American Medical Association. "
    "All rights reserved.\n"
    "Applicable FARS/DFARS restrictions apply to government use.\n"
    "\n"
    "Column1/Column 2 Edits\n"
)
# the header over two lines, tab-aligned, as the text file has it
HEADER = (
    "Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\n"
    "\t\tprior to 1996\tDate\tDate *=no data\t0=not allowed 1=allowed 9=not applicable\t\n"
)
DATA = [
    # code1, code2, pre-1996, effective, deletion, indicator, rationale
    ("97140", "97530", "", "20240401", "20250101", "1", "Mutually exclusive procedures"),  # deleted
    ("97530", "97116", "", "20200101", "*", "1", "Misuse of column two code with column one code"),
    ("97164", "97162", "", "20170101", "*", "0", "Mutually exclusive procedures"),
    ("97110", "97035", "*", "19960101", "*", "9", "Standards of medical / surgical practice"),
    ("97161", "97140", "", "20170101", "20170101", "9", "Misuse of column two code with column one code"),
]
FOOTER = "\nEnd of file\n"
PTP_NAME = "ccipra-v300r0-f4.txt"  # NCCI version 30.0: 1 January 2024


def ptp_text(data=DATA, header=HEADER):
    return TITLES + header + "".join("\t".join(r) + "\n" for r in data) + FOOTER


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture
def imported_ptp(tmp_path):
    return import_ptp(write(tmp_path, PTP_NAME, ptp_text()))


def lines(*specs):
    """('97140', '59') -> VisitLine(0, '97140', ('59',)); modifiers after the code."""
    return [VisitLine(i, s[0], tuple(s[1:])) for i, s in enumerate(specs)]


def flagged(findings):
    return sorted((f.line, f.rule) for f in findings)


# --- the PTP parser ---------------------------------------------------------------------

def test_ptp_parser_reads_a_realistic_file():
    """Title lines, a two-line header, tab data, '*' and real deletion dates, indicator 9, a footer."""
    edits = parse_ptp_file(ptp_text())
    assert len(edits) == 5
    deleted, open_, never_bypassed, ind9, _ = edits
    assert deleted == PtpEdit("97140", "97530", dt.date(2024, 4, 1), dt.date(2025, 1, 1), "1",
                              "Mutually exclusive procedures")
    assert open_.deletion is None and open_.modifier_indicator == "1"
    assert never_bypassed.modifier_indicator == "0"
    assert (ind9.code1, ind9.effective, ind9.modifier_indicator) == ("97110", dt.date(1996, 1, 1), "9")


def test_ptp_parser_reads_the_header_on_one_line_and_the_csv_form():
    """One-line header, and CSV with header cells holding line breaks (as from .xlsx), give the same edits."""
    one_line = ("Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\t"
                "Modifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale\n")
    assert parse_ptp_file(ptp_text(header=one_line)) == parse_ptp_file(ptp_text())
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["CPT codes, descriptions and other data only are copyright 2023 American Medical Association."])
    w.writerow(["Column 1", "Column 2", "*=in existence\nprior to 1996", "Effective\nDate",
                "Deletion\nDate\n*=no data", "Modifier\n0=not allowed\n1=allowed\n9=not applicable",
                "PTP Edit Rationale"])
    w.writerows(DATA)
    assert parse_ptp_file(out.getvalue()) == parse_ptp_file(ptp_text())


def test_ptp_parser_reads_a_header_whose_cells_broke_over_lines():
    """A header line broken inside a cell (the rest of the row on the next line) is rejoined."""
    wrapped = ("Column 1\tColumn 2\t*=in existence\n"
               "prior to 1996\tEffective Date\tDeletion Date *=no data\tModifier 0=not allowed 1=allowed "
               "9=not applicable\tPTP Edit Rationale\n")
    assert parse_ptp_file(ptp_text(header=wrapped)) == parse_ptp_file(ptp_text())


def test_ptp_parser_finds_columns_by_header_words_not_position():
    """Columns in another order (rationale first, dates swapped) are read by their header words."""
    header = "PTP Edit Rationale\tModifier 0=not allowed 1=allowed 9=not applicable\tDeletion Date\t" \
             "Effective Date\tColumn 2\tColumn 1\t*=prior to 1996\n"
    data = [(r[6], r[5], r[4], r[3], r[1], r[0], r[2]) for r in DATA]
    assert parse_ptp_file(ptp_text(data, header)) == parse_ptp_file(ptp_text())


def test_ptp_parser_refuses_a_file_without_the_modifier_column():
    """A file lacking the modifier indicator is refused with the column named."""
    header = "Column 1\tColumn 2\t*=prior to 1996\tEffective Date\tDeletion Date\tPTP Edit Rationale\n"
    data = [r[:5] + r[6:] for r in DATA]
    with pytest.raises(DataImportError, match="lacks column.*modifier"):
        parse_ptp_file(ptp_text(data, header))


def test_ptp_parser_refuses_a_bad_indicator_naming_the_line_and_value():
    """Indicator 2 is refused with its line, its codes and the values allowed."""
    data = DATA[:2] + [("97164", "97162", "", "20170101", "*", "2", "x")]
    with pytest.raises(DataImportError, match=r"line 9 \(97164/97162\): modifier indicator '2' is not 0, 1 or 9"):
        parse_ptp_file(ptp_text(data))


def test_ptp_parser_refuses_a_bad_date():
    """An effective date that is not YYYYMMDD is refused with the value named."""
    data = [("97530", "97116", "", "2020-13-45", "*", "1", "x")]
    with pytest.raises(DataImportError, match="effective date '2020-13-45'"):
        parse_ptp_file(ptp_text(data))


def test_ptp_parser_refuses_a_file_that_is_not_a_ptp_file():
    """Random text and a header without rows are refused, not half-read."""
    with pytest.raises(DataImportError, match="Column 1 and Column 2"):
        parse_ptp_file("a,b,c\n1,2,3\n")
    with pytest.raises(DataImportError, match="no edit rows"):
        parse_ptp_file(TITLES + HEADER + FOOTER)


# --- the row in force on the date of service --------------------------------------------

@pytest.mark.parametrize("dos,in_force", [
    (dt.date(2024, 3, 31), False), (dt.date(2024, 4, 1), True),
    (dt.date(2024, 12, 31), True), (dt.date(2025, 1, 1), False),
])
def test_the_edit_applies_from_its_effective_date_until_the_day_before_deletion(imported_ptp, dos, in_force):
    """97140/97530 (effective 2024-04-01, deleted 2025-01-01) applies on the dates between only."""
    assert (edit_for("97140", "97530", dos) is not None) == in_force
    found = ptp_findings(lines(("97140",), ("97530",)), dos)
    assert flagged(found) == ([(1, "NCCI-PTP")] if in_force else [])


def test_a_retroactive_deletion_leaves_no_day_in_force():
    """Deletion date equal to effective date: the edit never applies."""
    e = PtpEdit("97161", "97140", dt.date(2017, 1, 1), dt.date(2017, 1, 1), "9", "")
    assert not e.in_force(dt.date(2017, 1, 1))


def test_of_two_rows_of_a_pair_the_one_in_force_is_used():
    """A pair deleted then added again: each date gets its own row."""
    old = PtpEdit("97530", "97116", dt.date(2018, 1, 1), dt.date(2020, 1, 1), "0", "")
    new = PtpEdit("97530", "97116", dt.date(2021, 1, 1), None, "1", "")
    assert find_edit([old, new], "97530", "97116", dt.date(2019, 6, 1)) is old
    assert find_edit([old, new], "97530", "97116", dt.date(2020, 6, 1)) is None
    assert find_edit([old, new], "97530", "97116", dt.date(2022, 6, 1)) is new


# --- modifier indicators ----------------------------------------------------------------

D = dt.date(2024, 6, 1)  # inside the imported synthetic release


def test_indicator_0_flags_column_2_even_with_59(imported_ptp):
    """97164/97162 indicator 0: 97162 is flagged with or without 59; 97164 never."""
    for mods in ((), ("59",), ("XU",)):
        found = ptp_findings(lines(("97164",), ("97162",) + mods), D)
        assert flagged(found) == [(1, "NCCI-PTP")]
        assert "indicator 0" in found[0].message and "97164" in found[0].message
    assert "59 does not bypass" in ptp_findings(lines(("97164",), ("97162", "59")), D)[0].message


def test_indicator_1_is_bypassed_by_59_or_xu_on_column_2(imported_ptp):
    """97530/97116 indicator 1: 59, XU (or XE/XS/XP) on 97116 clears it."""
    for mod in ("59", "XU", "XE", "XS", "XP", "xu"):
        assert ptp_findings(lines(("97530", "GP"), ("97116", "GP", mod)), D) == []


def test_indicator_1_without_modifier_flags_column_2_and_says_what_to_append(imported_ptp):
    """Without 59/X the 97116 line is flagged with the fix and the release named."""
    found = ptp_findings(lines(("97530", "GP"), ("97116", "GP")), D)
    assert flagged(found) == [(1, "NCCI-PTP")]
    msg = found[0].message
    assert "97116 with 97530" in msg and "indicator 1" in msg and "append 59 or XU to 97116" in msg
    assert imported_ptp.name in msg and "; " not in msg
    assert str(found[0]).startswith("ERROR NCCI-PTP: ")


def test_indicator_1_modifier_on_column_1_does_not_bypass_an_imported_edit(imported_ptp):
    """For a CMS edit, 59 on the column-1 line does not count."""
    assert flagged(ptp_findings(lines(("97530", "59"), ("97116",)), D)) == [(1, "NCCI-PTP")]


def test_indicator_9_is_no_edit(imported_ptp):
    """97110/97035 indicator 9: nothing is flagged."""
    assert ptp_findings(lines(("97110",), ("97035",)), D) == []


def test_every_column_2_line_is_flagged():
    """Two lines of the column-2 code without a modifier: both are flagged."""
    found = ptp_findings(lines(("97161",), ("97140",), ("97140",)), dt.date(2023, 5, 1))
    assert flagged(found) == [(1, "NCCI-PTP"), (2, "NCCI-PTP")]


def test_claim_lines_work_as_visit_lines():
    """ClaimLine (what the validator has) carries what the check needs."""
    d = dt.date(2023, 5, 1)
    mk = lambda i, code, mods: ClaimLine(i, "P1", d, "Medicare", "PT", code, mods, 15, 1)  # noqa: E731
    assert flagged(ptp_findings([mk(0, "97161", ("GP",)), mk(1, "97140", ("GP",))], d)) == [(1, "NCCI-PTP")]


# --- the seed ---------------------------------------------------------------------------

SEED_PAIRS = {("97161", "97140"), ("97162", "97140"), ("97163", "97140"), ("97164", "97530"),
              ("97164", "97150")}


def test_seed_holds_only_the_confirmed_pairs_marked_unverified():
    """The shipped seed is the reference's five APTA pairs, indicator 1, either order, unverified."""
    release = datasets.in_force("ptp", dt.date(2023, 5, 1))
    assert (release.origin, release.status) == ("shipped", "unverified")
    edits = read_release_csv(release.path)
    assert {(e.code1, e.code2) for e in edits} == SEED_PAIRS
    assert all(e.modifier_indicator == "1" and e.either_order and "APTA" in e.source for e in edits)


@pytest.mark.parametrize("a,b", sorted(SEED_PAIRS))
def test_seed_pairs_are_bypassed_by_59_or_x_on_either_line(a, b):
    """A seed pair is flagged without a modifier; 59/X on either line, in either order, clears it."""
    d = dt.date(2023, 5, 1)
    for first, second in ((a, b), (b, a)):
        found = ptp_findings(lines((first, "GP"), (second, "GP")), d)
        assert len(found) == 1 and found[0].rule == "NCCI-PTP"
        assert "unverified" in found[0].message and "column order unconfirmed" in found[0].message
        assert ptp_findings(lines((first, "GP", "59"), (second, "GP")), d) == []
        assert ptp_findings(lines((first, "GP"), (second, "GP", "XU")), d) == []


def test_imported_release_wins_over_the_seed(imported_ptp):
    """From the import's quarter, CMS's file decides (97161/97140 is indicator 9 there); before it, the seed."""
    visit = lines(("97161", "GP"), ("97140", "GP"))
    assert datasets.in_force("ptp", D) == imported_ptp
    assert ptp_findings(visit, D) == []
    assert flagged(ptp_findings(visit, dt.date(2023, 12, 31))) == [(1, "NCCI-PTP")]


def test_a_log_reads_the_ptp_and_mue_release_of_a_date_once_and_sees_an_import_made_meanwhile(tmp_path):
    """Inside one pinned block (one log) the release of a date is looked up once, and an import clears it."""
    visit = lines(("97161", "GP"), ("97140", "GP"))
    calls = []
    probe = lambda d: calls.append(d) or d.year  # noqa: E731
    with datasets.pinned():
        assert datasets.remembered(("probe", D), probe, D) == D.year and calls == [D]
        assert datasets.remembered(("probe", D), probe, D) == D.year
        assert calls == [D]  # remembered, not called again
        assert flagged(ptp_findings(visit, D)) == [(1, "NCCI-PTP")]  # the seed
        import_ptp(write(tmp_path, PTP_NAME, ptp_text()))
        assert ptp_findings(visit, D) == []  # the import's own quarter, read afresh
    datasets.remembered(("probe", D), probe, D)
    assert calls == [D, D]  # outside a block nothing is remembered


# --- importing PTP ----------------------------------------------------------------------

def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_ptp_never_modifies_the_input_file(tmp_path):
    """The CMS file has the same bytes and timestamp after the import."""
    p = write(tmp_path, PTP_NAME, ptp_text())
    before, mtime = sha(p), p.stat().st_mtime_ns
    import_ptp(p)
    assert (sha(p), p.stat().st_mtime_ns) == (before, mtime)


def test_import_ptp_registers_an_official_release_for_the_files_quarter(imported_ptp, isolated_user_data):
    """v30.0 is 2024Q1; the release is official, names the file and lives in the user data folder."""
    r = imported_ptp
    assert (r.kind, r.effective_from, r.status, r.origin) == ("ptp", dt.date(2024, 1, 1), "official", "imported")
    assert PTP_NAME in r.source and "2024Q1" in r.name
    assert r.path.parent.parent == isolated_user_data and r.path.is_file()
    assert read_release_csv(r.path) == parse_ptp_file(ptp_text())


def test_import_ptp_takes_the_date_given_when_the_name_has_none(tmp_path):
    """A file named without a quarter needs effective_from; without it the refusal says so."""
    p = write(tmp_path, "edits.txt", ptp_text())
    with pytest.raises(DataImportError, match="cannot tell which quarter edits.txt"):
        import_ptp(p)
    assert import_ptp(p, effective_from=dt.date(2024, 7, 1)).effective_from == dt.date(2024, 7, 1)


def test_import_ptp_adds_the_other_files_of_a_quarter_and_does_not_duplicate(tmp_path):
    """CMS's files split by column-1 range: f3 then f4 make one release; f4 again changes nothing."""
    f3 = write(tmp_path, "ccipra-v300r0-f3.txt", ptp_text([("29530", "97140", "", "20170101", "*", "1", "x")]))
    f4 = write(tmp_path, PTP_NAME, ptp_text())
    import_ptp(f3)
    import_ptp(f4)
    r = import_ptp(f4)
    assert len(read_release_csv(r.path)) == len(DATA) + 1
    assert "f3" in r.source and "f4" in r.source


def test_import_ptp_refuses_a_file_without_therapy_codes(tmp_path):
    """A file of other code ranges imports nothing and says why."""
    p = write(tmp_path, "ccipra-v300r0-f1.txt", ptp_text([("10021", "10004", "", "20190101", "*", "1", "x")]))
    with pytest.raises(DataImportError, match="none of its 1 edits involves a therapy code"):
        import_ptp(p)


def test_import_refuses_an_excel_workbook(tmp_path):
    """An .xlsx (a zip) is refused with what to import instead."""
    p = tmp_path / "ccipra-v300r0-f4.xlsx"
    p.write_bytes(b"PK\x03\x04rest-of-zip")
    with pytest.raises(DataImportError, match="Excel workbook"):
        import_ptp(p)


@pytest.mark.parametrize("name,title,expected", [
    ("ccipra-v312r0-f1.txt", "", dt.date(2025, 7, 1)),
    ("MCR_MUE_PractitionerServices_Eff_04-01-2025.csv", "", dt.date(2025, 4, 1)),
    ("ptp_2025Q4.txt", "", dt.date(2025, 10, 1)),
    ("table.csv", "Practitioner Services MUE Table Effective January 1, 2025 posted 12/15/2024",
     dt.date(2025, 1, 1)),
    ("table.csv", "posted 12/15/2024, copyright 2024", None),
])
def test_the_quarter_comes_from_the_name_or_an_effective_date_in_the_titles(name, title, expected):
    """NCCI version, Eff date, 2025Q4 in the name, or 'effective <date>' in the titles; else None."""
    assert infer_effective(name, title) == expected


# --- MUE --------------------------------------------------------------------------------

MUE_TEXT = (
    '"CPT codes, descriptions and other data only are copyright 2024 American Medical Association. '
    'All rights reserved.",,,\n'
    "Practitioner Services MUE Table,,,\n"
    ",,,\n"
    "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n"
    "97110,4,3 Date of Service Edit: Clinical,Clinical: Data\n"
    "97112,3,2 Date of Service Edit: Policy,Nature of Service/Procedure\n"
    "97161,1,2 Date of Service Edit: Policy,Code Descriptor / CPT Instruction\n"
    "G0283,1,1 Line Edit,Clinical: Data\n"
    ",,,\n"
    '"Values are per patient per day, except line edits.",,,\n'
)
MUE_NAME = "MCR_MUE_PractitionerServices_Eff_04-01-2025.csv"


@pytest.fixture
def imported_mue(tmp_path):
    return import_mue(write(tmp_path, MUE_NAME, MUE_TEXT))


def units_lines(*specs):
    return [VisitLine(i, code, (), u) for i, (code, u) in enumerate(specs)]


def test_mue_parser_reads_title_lines_header_words_and_indicators():
    """Title/copyright lines and footnotes are skipped; indicators are read from their text."""
    rows = {r.code: r for r in parse_mue_file(MUE_TEXT)}
    assert set(rows) == {"97110", "97112", "97161", "G0283"}
    assert (rows["97110"].mue, rows["97110"].adjudication, rows["97110"].rationale) == (4, "3", "Clinical: Data")
    assert rows["97112"].adjudication == "2" and rows["G0283"].adjudication == "1"


def test_mue_parser_reads_drifted_headers_stacked_over_two_lines():
    """'HCPCS' / 'MUE Values' split over two header lines, columns reordered, still read."""
    text = ("Practitioner Services MUE Table\n"
            "MUE,Practitioner Services,HCPCS/CPT\n"
            "Rationale,MUE Values,Code\n"
            "Clinical: Data,4,97110\n")
    assert [(r.code, r.mue) for r in parse_mue_file(text)] == [("97110", 4)]


def test_mue_parser_refuses_a_bad_value_or_a_missing_column():
    """A non-numeric MUE and a table without MUE values are refused with what is wrong."""
    with pytest.raises(DataImportError, match=r"line 5 \(97110\): MUE value 'six'"):
        parse_mue_file(MUE_TEXT.replace("97110,4,", "97110,six,"))
    with pytest.raises(DataImportError, match="lacks column.*mue"):
        parse_mue_file("HCPCS/CPT Code,Units,MUE Rationale\n97110,4,Clinical: Data\n")
    with pytest.raises(DataImportError, match="not a CMS practitioner services MUE table"):
        parse_mue_file("a,b\nc,d\n")


def test_mue_seed_holds_the_reference_values_marked_unverified():
    """The shipped seed is the reference's vendor-page table, with its source, unverified."""
    d = dt.date(2023, 5, 1)
    seed = {c: mue_for(c, d) for c in ("97110", "97112", "97530", "97116", "97035", "97164")}
    assert {c: r.mue for c, r in seed.items()} == {
        "97110": 6, "97112": 4, "97530": 6, "97116": 4, "97035": 2, "97164": 1}
    assert all(r.status == "unverified" and "vendor" in r.source for r in seed.values())
    assert datasets.in_force("mue", d).status == "unverified"


def test_mue_fires_at_mue_plus_one_and_not_at_the_mue():
    """Seed 97110 (6): 6 units pass, 7 units are flagged with code, units, MUE, unverified, release."""
    d = dt.date(2023, 5, 1)
    assert mue_findings(units_lines(("97110", 6)), d) == []
    found = mue_findings(units_lines(("97110", 7)), d)
    assert flagged(found) == [(0, "MUE")]
    msg = found[0].message
    assert "97110: 7 units billed" in msg and "MUE 6" in msg and "unverified" in msg
    assert "NCCI MUE seed" in msg and "; " not in msg


def test_mue_adds_the_units_of_a_code_over_the_visit_and_reports_it_once():
    """97110 4 + 3 on two lines (MUE 6) is one finding, on the first 97110 line."""
    d = dt.date(2023, 5, 1)
    found = mue_findings(units_lines(("97112", 1), ("97110", 4), ("97110", 3)), d)
    assert flagged(found) == [(1, "MUE")]


def test_mue_ignores_codes_without_an_mue_and_lines_without_units():
    """97140 has no seed MUE; a line with no units is left to the unit rules."""
    d = dt.date(2023, 5, 1)
    assert mue_findings(units_lines(("97140", 9), ("97110", None)), d) == []


def test_imported_mue_wins_over_the_seed(imported_mue):
    """From 2025-04-01 the CMS table's 97110 (4 here) applies, official; before it, the seed's 6."""
    d = dt.date(2025, 5, 1)
    found = mue_findings(units_lines(("97110", 5)), d)
    assert flagged(found) == [(0, "MUE")] and "unverified" not in found[0].message
    assert imported_mue.name in found[0].message
    assert mue_findings(units_lines(("97110", 5)), dt.date(2025, 3, 31)) == []


def test_a_line_edit_mue_is_checked_per_line(imported_mue):
    """G0283 indicator 1 (line edit, MUE 1): two lines of 1 pass, one line of 2 is flagged."""
    d = dt.date(2025, 5, 1)
    assert mue_findings(units_lines(("G0283", 1), ("G0283", 1)), d) == []
    found = mue_findings(units_lines(("G0283", 1), ("G0283", 2)), d)
    assert flagged(found) == [(1, "MUE")] and "line edit" in found[0].message


def test_import_mue_registers_the_quarter_from_the_name(imported_mue):
    """Eff_04-01-2025 in the name: official release from 2025-04-01, naming the file."""
    r = imported_mue
    assert (r.kind, r.effective_from, r.status) == ("mue", dt.date(2025, 4, 1), "official")
    assert MUE_NAME in r.source and datasets.in_force("mue", dt.date(2025, 4, 1)) == r


def test_import_mue_never_modifies_the_input_file(tmp_path):
    """The CMS table has the same bytes and timestamp after the import."""
    p = write(tmp_path, MUE_NAME, MUE_TEXT)
    before, mtime = sha(p), p.stat().st_mtime_ns
    import_mue(p)
    assert (sha(p), p.stat().st_mtime_ns) == (before, mtime)


def test_import_mue_refuses_a_malformed_table_and_registers_nothing(tmp_path):
    """A bad indicator is refused with line and value, and no release appears."""
    p = write(tmp_path, MUE_NAME, MUE_TEXT.replace("1 Line Edit", "7 Sometimes"))
    with pytest.raises(DataImportError, match=r"line 8 \(G0283\): MUE adjudication indicator '7 Sometimes'"):
        import_mue(p)
    assert not [r for r in datasets.releases() if r.origin == "imported"]


def test_codes_a_spreadsheet_shortened_get_their_zeros_back():
    """'100' (00100 after Excel) is read as 00100; a numbered footnote '1' is not a code."""
    text = MUE_TEXT.replace("97112,3,", "100,3,") + "1,see the CMS MUE page\n"
    assert "00100" in {r.code for r in parse_mue_file(text)}
