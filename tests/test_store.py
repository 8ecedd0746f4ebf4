"""The user data folder: validated, transactional imports; damage named on read; repair.

Every CMS file here is a small synthetic one in CMS's layout (tests/cms_fixtures.py);
nothing needs ../shared. The parallel and kill -9 tests run real processes.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import xlwings_harness as xh
from cms_fixtures import (
    GPCI_ROWS,
    MUE_ROWS,
    PTP_FILE_1,
    PTP_FILE_2,
    RVU_ROWS,
    gpci_text,
    mue_text,
    pprrvu_text,
    ptp_text,
    shipped_gpci_2025_rows,
    shipped_rvu_2025_rows,
)
from ptbilling.cli.main import main
from ptbilling.rules import datasets, mue, ncci_ptp, rvu_file, store_repair
from ptbilling.rules.errors import DamagedStore, DataImportError
from ptbilling.rules.fee_schedule import FeeLine, import_gpci, import_rvu, price_lines

PTP_Q3 = "ccipra-v312r0-f1.txt"  # NCCI v31.2: 1 July 2025
PTP_Q3_B = "ccipra-v312r0-f2.txt"
MUE_Q3 = "MCR_MUE_PractitionerServices_Eff_07-01-2025.csv"


def write(folder: Path, name: str, content) -> Path:
    p = folder / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of the folder and its bytes (the lock file, which the OS manages, aside)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != datasets.LOCK_NAME}


def index(folder: Path) -> list[dict]:
    return json.loads((folder / "releases.json").read_text(encoding="utf-8"))


def rvu_2027(tmp_path, rows=RVU_ROWS, name="PPRRVU2027_Jan.csv"):
    return write(tmp_path, name, pprrvu_text(2027, rows))


def fee_2027(code="97110"):
    return price_lines([FeeLine(code, 1, dt.date(2027, 3, 1), frozenset(), "v")])[0].amount


# --- imports refuse impossible numbers (issue 13, item 2) ---------------------------------

@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-0.45", "1e308", "NaN"])
def test_an_impossible_rvu_is_refused_naming_the_line_and_value(tmp_path, isolated_user_data, value):
    """A NaN, infinite, negative or 1e308 work RVU is refused with its line and code; nothing is stored."""
    rows = [("97110", "", "A", value, "0.40", "0.18", "0.02", "5")] + RVU_ROWS[1:]
    with pytest.raises(DataImportError, match=rf"line 4 \(97110\): work RVU {value} is (outside 0..1000|not)"):
        import_rvu(rvu_2027(tmp_path, rows))
    assert snapshot(isolated_user_data) == {}


def test_an_impossible_conversion_factor_is_refused(tmp_path):
    """A conversion factor of inf is refused like an RVU: it would price every code at infinity."""
    path = write(tmp_path, "PPRRVU2027_Jan.csv", pprrvu_text(2027, cf="inf"))
    with pytest.raises(DataImportError, match=r"conversion factor inf is outside"):
        import_rvu(path)


@pytest.mark.parametrize("value", ["nan", "inf", "-1.081", "1e308", "0"])
def test_an_impossible_gpci_is_refused_naming_the_locality(tmp_path, isolated_user_data, value):
    """Alaska's PE GPCI as NaN, inf, negative, 1e308 or 0 is refused naming line 5 and 02102-01."""
    rows = [GPCI_ROWS[0], ("02102", "AK", "01", "ALASKA*", "1.5", value, "0.592"), *GPCI_ROWS[2:]]
    with pytest.raises(DataImportError, match=r"line 5 \(02102-01\): PE GPCI"):
        import_gpci(write(tmp_path, "GPCI2027.csv", gpci_text(2027, rows)), 2027)
    assert snapshot(isolated_user_data) == {}


