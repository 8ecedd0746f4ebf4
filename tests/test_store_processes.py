"""The user data folder under real processes: imports run in parallel, and imports killed with SIGKILL.

Issue 13 item 1: with one fixed temp name and no lock, two imports of one NCCI quarter
lost a file's edits in 20 of 20 rounds, left fragment lines in 10 of 20, and four imports
of different kinds left a release out of the index. These tests start real processes at
once (forked after import, so 20 rounds stay quick, and through the console entry point)
and kill real processes at known and at random points.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cms_fixtures import MUE_ROWS, PTP_FILE_1, PTP_FILE_2, RVU_ROWS, gpci_text, mue_text, pprrvu_text, ptp_text
from ptbilling.cli.main import main  # imported before forking: the children start at their import
from ptbilling.rules import datasets, ncci_ptp, rvu_file, store_repair

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL are POSIX")

ROUNDS = 20
QUARTERS = {"2025-07-01": "v312", "2025-10-01": "v313"}  # NCCI version 31.2, 31.3


def cms_files(folder: Path) -> list[list[str]]:
    """Eight imports of six releases: two PTP files in each of two quarters, two MUE quarters, RVU, GPCI."""
    folder.mkdir(parents=True, exist_ok=True)

    def put(name, text):
        (folder / name).write_text(text, encoding="utf-8")
        return str(folder / name)

    argv = []
    for start, version in QUARTERS.items():
        argv.append(["data", "import-ptp", put(f"ccipra-{version}r0-f1.txt", ptp_text(PTP_FILE_1))])
        argv.append(["data", "import-ptp", put(f"ccipra-{version}r0-f2.txt", ptp_text(PTP_FILE_2))])
        m, d, y = start[5:7], start[8:10], start[:4]
        argv.append(["data", "import-mue", put(f"MCR_MUE_PractitionerServices_Eff_{m}-{d}-{y}.csv", mue_text(MUE_ROWS))])
    argv.append(["data", "import-rvu", put("PPRRVU2027_Jan.csv", pprrvu_text(2027))])
    argv.append(["data", "import-gpci", put("GPCI2027.csv", gpci_text(2027)), "2027"])
    return argv


EXPECTED_KEYS = {"ncci/ptp_2025-07-01.csv", "ncci/ptp_2025-10-01.csv", "ncci/mue_2025-07-01.csv",
                 "ncci/mue_2025-10-01.csv", "rvu_2027.csv", "gpci_2027.csv"}


def entries_by_key(folder: Path) -> dict[str, dict]:
    """The index's releases by key (an entry without a key, as older versions wrote, is keyed by its file)."""
    entries = json.loads((folder / "releases.json").read_text(encoding="utf-8"))
    return {e.get("key") or e["file"]: e for e in entries}


def assert_complete_and_readable(folder: Path) -> None:
    """Every release of the round is in the index, each quarter holds both PTP files, every file reads cleanly."""
    entries = entries_by_key(folder)
    assert set(entries) == EXPECTED_KEYS
    both = {(r[0], r[1]) for r in PTP_FILE_1 + PTP_FILE_2}
    for start, version in QUARTERS.items():
        entry = entries[f"ncci/ptp_{start}.csv"]
        assert {(e.code1, e.code2) for e in ncci_ptp.read_release_csv(folder / entry["file"])} == both
        assert {f"ccipra-{version}r0-f1.txt", f"ccipra-{version}r0-f2.txt"} <= set(entry["source"].split(": ")[1].split(", "))
    assert store_repair.store_damage(folder) == []
    named = {e["file"] for e in entries.values()} | {e["file"] + ".json" for e in entries.values()}
    named |= {e.get("previous") for e in entries.values()}
    stray = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
             if p.is_file() and p.name not in ("releases.json", datasets.LOCK_NAME)
             and p.relative_to(folder).as_posix() not in named]
    assert stray == []


def _child(argv: list[str], folder: str, barrier) -> None:
    os.environ["PTBILLING_DATA_DIR"] = folder
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    barrier.wait(timeout=60)  # all eight start their import at once
    sys.exit(main(argv))


def test_20_rounds_of_8_parallel_imports_leave_a_complete_readable_store(tmp_path):
    """8 processes import at once, 20 rounds: all exit 0, no release or PTP file lost, every file reads cleanly."""
    ctx = multiprocessing.get_context("fork")
    argv = cms_files(tmp_path / "cms")
    assert len(argv) == 8
    for n in range(ROUNDS):
        folder = tmp_path / f"round{n}"
        barrier = ctx.Barrier(len(argv))
        order = random.Random(n).sample(argv, len(argv))  # a different start order each round
        procs = [ctx.Process(target=_child, args=(a, str(folder), barrier)) for a in order]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=120)
        assert [p.exitcode for p in procs] == [0] * len(procs), f"round {n}"
        assert_complete_and_readable(folder)


