"""`ptbilling data import RVUyyX.zip`: CMS's yearly zip in one step, and the messages that ask for it."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from cms_files import gpci_text, member_names, pprrvu_text, rvu_zip
from ptbilling.cli.main import main
from ptbilling.rules import datasets
from ptbilling.rules.fee_schedule import FeeLine, conversion_factor, gpci, price_lines

D2027 = dt.date(2027, 2, 1)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def zip_2027(path: Path, **kw) -> Path:
    """RVU27A.zip as CMS would ship it in January 2027: the 2026 layout retitled, QP and non-QP, GPCI 2027."""
    args = dict(rvu=pprrvu_text(2026, year=2027, release="A", cf="32.8409"),
                qp=pprrvu_text(2026, year=2027, release="A", cf="33.1693"),
                gpci=gpci_text(2026, year=2027), year=2027, release="A")
    args.update(kw)
    return rvu_zip(path, **args)


def imported(kind=None):
    return [r for r in datasets.releases() if r.origin == "imported" and (kind is None or r.kind == kind)]


def assert_refused(capsys, zip_path, *words, argv=()):
    """Exit 2, one line naming the zip and the problem, and nothing stored in the data folder."""
    folder = datasets.user_data_dir()
    before = sorted(folder.rglob("*")) if folder.exists() else []
    code, out, err = run(capsys, "data", "import", zip_path, *argv)
    assert code == 2 and out == "", out
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    assert "nothing stored" in err
    assert (sorted(folder.rglob("*")) if folder.exists() else []) == before and imported() == []


def test_one_command_imports_the_rvus_and_the_gpcis_of_the_year(capsys, tmp_path):
    """RVU27A.zip: 2027 priced with the non-QP factor 32.8409 from the file, Alaska's 2027 GPCIs installed."""
    path = zip_2027(tmp_path / "RVU27A.zip")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert "for 2027" in str(pytest.raises(ValueError, price_lines, [FeeLine("97110", 1, D2027)]).value)
    code, out, err = run(capsys, "data", "import", path)
    assert code == 0, err
    assert out.startswith("imported RVU27A: 2027 National Physician Fee Schedule Relative Value File January Release")
    assert "PPRRVU2027_Jan_nonQPP.csv, conversion factor 32.8409 (non-QP, the default)" in out
    assert "QP factor 33.1693" in out and "GPCIs: GPCI2027.csv — stored" in out
    assert "in force 2027-01-01 .. 2027-12-31" in out
    assert sorted(r.kind for r in imported()) == ["gpci", "rvu"]
    cf = conversion_factor(D2027)
    assert (cf.value, cf.status) == (Decimal("32.8409"), "official") and "RVU27A" in cf.source
    assert [f.amount for f in price_lines([FeeLine("97110", 1, D2027)])] == [Decimal("28.57")]  # 0.87 x 32.8409
    assert gpci("02102-01", D2027) == (Decimal("1.5"), Decimal("1.065"), Decimal("0.551"))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the zip is only read


def test_data_list_reports_the_release_the_qp_factor_and_the_folder(capsys, tmp_path):
    """After the import, data list shows RVU27A for 2027, its QP factor, and the data folder in use."""
    run(capsys, "data", "import", zip_2027(tmp_path / "RVU27A.zip"))
    code, out, _ = run(capsys, "data", "list")
    assert code == 0
    assert f"Data folder in use for imports: {datasets.user_data_dir()} (2 imported releases;" in out
    line_2027 = next(line for line in out.splitlines() if line.startswith("  2027  "))
    assert "RVU27A" in line_2027 and "QP conversion factor 33.1693" in line_2027 and "(imported, official)" in line_2027
    assert "next: 2028 dates: import CMS's RVU28A.zip with `ptbilling data import`" in out


def test_files_are_recognised_by_content_not_by_name(capsys, tmp_path):
    """Members renamed to meaningless names (QP file first) import the same release and non-QP factor."""
    src = zip_2027(tmp_path / "src.zip")
    renamed = tmp_path / "download.zip"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(renamed, "w", zipfile.ZIP_DEFLATED) as out:
        infos = sorted(z.infolist(), key=lambda i: "QPP" not in i.filename or "non" in i.filename)
        for k, info in enumerate(infos):
            out.writestr(f"file{k}.dat", z.read(info))
    code, out, err = run(capsys, "data", "import", renamed)
    assert code == 0, err
    assert "imported RVU27A" in out and "conversion factor 32.8409 (non-QP, the default)" in out
    assert conversion_factor(D2027).value == Decimal("32.8409")
    assert gpci("02102-01", D2027)[0] == Decimal("1.5")