def test_a_code_listed_twice_with_different_values_is_refused_naming_both_lines(tmp_path):
    """97110 twice (work 0.45, then 0.90): refused naming lines 4 and 12, never 'the later row wins'."""
    rows = RVU_ROWS + [("97110", "", "A", "0.90", "0.40", "0.18", "0.02", "5")]
    with pytest.raises(DataImportError, match=r"97110 \(no modifier\) is listed twice with different values, "
                                              r"on lines 4 and 12"):
        import_rvu(rvu_2027(tmp_path, rows))


def test_a_row_repeated_exactly_is_stored_once_and_a_modifier_row_is_its_own(tmp_path):
    """An identical repeated row is kept once; 97110 with modifier 26 is a row of its own."""
    rows = RVU_ROWS + [RVU_ROWS[0], ("97110", "26", "A", "0.45", "0.00", "0.00", "0.02", "5")]
    release = import_rvu(rvu_2027(tmp_path, rows))
    assert release.rows == len(RVU_ROWS) + 1


def test_a_ptp_pair_listed_twice_with_different_indicators_is_refused(tmp_path):
    """The same pair and effective date with indicator 1 and then 0: refused naming both lines."""
    rows = PTP_FILE_1 + [("97110", "97035", "20200101", "*", "0")]
    with pytest.raises(DataImportError, match=r"97110/97035 effective 2020-01-01 is listed twice with different "
                                              r"values, on lines 6 and 9"):
        ncci_ptp.import_ptp(write(tmp_path, PTP_Q3, ptp_text(rows)))


def test_an_mue_listed_twice_with_different_values_names_both_lines(tmp_path):
    """97110 with MUE 4 and then 6: refused naming both lines."""
    rows = MUE_ROWS + [("97110", "6", "3 Date of Service Edit: Clinical")]
    with pytest.raises(DataImportError, match=r"97110 is listed twice with different values, on lines 4 and 9"):
        mue.import_mue(write(tmp_path, MUE_Q3, mue_text(rows)))


def test_a_stored_release_holding_nan_is_named_on_read_not_priced(isolated_user_data):
    """A release an older version stored with a NaN RVU: PT_FEE's pricing names the file and line, no -6.61."""
    (isolated_user_data / "rvu_2027.csv").write_text(
        "code,modifier,status,work_rvu,pe_rvu_nonfacility,pe_rvu_facility,mp_rvu,mult_proc,conversion_factor\n"
        "97110,,A,nan,0.40,0.18,0.02,5,33.4009\n", encoding="utf-8")
    datasets.register_release("rvu", "rvu_2027.csv", dt.date(2027, 1, 1), dt.date(2027, 12, 31),
                              "stored by an older version", "test", "official")
    with pytest.raises(DamagedStore, match=r"rvu_2027.csv line 2: the stored release is damaged \(97110: work RVU "
                                           r"nan is outside 0..1000\); run 'ptbilling data repair'"):
        fee_2027()


def test_a_stored_negative_gpci_is_named_on_read_not_priced_as_a_negative_fee(tmp_path, isolated_user_data):
    """An older version's store with Alaska's PE GPCI -1.081: pricing for Alaska names the line, never -6.61."""
    import_rvu(rvu_2027(tmp_path))
    (isolated_user_data / "gpci_2027.csv").write_text(
        "locality,state,name,work_gpci,pe_gpci,mp_gpci\n02102-01,AK,ALASKA,1.5,-1.081,0.592\n", encoding="utf-8")
    datasets.register_release("gpci", "gpci_2027.csv", dt.date(2027, 1, 1), dt.date(2027, 12, 31),
                              "stored by an older version", "test", "official")
    with pytest.raises(DamagedStore, match=r"gpci_2027.csv line 2: .*PE GPCI -1.081 is outside 0..5"):
        price_lines([FeeLine("97110", 1, dt.date(2027, 3, 1), frozenset(), "v")], "02102-01")


# --- a cut-off file never replaces a complete release (item 3) ----------------------------

def rvu_2025_text(rows):
    return pprrvu_text(2025, rows, cf="32.3465")


