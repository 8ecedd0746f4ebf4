"""`check --out` cannot clobber, cleans up, and keeps the results of a log wider than Excel (issue 13,
items 6, 7 and 11)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from ptbilling.cli import main as cli
from ptbilling.workbooks import report

ROOT = Path(__file__).resolve().parents[1]
HEADER = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"]
LINE = "P{n},2025-03-{d:02d},Medicare,PT,97110,GP,30,2"


def write_log(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(HEADER) + "\n")
        for i in range(n):
            f.write(LINE.format(n=i % 997, d=1 + i % 28) + "\n")
    return path


def run(capsys, *argv):
    code = cli.main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def check_process(src: Path, out: Path, env=None, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ptbilling", "check", str(src), "--out", str(out), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def test_a_file_that_appears_during_the_run_is_not_replaced(tmp_path, capsys, monkeypatch):
    """Someone saves report.xlsx while the log is checked: it stays, and the run says so (exit 2)."""
    src = write_log(tmp_path / "log.csv", 5)
    out = tmp_path / "report.xlsx"
    real = report.build_report

    def meanwhile(*args, **kw):
        real(*args, **kw)
        out.write_bytes(b"a clerk's own report")
    monkeypatch.setattr(report, "build_report", meanwhile)
    code, text, err = run(capsys, src, "--out", out)
    assert code == 2 and text == "" and "Report written" not in text
    assert err.strip() == (f"ptbilling: --out {out}: a file of that name appeared while the log was checked — it "
                           "was left as it is; add --force to replace it, or choose another name")
    assert out.read_bytes() == b"a clerk's own report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "report.xlsx"]  # no temp folder left


def test_two_runs_to_one_new_name_one_wins_the_other_is_refused(tmp_path):
    """Two real processes without --force to one new name, 3 rounds: exactly one writes, one is refused."""
    src = write_log(tmp_path / "log.csv", 20_000)
    for round_ in range(3):
        out = tmp_path / f"report{round_}.xlsx"
        procs = [check_process(src, out) for _ in range(2)]
        results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
        codes = sorted(r[0] for r in results)
        assert codes == [0, 2], results
        winner = next(r for r in results if r[0] == 0)
        loser = next(r for r in results if r[0] == 2)
        assert f"Report written to {out}" in winner[1]
        assert loser[1] == "" and len(loser[2].strip().splitlines()) == 1
        assert ("appeared while the log was checked" in loser[2]) or ("exists — add --force" in loser[2])
        assert openpyxl.load_workbook(out, read_only=True).sheetnames == ["Lines", "Medicare totals", "Summary"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "report0.xlsx", "report1.xlsx", "report2.xlsx"]


def test_kill_9_while_writing_leaves_only_the_hidden_work_folder(tmp_path):
    """kill -9 in the middle of writing: no report, nothing in the system temp, one hidden folder beside it."""
    src = write_log(tmp_path / "log.csv", 60_000)
    folder = tmp_path / "out"
    folder.mkdir()
    system_tmp = tmp_path / "systmp"
    system_tmp.mkdir()
    out = folder / "report.xlsx"
    env = {**os.environ, "TMPDIR": str(system_tmp), "PYTHONPATH": str(ROOT / "addin")}
    p = check_process(src, out, env)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and p.poll() is None:
        work = [w for w in folder.iterdir() if w.is_dir()]
        if work and any(f.stat().st_size > 0 for f in work[0].iterdir()):  # XlsxWriter is writing its rows
            break
        time.sleep(0.05)
    assert p.poll() is None, "the run ended before it could be killed"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    p.communicate()
    left = list(folder.iterdir())
    assert not out.exists()
    assert len(left) == 1 and left[0].is_dir() and left[0].name.startswith(".report.xlsx.") \
        and left[0].name.endswith(".tmp")
    assert list(system_tmp.iterdir()) == []  # XlsxWriter's temp files were beside the report, not in TMPDIR


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_while_writing_cleans_up(tmp_path, sig):
    """SIGTERM (kill) or SIGHUP (a closed terminal) in the middle of writing: no report, no temp folder."""
    src = write_log(tmp_path / "log.csv", 60_000)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "report.xlsx"
    p = check_process(src, out, {**os.environ, "PYTHONPATH": str(ROOT / "addin")})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and p.poll() is None and not any(folder.iterdir()):
        time.sleep(0.05)
    time.sleep(0.2)
    assert p.poll() is None, "the run ended before it could be stopped"
    p.send_signal(sig)
    p.wait(timeout=60)
    p.communicate()
    assert p.returncode == 128 + sig  # ended through Python's finally blocks, not by the signal
    assert list(folder.iterdir()) == []


def _immutable(folder: Path) -> bool:
    """Make a folder unwritable even for root (chattr +i); False where the file system cannot."""
    if shutil.which("chattr") is None:
        return False
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        return False
    try:
        (folder / "probe").touch()
    except OSError:
        return True
    (folder / "probe").unlink()
    subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    return False


def test_read_only_folder_message_names_the_report_not_a_temp_file(tmp_path, capsys):
    """--out in a folder that refuses new files: one line naming the report and folder, no temp name."""
    src = write_log(tmp_path / "log.csv", 3)
    folder = tmp_path / "locked"
    folder.mkdir()
    if not _immutable(folder) and os.geteuid() != 0:
        folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK) and os.geteuid() != 0:
            pytest.skip("cannot make a folder read-only here")
        code, text, err = run(capsys, src, "--out", folder / "report.xlsx")
    finally:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        folder.chmod(0o755)
    if code == 0:
        pytest.skip("this file system lets root write into a read-only folder (no chattr +i)")
    assert code == 2 and text == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"ptbilling: --out {folder / 'report.xlsx'}: cannot be written in folder {folder} (")
    assert ".tmp" not in err and ".report.xlsx." not in err


def test_a_log_wider_than_excel_keeps_its_results_and_lists_what_was_dropped(tmp_path, capsys):
    """20,008 input columns: the report keeps the log's columns, Units (rule) and Check, and lists the rest."""
    extra = [f"Extra {j}" for j in range(20_000)]
    src = tmp_path / "wide.csv"
    with open(src, "w", encoding="utf-8") as f:
        f.write(",".join(extra[:5] + HEADER + extra[5:]) + "\n")
        f.write(",".join(["x"] * 5 + "P1,2025-03-03,Medicare,PT,97110,GP,30,3".split(",") + ["y"] * 19_995) + "\n")
    out = tmp_path / "report.xlsx"
    code, text, err = run(capsys, src, "--out", out)
    assert code == 1 and f"Report written to {out}" in text
    assert "3,627 of the log's 20,008 input columns are left out" in err
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = list(wb["Lines"].iter_rows(values_only=True))
    header, line = rows[0], rows[1]
    assert len(header) == report.MAX_COLUMNS
    assert header[:6] == ("Row", "Extra 0", "Extra 1", "Extra 2", "Extra 3", "Extra 4")
    assert header[6:14] == tuple(HEADER) and header[-2:] == ("Units (rule)", "Check")
    assert line[-2] == 2 and line[-1].startswith("ERROR UNITS-OVER")
    summary = [r for r in wb["Summary"].iter_rows(values_only=True)]
    listed = [r for r in summary if r[3] and str(r[3]).startswith("Extra ")]
    assert len(listed) == 3_627 and listed[0][3] == "Extra 16373" and listed[-1][3] == "Extra 19999"
    assert any(r[0] == "3,627 input columns are not on the Lines sheet" for r in summary)
    wb.close()