def test_a_pprrvu_copy_without_a_conversion_factor_is_not_taken_for_the_qp_file(capsys, tmp_path):
    """A second PPRRVU CSV of the release with blank CONV FACTOR cells: skipped as a copy, no QP factor, no crash."""
    path = zip_2027(tmp_path / "RVU27A.zip", qp=pprrvu_text(2026, year=2027, release="A", cf=""))
    code, out, err = run(capsys, "data", "import", path)
    assert code == 0, err
    assert "Traceback" not in err and "QP factor" not in out and "the QPP file:" not in out, out
    assert "conversion factor 32.8409 (non-QP, the default)" in out
    assert "skipped PPRRVU2027_Jan_QPP.csv: the same relative values as PPRRVU2027_Jan_nonQPP.csv" in out
    assert conversion_factor(D2027).value == Decimal("32.8409")
    code, out, _ = run(capsys, "data", "list")
    line_2027 = next(line for line in out.splitlines() if line.startswith("  2027  "))
    assert "RVU27A" in line_2027 and "QP conversion factor" not in line_2027


def test_reimporting_the_same_release_is_harmless_and_says_so(capsys, tmp_path):
    """The same zip twice: the second run stores nothing (the index is untouched) and says it is installed."""
    path = zip_2027(tmp_path / "RVU27A.zip")
    run(capsys, "data", "import", path)
    index = datasets.user_data_dir() / "releases.json"
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    code, out, err = run(capsys, "data", "import", path)
    assert code == 0, err
    assert out.startswith("RVU27A (2027 National Physician Fee Schedule Relative Value File January Release")
    assert "is already installed for 2027; nothing changed" in out
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before


def test_the_2025_layout_imports_too(capsys, tmp_path):
    """A 31-column (2025 layout) zip with one PPRRVU file, CMS's 2025 names: imported as that year's release."""
    path = rvu_zip(tmp_path / "RVU24D.zip", rvu=pprrvu_text(2025, year=2024, cf="33.2875"),
                   gpci=gpci_text(2025, year=2024), year=2024, release="D")
    code, out, err = run(capsys, "data", "import", path)
    assert code == 0, err
    assert "imported RVU24D" in out and f"{member_names(2024, 'D')['nonqp']}.csv" in out
    assert [f.amount for f in price_lines([FeeLine("97110", 1, dt.date(2024, 6, 3))])] == [Decimal("29.63")]


def test_the_shared_2026_files_in_a_zip_are_what_ships(capsys, tmp_path, shared_cms_dir):
    """RVU26C.zip built from the full shared 2026 files: both are already installed (shipped), nothing stored."""
    path = rvu_zip(tmp_path / "RVU26C.zip", rvu=(shared_cms_dir / "PPRRVU2026_Jul.therapy.csv").read_bytes().decode(),
                   gpci=(shared_cms_dir / "GPCI2026.csv").read_bytes().decode(), year=2026, release="C")
    code, out, err = run(capsys, "data", "import", path)
    assert code == 0, err
    assert "RVU26C (2026 National Physician Fee Schedule Relative Value File July Release, released 06/30/2026) " \
           "is already installed for 2026; nothing changed" in out
    assert imported() == []


def test_a_newer_release_of_a_shipped_year_replaces_it(capsys, tmp_path):
    """RVU26D over the shipped RVU26C: stored, and 2026 dates use it."""
    text = pprrvu_text(2026, release="D").replace("97110,,,A,,0.45,0.41", "97110,,,A,,0.46,0.41")
    zipped = rvu_zip(tmp_path / "RVU26D.zip", rvu=text, year=2026, release="D")
    code, out, err = run(capsys, "data", "import", zipped)
    assert code == 2 and "rows are missing" in err  # the fixture's few codes against the 119 shipped
    code, out, err = run(capsys, "data", "import", zipped, "--force")
    assert code == 0, err
    assert "imported RVU26D" in out and "GPCIs: none in the zip — the 2026 GPCIs are not changed" in out
    assert datasets.in_force("rvu", dt.date(2026, 5, 1)).name.startswith("RVU26D")
    assert [f.amount for f in price_lines([FeeLine("97110", 1, dt.date(2026, 5, 1))])] == [Decimal("29.39")]


# --- refused: one line, nothing stored --------------------------------------------------

def test_a_zip_without_a_pprrvu_file_is_refused(capsys, tmp_path):
    """Only GPCI and the other files: refused, naming the missing PPRRVU file."""
    assert_refused(capsys, rvu_zip(tmp_path / "RVU27A.zip", rvu=None, gpci=gpci_text(2026, year=2027), year=2027,
                                   release="A"), "RVU27A.zip has no PPRRVU relative value file")