def test_the_first_60_percent_of_the_2025_pprrvu_is_refused_with_both_counts(tmp_path, isolated_user_data):
    """64 of the 112 rows of 2025: refused naming 64 and 112, and 97530 stays priced for 2025."""
    rows = shipped_rvu_2025_rows()
    assert len(rows) == 112
    path = write(tmp_path, "PPRRVU2025_Oct.csv", rvu_2025_text(rows[:64]))
    with pytest.raises(DataImportError, match=r"PPRRVU2025_Oct.csv: 64 rows where the release it replaces "
                                              r"\(RVU25D .*\) has 112; 48 of its rows are missing \(97163, .*\); "
                                              r"a cut-off or partial file\?"):
        import_rvu(path)
    assert snapshot(isolated_user_data) == {}
    assert price_lines([FeeLine("97530", 1, dt.date(2025, 3, 1), frozenset(), "v")])[0].amount == Decimal("34.61")


def test_force_imports_a_much_smaller_release_and_data_list_marks_it(tmp_path, capsys):
    """--force stores the 64-row file; the import and 'data list' both say it was forced, with both counts."""
    path = write(tmp_path, "PPRRVU2025_Oct.csv", rvu_2025_text(shipped_rvu_2025_rows()[:64]))
    code, out, err = cli(capsys, "data", "import-rvu", str(path), "--force")
    assert code == 0 and err == ""
    assert "forced: 64 rows where the release it replaces (RVU25D" in out
    code, out, _ = cli(capsys, "data", "list")
    assert code == 0
    assert "FORCED: 64 rows where the release it replaces (RVU25D" in out and "has 112" in out


def test_a_complete_release_replaces_the_shipped_one_and_then_guards_it(tmp_path):
    """The full 112-row 2025 file imports; a cut-off re-import is then refused against the imported release."""
    rows = shipped_rvu_2025_rows()
    release = import_rvu(write(tmp_path, "PPRRVU2025_Oct.csv", rvu_2025_text(rows)))
    assert release.rows == 112 and not release.forced
    with pytest.raises(DataImportError, match=r"100 rows where the release it replaces \(.*imported from "
                                              r"PPRRVU2025_Oct.csv, 112 rows\)\) has 112"):
        import_rvu(write(tmp_path, "PPRRVU2025_Oct.csv", rvu_2025_text(rows[:100])))


def test_a_bigger_file_that_lacks_the_replaced_codes_is_still_refused(tmp_path):
    """160 rows, but 52 of the 112 codes of the shipped 2025 release missing: refused, rows are not the measure."""
    rows = shipped_rvu_2025_rows()[:60] + [(f"{n:04d}T", "", "C", "0", "0", "0", "0", "0") for n in range(100, 200)]
    with pytest.raises(DataImportError, match=r"160 rows where the release it replaces \(RVU25D .*\) has 112; "
                                              r"52 of its rows are missing"):
        import_rvu(write(tmp_path, "PPRRVU2025_Oct.csv", rvu_2025_text(rows)))


def test_a_gpci_file_cut_in_half_is_refused(tmp_path, isolated_user_data):
    """54 of the 109 localities of 2025: refused naming both counts."""
    rows = shipped_gpci_2025_rows()
    assert len(rows) == 109
    path = write(tmp_path, "GPCI2025.csv", gpci_text(2025, rows[:54]))
    with pytest.raises(DataImportError, match=r"54 rows where the release it replaces \(CY 2025 GPCIs .*\) has 109"):
        import_gpci(path, 2025)
    assert snapshot(isolated_user_data) == {}
    assert import_gpci(write(tmp_path, "GPCI2025.csv", gpci_text(2025, rows)), 2025).rows == 109


