"""python-calamine parses in a worker thread while the command's imports run (``read_log(..., alongside=)``).

The parse starts only after every check of the file (zip, prologs, the sheet scan
and its extent) has passed; its result and its failures are what they were on one
thread (openpyxl after a calamine error, "too large" for a MemoryError); an
exception of ``alongside`` is raised as it is; and no worker thread outlives a
read, whatever happens.
"""
from __future__ import annotations

import threading
import zipfile

import pytest

from ptbilling.logs import reader as log_reader
from ptbilling.logs.reader import UnusableLog, read_log
from test_check import CLEAN, HEADER, write_xlsx


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ptbilling-calamine"]


class Calls:
    def __init__(self, fail: BaseException | None = None):
        self.threads: list[threading.Thread] = []
        self.fail = fail

    def __call__(self):
        self.threads.append(threading.current_thread())
        if self.fail is not None:
            raise self.fail


def test_alongside_runs_once_on_the_calling_thread_and_the_rows_are_calamines(tmp_path):
    path = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN, table="SessionLog")
    calls = Calls()
    log = read_log(path, alongside=calls)
    assert calls.threads == [threading.current_thread()]
    assert log.reader == "calamine" and log.rows == read_log(path).rows
    assert not _workers()


def test_several_sheets_run_it_once(tmp_path):
    path = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN, before=[("Other", [HEADER, *CLEAN])])
    calls = Calls()
    log = read_log(path, alongside=calls)
    assert len(calls.threads) == 1 and log.sheets_found and not _workers()


def test_a_calamine_failure_is_read_by_openpyxl_as_before(tmp_path, monkeypatch):
    import python_calamine

    def broken(*a, **k):
        raise python_calamine.CalamineError("simulated failure")
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", broken)
    calls = Calls()
    log = read_log(write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN), alongside=calls)
    assert log.reader == "openpyxl" and "simulated failure" in log.notes[0] and len(calls.threads) == 1
    assert not _workers()


def test_a_memory_error_in_the_worker_is_too_large_as_before(tmp_path, monkeypatch):
    import python_calamine

    def broken(*a, **k):
        raise MemoryError
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", broken)
    with pytest.raises(UnusableLog, match="is too large to read in memory"):
        read_log(write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN), alongside=Calls())
    assert not _workers()


def test_an_exception_of_alongside_is_raised_as_it_is_and_the_worker_joined(tmp_path):
    with pytest.raises(ImportError, match="no such module"):
        read_log(write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN), alongside=Calls(ImportError("no such module")))
    assert not _workers()


def test_a_refused_file_never_starts_calamine(tmp_path, monkeypatch):
    """The scan's refusals (here a DTD in the sheet) come first: no parse, nothing run alongside."""
    import python_calamine

    def never(*a, **k):
        raise AssertionError("calamine must not start")
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", never)
    src = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN)
    bad = tmp_path / "dtd.xlsx"
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(bad, "w") as zo:
        for info in zi.infolist():
            data = zi.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b"<worksheet", b'<!DOCTYPE x [<!ENTITY a "b">]><worksheet', 1)
            zo.writestr(info, data)
    calls = Calls()
    with pytest.raises(UnusableLog, match="DTD"):
        read_log(bad, alongside=calls)
    assert not calls.threads and not _workers()


def test_a_sparse_sheet_goes_to_openpyxl_without_calamine(tmp_path, monkeypatch):
    """A stray cell far away: the scan's extent sends the sheet to openpyxl before calamine could start."""
    import python_calamine

    def never(*a, **k):
        raise AssertionError("calamine must not start")
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", never)
    monkeypatch.setattr(log_reader, "MAX_DENSE_CELLS", 20)
    calls = Calls()
    log = read_log(write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN), alongside=calls)
    assert log.reader == "openpyxl" and "mostly empty" in log.notes[0] and not calls.threads
    assert not _workers()


def test_a_csv_runs_nothing_alongside(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(",".join(HEADER) + "\nP1,2025-03-03,Medicare,PT,97110,GP,23,2\n")
    calls = Calls()
    assert read_log(path, alongside=calls).reader == "csv" and not calls.threads


def test_without_a_thread_to_be_had_the_parse_runs_on_this_thread(tmp_path, monkeypatch):
    def refuse(self):
        raise RuntimeError("can't start new thread")
    monkeypatch.setattr(threading.Thread, "start", refuse)
    path = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN, table="SessionLog")
    calls = Calls()
    log = read_log(path, alongside=calls)
    assert log.reader == "calamine" and len(calls.threads) == 1 and not log.notes