def test_a_damaged_zip_is_refused(capsys, tmp_path):
    """A truncated download is refused as damaged."""
    good = zip_2027(tmp_path / "good.zip").read_bytes()
    bad = tmp_path / "RVU27A.zip"
    bad.write_bytes(good[: len(good) // 2])
    assert_refused(capsys, bad, "RVU27A.zip is damaged")


def test_a_zip_with_a_corrupted_member_is_refused(capsys, tmp_path):
    """A member whose bytes were changed (CRC mismatch) is refused as damaged, before anything is stored."""
    path = zip_2027(tmp_path / "RVU27A.zip")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member_names(2027, "A")["gpci"] + ".csv")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    assert_refused(capsys, path, "damaged")


def test_a_csv_given_to_data_import_is_refused_pointing_to_import_rvu(capsys, tmp_path):
    """A single CSV is not a zip: the message says which command takes it."""
    csv_file = tmp_path / "PPRRVU2027_Jan.csv"
    csv_file.write_text(pprrvu_text(2026, year=2027))
    assert_refused(capsys, csv_file, "not a zip", "import-rvu")


def test_a_zip_bomb_is_refused_by_its_declared_sizes(capsys, tmp_path):
    """A member that would expand over 100x (the log reader's rule) is refused before it is decompressed."""
    path = zip_2027(tmp_path / "RVU27A.zip")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("PPRRVU2027_Jan_extra.csv", b"0" * (12 * 1024 ** 2))
    assert_refused(capsys, path, "zip bomb", "PPRRVU2027_Jan_extra.csv")


def test_a_gpci_file_of_another_year_is_refused(capsys, tmp_path):
    """A 2026 GPCI file in a zip whose PPRRVU title says 2027: refused, naming both years."""
    assert_refused(capsys, zip_2027(tmp_path / "RVU27A.zip", gpci=gpci_text(2026)),
                   "GPCI2027.csv is the 2026 GPCI file but the PPRRVU title says 2027")


def test_a_zip_named_for_another_year_than_its_title_is_refused(capsys, tmp_path):
    """RVU26A.zip holding the 2027 January file contradicts its title: refused."""
    assert_refused(capsys, zip_2027(tmp_path / "RVU26A.zip"), "RVU26A.zip is named for RVU26A",
                   "2027 National Physician Fee Schedule")


def test_a_year_given_that_contradicts_the_title_is_refused(capsys, tmp_path):
    """--year 2026 for the 2027 file is refused."""
    assert_refused(capsys, zip_2027(tmp_path / "RVU27A.zip"), "--year 2026 contradicts", argv=("--year", "2026"))


def test_an_older_release_than_the_one_in_use_is_refused(capsys, tmp_path):
    """RVU26A (January) after the shipped RVU26C (July) would go backwards: refused."""
    path = rvu_zip(tmp_path / "RVU26A.zip", rvu=pprrvu_text(2026, release="A"), year=2026, release="A")
    assert_refused(capsys, path, "RVU26A, older than RVU26C already in use for 2026")


def test_two_pprrvu_files_with_different_rvus_are_refused(capsys, tmp_path):
    """A QPP file whose RVUs differ from the non-QPP one is not one release: refused."""
    qp = pprrvu_text(2026, year=2027, release="A", cf="33.1693").replace("97110,,,A,,0.45", "97110,,,A,,0.55")
    assert_refused(capsys, zip_2027(tmp_path / "RVU27A.zip", qp=qp), "different relative values")


# --- where the user looks: check, PT_FEE, data list -------------------------------------

def _log_2027(tmp_path) -> Path:
    path = tmp_path / "log.csv"
    path.write_text("Patient,Date,Payer,Provider,Code,Modifiers,Minutes,Units\n"
                    "M1,2027-01-05,Medicare,PT,97110,GP,30,2\nM2,2026-12-30,Medicare,PT,97110,GP,30,2\n")
    return path


def test_check_summary_names_the_zip_and_the_command_for_dates_past_the_newest_year(capsys, tmp_path):
    """A log with 2027 dates: the text summary and the JSON summary say to import RVU27A.zip; 2026 needs nothing."""
    log = _log_2027(tmp_path)
    code, out, _ = run(capsys, "check", log)
    assert code == 0
    hint = ("2027 dates: import CMS's RVU27A.zip with `ptbilling data import` — no Medicare fee schedule for 2027 "
            "is installed (newest: 2026)")
    assert hint in " ".join(out.split())
    assert "2026 dates" not in out
    code, out, _ = run(capsys, "check", log, "--format", "json")
    [note] = json.loads(out)["summary"]["missing_data"]
    assert note.startswith(hint)


def test_check_summary_has_no_note_once_the_year_is_imported(capsys, tmp_path):
    """After importing RVU27A.zip the same log's summary has no missing-data note."""
    run(capsys, "data", "import", zip_2027(tmp_path / "RVU27A.zip"))
    _, out, _ = run(capsys, "check", _log_2027(tmp_path), "--format", "json")
    assert json.loads(out)["summary"]["missing_data"] == []


def test_pt_fee_message_for_a_year_past_the_newest_names_the_zip_and_the_command():
    """PT_FEE on a 2027 date shows the message with RVU27A.zip and `ptbilling data import` (under 256 characters)."""
    from ptbilling.logs.fees import cell_value, price_column

    text = cell_value(price_column(["97110"], [1], None, [dt.date(2027, 3, 1)])[0])
    assert "2027 dates: import CMS's RVU27A.zip with `ptbilling data import`" in text and len(text) < 256