def test_a_cut_off_mue_table_is_refused_against_the_quarter_before(tmp_path):
    """An MUE table with 2 codes after a quarter of 5 is refused; the seed (unverified) is never a measure."""
    mue.import_mue(write(tmp_path, "MCR_MUE_PractitionerServices_Eff_04-01-2025.csv", mue_text(MUE_ROWS)))
    with pytest.raises(DataImportError, match=r"2 rows where the release it replaces \(NCCI MUE 2025Q2 \(CMS\)\) has 5"):
        mue.import_mue(write(tmp_path, MUE_Q3, mue_text(MUE_ROWS[:2])))


# --- the year and the title agree ---------------------------------------------------------

def test_a_pprrvu_whose_title_and_name_disagree_is_refused(tmp_path):
    """A file titled 2025 but named PPRRVU2026_Jan.csv: refused naming both years."""
    path = write(tmp_path, "PPRRVU2026_Jan.csv", pprrvu_text(2025))
    with pytest.raises(DataImportError, match=r"its title says 2025 .* but its name says 2026"):
        import_rvu(path)


def test_a_gpci_file_whose_title_and_columns_disagree_is_refused(tmp_path):
    """A CY 2026 title over 2025 GPCI columns: refused naming both, whichever year is given."""
    path = write(tmp_path, "gpci.csv", gpci_text(2025, title_year=2026))
    with pytest.raises(DataImportError, match=r"its GPCI headers says 2025, its title says 2026"):
        import_gpci(path, 2025)


def test_a_gpci_file_whose_name_disagrees_is_refused(tmp_path):
    """GPCI2026.csv holding 2025 columns and title: refused."""
    with pytest.raises(DataImportError, match=r"its name says 2026"):
        import_gpci(write(tmp_path, "GPCI2026.csv", gpci_text(2025)), 2025)


def test_a_ptp_quarter_given_that_contradicts_the_file_is_refused(tmp_path):
    """--effective-from 2025-04-01 for v31.2 (2025-07-01): refused naming both."""
    path = write(tmp_path, PTP_Q3, ptp_text(PTP_FILE_1))
    with pytest.raises(DataImportError, match=r"is for 2025Q3 \(from 2025-07-01\), not 2025-04-01"):
        ncci_ptp.import_ptp(path, dt.date(2025, 4, 1))
    assert ncci_ptp.import_ptp(path, dt.date(2025, 7, 1)).effective_from == dt.date(2025, 7, 1)


# --- a binary file is one clear line (item 11) --------------------------------------------

BINARIES = {
    "bytes": bytes(range(256)) * 4,  # 0x81, 0x8d... are not Windows-1252: UnicodeDecodeError before
    "png": b"\x89PNG\r\n\x1a\n" + bytes(range(128, 256)) * 8,
    "xlsx": b"PK\x03\x04" + b"\x00" * 60,
    "pdf": b"%PDF-1.7\n" + bytes(range(128, 256)),
    "cp1252-invalid": b"HCPCS,MOD\n97110,\x81\x8d\x8f\x90\x9d\n",
}


@pytest.mark.parametrize("command", ["import-rvu", "import-gpci", "import-ptp", "import-mue"])
@pytest.mark.parametrize("kind", sorted(BINARIES))
def test_a_binary_file_given_to_an_import_is_one_clear_line(tmp_path, capsys, command, kind):
    """Every import command answers a binary file with one line naming it: exit 2, no internal error."""
    path = write(tmp_path, f"file2027.{kind}", BINARIES[kind])
    extra = ["2027"] if command == "import-gpci" else []
    code, out, err = cli(capsys, "data", command, str(path), *extra)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "internal error" not in err and path.name in err, err


# --- a damaged store is named, and repaired (items 1 and 11) ------------------------------

def two_releases(tmp_path):
    """An imported 2027 RVU release and a 2025Q3 MUE release."""
    import_rvu(rvu_2027(tmp_path))
    mue.import_mue(write(tmp_path, MUE_Q3, mue_text(MUE_ROWS)))