def run_cli(argv, folder: Path, **kw):
    env = {**os.environ, "PTBILLING_DATA_DIR": str(folder)}
    return subprocess.Popen([sys.executable, "-m", "ptbilling", *argv], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_eight_console_processes_at_once_lose_nothing(tmp_path):
    """The same through 'python -m ptbilling', 8 processes at once, 2 rounds: the store is complete each time."""
    argv = cms_files(tmp_path / "cms")
    for n in range(2):
        folder = tmp_path / f"round{n}"
        procs = [run_cli(a, folder) for a in argv]
        results = [p.communicate(timeout=180) for p in procs]
        assert [p.returncode for p in procs] == [0] * 8, results
        assert_complete_and_readable(folder)


# --- kill -9 ------------------------------------------------------------------------------

# Runs one CLI import that stops (sleeps, after touching MARKER) at POINT, to be killed there.
PAUSING_IMPORT = r"""
import sys, time
from pathlib import Path
from ptbilling.rules import datasets
point, marker, argv = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]

def pause():
    marker.touch()
    time.sleep(120)

if point == "write":  # half the release file written under its temp name
    def write_release_csv(path, columns, rows):
        with open(path, "w", encoding="utf-8") as f:
            f.write(",".join(columns) + "\n97110,,A,0.")
            f.flush()
        pause()
    datasets.write_release_csv = write_release_csv
else:
    real = datasets._write_atomic
    def write_atomic(target, data):
        if point == "record" and target.name.endswith(".csv.json"):
            pause()  # the new release file is in place, its record and the index not
        if point == "commit" and target.name == "releases.json":
            pause()  # everything written but the switch of the index
        real(target, data)
    datasets._write_atomic = write_atomic
from ptbilling.cli.main import main
sys.exit(main(argv))
"""


def rvu_rows(work: str):
    return [("97110", "", "A", work, "0.40", "0.18", "0.02", "5")] + RVU_ROWS[1:]


def stored_work_rvu(folder: Path) -> float:
    return rvu_file.read_release_csv(folder / entries_by_key(folder)["rvu_2027.csv"]["file"])["97110"].work_rvu


def kill_at(point: str, argv: list[str], folder: Path, tmp_path: Path) -> None:
    marker = tmp_path / f"at-{point}"
    env = {**os.environ, "PTBILLING_DATA_DIR": str(folder)}
    proc = subprocess.Popen([sys.executable, "-c", PAUSING_IMPORT, point, str(marker), *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the import never reached the point"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", ["write", "record", "commit"])
def test_an_import_killed_at_any_step_leaves_the_previous_state_intact(tmp_path, isolated_user_data, point):
    """kill -9 at a known step: every stored byte is as before, old values in force, leftovers cleared next time."""
    folder = isolated_user_data
    (tmp_path / "old.csv").write_text(pprrvu_text(2027, rvu_rows("0.45")), encoding="utf-8")
    (tmp_path / "PPRRVU2027_Jan.csv").write_text(pprrvu_text(2027, rvu_rows("0.91")), encoding="utf-8")
    assert main(["data", "import-rvu", str(tmp_path / "old.csv"), "--year", "2027"]) == 0
    (tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2025.csv").write_text(mue_text(MUE_ROWS), encoding="utf-8")
    assert main(["data", "import-mue", str(tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2025.csv")]) == 0
    before = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
              if p.is_file() and p.name != datasets.LOCK_NAME}

    kill_at(point, ["data", "import-rvu", str(tmp_path / "PPRRVU2027_Jan.csv")], folder, tmp_path)

    after = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
             if p.is_file() and p.name != datasets.LOCK_NAME}
    assert {k: after.get(k) for k in before} == before  # nothing stored was touched
    assert set(after) - set(before), "the kill left its unused files (removed below)"
    assert stored_work_rvu(folder) == 0.45
    assert store_repair.store_damage(folder) == []

    # the lock died with the process: the next import runs at once, and clears the leftovers
    assert main(["data", "import-rvu", str(tmp_path / "PPRRVU2027_Jan.csv")]) == 0
    assert stored_work_rvu(folder) == 0.91
    entries = entries_by_key(folder).values()
    named = {e["file"] for e in entries} | {e["file"] + ".json" for e in entries} | {e.get("previous") for e in entries}
    left = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - named
    assert left <= {"releases.json", datasets.LOCK_NAME}


def test_imports_killed_at_random_times_leave_the_old_or_the_new_release_whole(tmp_path, isolated_user_data):
    """12 imports killed at random times: the store always reads cleanly and holds the old or the new release."""
    folder = isolated_user_data
    works = ["0.45", "0.91"]
    for w in works:
        (tmp_path / f"PPRRVU2027_{w}.csv").write_text(pprrvu_text(2027, rvu_rows(w)), encoding="utf-8")
    assert main(["data", "import-rvu", str(tmp_path / "PPRRVU2027_0.45.csv"), "--year", "2027"]) == 0
    current = 0.45
    rng = random.Random(13)
    for n in range(12):
        new = works[(n + 1) % 2]
        proc = run_cli(["data", "import-rvu", str(tmp_path / f"PPRRVU2027_{new}.csv"), "--year", "2027"], folder)
        time.sleep(rng.uniform(0.0, 1.2))  # the interpreter starts in about 0.3-0.8 s here: before, during, after
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        got = stored_work_rvu(folder)
        assert got in (current, float(new)), (n, got)
        assert store_repair.store_damage(folder) == []
        current = got