def test_report_columns_keep_every_recognised_column():
    """report_columns keeps recognised headers wherever they are, and the first others as room allows."""
    header = [f"X{j}" for j in range(20_000)] + ["Minutes"]
    keep, dropped = report.report_columns(header)
    assert len(keep) == report.MAX_COLUMNS - 3 and 20_000 in keep and len(keep) + len(dropped) == len(header)
    assert report.report_columns(HEADER) == (list(range(8)), [])


def test_report_zip_is_complete_when_written(tmp_path, capsys):
    """A normal run leaves only the report, a complete workbook."""
    src = write_log(tmp_path / "log.csv", 10)
    out = tmp_path / "r.xlsx"
    assert run(capsys, src, "--out", out)[0] == 0
    assert zipfile.is_zipfile(out) and sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "r.xlsx"]


def test_a_mapped_column_far_right_of_a_wide_log_is_kept(tmp_path, capsys):
    """A column read through --column (say 'Ins Plan=Payer') past Excel's width stays on the Lines sheet."""
    header = [h for h in HEADER if h != "Payer"] + [f"Extra {j}" for j in range(17_000)] + ["Ins Plan"]
    src = tmp_path / "wide.csv"
    with open(src, "w", encoding="utf-8") as f:
        f.write(",".join(header) + "\n")
        f.write(",".join("P1,2025-03-03,PT,97110,GP,30,2".split(",") + [""] * 17_000 + ["Medicare"]) + "\n")
    out = tmp_path / "report.xlsx"
    code, text, err = run(capsys, src, "--out", out, "--column", "Ins Plan=Payer")
    assert code == 0, err
    wb = openpyxl.load_workbook(out, read_only=True)
    header_row, line = list(wb["Lines"].iter_rows(values_only=True, max_row=2))
    assert len(header_row) == report.MAX_COLUMNS and header_row[-3:] == ("Ins Plan", "Units (rule)", "Check")
    assert line[-3:] == ("Medicare", 2, "OK")
    wb.close()