def test_a_truncated_index_is_one_line_on_every_command_and_repair_rebuilds_it(tmp_path, capsys,
                                                                                isolated_user_data):
    """releases.json cut in half: each command says so in one line naming it; 'data repair' restores it exactly."""
    two_releases(tmp_path)
    before = index(isolated_user_data)
    text = (isolated_user_data / "releases.json").read_bytes()
    (isolated_user_data / "releases.json").write_bytes(text[: len(text) // 2])
    code, out, err = cli(capsys, "data", "import-rvu", str(tmp_path / "nothing.csv"))
    assert code == 2 and err.count("\n") == 1 and "internal error" not in err
    code, out, err = cli(capsys, "units", "38:97110")  # needs no imported release: still works
    assert code == 0 and err == "" and "97110" in out
    with pytest.raises(DamagedStore, match=r"releases.json: the release index is damaged \(not complete JSON.*"
                                           r"run 'ptbilling data repair'"):
        fee_2027()
    fee = xh.call_as_excel("PT_FEE", [[97110.0]], [[1.0]], xh.MISSING, [[dt.datetime(2025, 3, 1)]])
    assert fee[0][0].startswith(f"PT_FEE: {isolated_user_data / 'releases.json'}: the release index is damaged")
    checks = xh.call_as_excel("PT_VALIDATE", LOG)
    assert all(r[0].startswith("ERROR DATA-DAMAGED: ") for r in checks[1:]), checks
    code, out, err = cli(capsys, "data", "list")
    assert code == 0 and "DAMAGED: " in out and "releases.json" in out and "RVU25D" in out  # the shipped ones
    log = write(tmp_path, "log.csv", "Patient,Date,Payer,Provider,Code,Modifiers,Minutes,Units\n"
                                     "P1,2025-03-03,Medicare,PT,97110,GP,23,2\n")
    code, out, err = cli(capsys, "check", str(log), "--format", "json")
    assert code == 1 and "internal error" not in err
    assert json.loads(out)["lines"][0]["findings"][0].startswith("ERROR DATA-DAMAGED: ")
    code, out, err = cli(capsys, "data", "repair")
    assert code == 0 and "rebuilt from the stored records (2 releases)" in out
    assert sorted(index(isolated_user_data), key=lambda e: e["key"]) == sorted(before, key=lambda e: e["key"])
    assert store_repair.store_damage() == []
    code, out, _ = cli(capsys, "data", "repair")
    assert "nothing to repair" in out


def test_an_import_into_a_damaged_index_repairs_it_first_and_says_so(tmp_path, capsys, isolated_user_data):
    """Re-importing repairs: the index is rebuilt (nothing lost) and the new release is added."""
    two_releases(tmp_path)
    (isolated_user_data / "releases.json").write_text('[{"kind": "rvu", "fi', encoding="utf-8")
    code, out, err = cli(capsys, "data", "import-gpci", str(write(tmp_path, "GPCI2027.csv", gpci_text(2027))), "2027")
    assert code == 0 and err == "" and out.startswith("repaired: ")
    assert sorted(e["kind"] for e in index(isolated_user_data)) == ["gpci", "mue", "rvu"]


def ptp_fragment(isolated_user_data, tmp_path):
    """A 2025Q3 PTP release of two files whose stored file then gets the fragment line a torn write left."""
    ncci_ptp.import_ptp(write(tmp_path, PTP_Q3, ptp_text(PTP_FILE_1)))
    release = ncci_ptp.import_ptp(write(tmp_path, PTP_Q3_B, ptp_text(PTP_FILE_2)))
    with open(release.path, "a", encoding="utf-8") as f:
        f.write("97530,97116,,,1,\n")  # the fragment behind "Invalid isoformat string: ''"
    return release


LOG = [["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"],
       ["P1", dt.datetime(2025, 8, 4), "Medicare", "PT", 97530.0, "GP", 30.0, 2.0],
       ["P1", dt.datetime(2025, 8, 4), "Medicare", "PT", 97116.0, "GP", 15.0, 1.0],
       ["P2", dt.datetime(2025, 3, 3), "Medicare", "PT", 97110.0, "GP", 23.0, 2.0]]


def test_a_fragment_line_marks_only_its_quarters_rows_in_pt_validate(tmp_path, isolated_user_data):
    """A damaged 2025Q3 PTP file: its Q3 rows say DATA-DAMAGED naming the file; the Q1 row is checked as usual."""
    release = ptp_fragment(isolated_user_data, tmp_path)
    checks = [r[0] for r in xh.call_as_excel("PT_VALIDATE", LOG)]
    assert checks[0] == "Check"
    for text in checks[1:3]:
        assert text.startswith(f"ERROR DATA-DAMAGED: {release.path}: the stored release is damaged"), text
        assert "ptbilling data repair" in text
    assert checks[3] == "OK"


def test_a_fragment_line_in_a_release_stored_by_an_older_version_is_named_by_line(tmp_path, isolated_user_data):
    """No checksum (an older version's store): the fragment line itself is found and named, not a ValueError."""
    (isolated_user_data / "ncci").mkdir()
    (isolated_user_data / "ncci" / "ptp_2025-07-01.csv").write_text(
        "code1,code2,effective,deletion,modifier_indicator,rationale\n"
        "97530,97116,2020-01-01,,1,Misuse\n97530,97116,,,1,\n", encoding="utf-8")
    datasets.register_release("ptp", "ncci/ptp_2025-07-01.csv", dt.date(2025, 7, 1), dt.date(2099, 12, 31),
                              "NCCI PTP 2025Q3 (CMS)", "CMS NCCI practitioner PTP edits: a.txt", "official")
    with pytest.raises(DamagedStore, match=r"ptp_2025-07-01.csv line 3: the stored release is damaged "
                                           r"\(Invalid isoformat string: ''\)"):
        ncci_ptp.edit_for("97530", "97116", dt.date(2025, 8, 4))


def test_check_names_the_damage_on_its_rows_and_exits_1_not_2(tmp_path, capsys, isolated_user_data):
    """ptbilling check on a log with Q3 and Q1 rows: DATA-DAMAGED on the Q3 rows only, no internal error."""
    ptp_fragment(isolated_user_data, tmp_path)
    log = write(tmp_path, "log.csv", "Patient,Date,Payer,Provider,Code,Modifiers,Minutes,Units\n"
                                     "P1,2025-08-04,Medicare,PT,97530,GP,30,2\n"
                                     "P1,2025-08-04,Medicare,PT,97116,GP,15,1\n"
                                     "P2,2025-03-03,Medicare,PT,97110,GP,23,2\n")
    code, out, err = cli(capsys, "check", str(log), "--format", "json")
    assert code == 1 and "internal error" not in err
    lines = json.loads(out)["lines"]
    assert all(ln["findings"][0].startswith("ERROR DATA-DAMAGED: ") for ln in lines[:2])
    assert lines[2]["findings"] == []


def test_re_importing_repairs_a_damaged_ptp_quarter_and_names_the_files_to_import_again(tmp_path, capsys):
    """The damaged quarter is replaced by the file imported; the message names the quarter's other file."""
    ptp_fragment(datasets.user_data_dir(), tmp_path)
    code, out, err = cli(capsys, "data", "import-ptp", str(tmp_path / PTP_Q3))
    assert code == 2 and err.count("\n") == 1
    assert f"imported {PTP_Q3}, but the stored 2025Q3 PTP release was damaged" in err and PTP_Q3_B in err
    assert store_repair.store_damage() == []
    code, out, err = cli(capsys, "data", "import-ptp", str(tmp_path / PTP_Q3_B))
    assert code == 0
    pairs = {(e.code1, e.code2) for e in ncci_ptp.read_release_csv(datasets.stored_release("ncci/ptp_2025-07-01.csv").path)}
    assert pairs == {(r[0], r[1]) for r in PTP_FILE_1 + PTP_FILE_2}


def test_repair_sets_a_damaged_release_aside_and_names_its_cms_files(tmp_path, capsys, isolated_user_data):
    """'data repair': the damaged file moves to damaged/, leaves the index, and the CMS files to import are named."""
    release = ptp_fragment(isolated_user_data, tmp_path)
    code, out, _ = cli(capsys, "data", "list")
    assert f"DAMAGED: {release.path}: the stored release is damaged" in out
    code, out, err = cli(capsys, "data", "repair")
    assert code == 0 and "NCCI PTP 2025Q3 (CMS): damaged (its content is not what was stored" in out
    assert "taken out of the index" in out
    assert PTP_Q3 in out and PTP_Q3_B in out
    assert (isolated_user_data / "damaged" / release.path.name).is_file()
    assert all(e["kind"] != "ptp" for e in index(isolated_user_data))
    assert store_repair.store_damage() == []


def test_a_stored_file_changed_from_outside_is_named_by_its_checksum(tmp_path, isolated_user_data):
    """A well-formed edit of a stored file (0.45 -> 0.95) is caught by the SHA-256 the index keeps."""
    release = import_rvu(rvu_2027(tmp_path))
    release.path.write_text(release.path.read_text(encoding="utf-8").replace("0.45", "0.95"), encoding="utf-8")
    with pytest.raises(DamagedStore, match=r"the checksum differs"):
        fee_2027()


# --- a failed import changes nothing ------------------------------------------------------

def test_a_refused_import_leaves_the_store_byte_for_byte_as_it_was(tmp_path, capsys, isolated_user_data):
    """Refused imports (NaN, cut off, binary, wrong year, duplicate) leave every stored byte as it was."""
    two_releases(tmp_path)
    before = snapshot(isolated_user_data)
    bad = [
        ["import-rvu", str(rvu_2027(tmp_path, [("97110", "", "A", "nan", "0.4", "0.1", "0.0", "5")], name="a.csv")),
         "--year", "2027"],
        ["import-rvu", str(rvu_2027(tmp_path, RVU_ROWS[:2], name="PPRRVU2027_Apr.csv"))],
        ["import-mue", str(write(tmp_path, MUE_Q3, BINARIES["bytes"]))],
        ["import-gpci", str(write(tmp_path, "GPCI2027.csv", gpci_text(2026))), "2027"],
        ["import-rvu", str(rvu_2027(tmp_path, RVU_ROWS + [("97110", "", "A", "9", "0", "0", "0", "5")], name="b.csv")),
         "--year", "2027"],
    ]
    for argv in bad:
        code, _, err = cli(capsys, "data", *argv)
        assert code == 2 and err.count("\n") == 1, (argv, err)
    assert snapshot(isolated_user_data) == before


def test_an_import_leaves_no_temp_file_and_keeps_one_earlier_version(tmp_path, isolated_user_data):
    """Three imports of one year: no temp file, the current and the one before it stay, older ones go."""
    for work in ("0.45", "0.46", "0.47"):
        import_rvu(rvu_2027(tmp_path, [("97110", "", "A", work, "0.40", "0.18", "0.02", "5")] + RVU_ROWS[1:]))
    names = sorted(snapshot(isolated_user_data))
    assert names == ["releases.json", "rvu_2027.v2.csv", "rvu_2027.v3.csv", "rvu_2027.v3.csv.json"]
    assert rvu_file.read_release_csv(isolated_user_data / "rvu_2027.v3.csv")["97110"].work_rvu == 0.47


def test_the_rules_core_imports_without_filelock():
    """filelock is imported on the write path only: the rules core (and a check) load without it."""
    code = ("import sys; sys.modules['filelock'] = None\n"
            "import ptbilling.rules.validate, ptbilling.rules.datasets as d\n"
            "print(len(d.releases()) > 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ})
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr
