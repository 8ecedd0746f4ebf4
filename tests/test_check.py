"""`ptbilling check`: reading logs safely, the same answers as the Excel functions, outputs and exit codes."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.worksheet.table import Table

import xlwings_harness as xh
from ptbilling.cli import check as check_command
from ptbilling.cli import main as cli
from ptbilling.logs import reader as log_reader
from ptbilling.logs.cells import (
    EXCEL_ERRORS,
    _text,
    coerce_amount,
    coerce_date,
    coerce_units,
    parse_modifiers,
    read_rows,
)
from ptbilling.logs.columns import map_headers
from ptbilling.logs.reader import UnusableLog, read_log
from ptbilling.rules.claim_lines import ClaimLine, unit_method
from ptbilling.rules.code_catalog import normalize_code
from ptbilling.rules.findings import ERROR, Finding
from ptbilling.rules.service_units import LineProblem, coerce_minutes
from ptbilling.workbooks import report

ROOT = Path(__file__).resolve().parents[1]
ADDIN = ROOT / "addin"
SAMPLE = ROOT / "workbook_templates" / "sample_session_log.xlsx"
HEADER = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"]
DAY = dt.datetime(2025, 3, 3)
CLEAN = [
    ["P1", DAY, "Medicare", "PT", "97112", "GP", 24, 2],
    ["P1", DAY, "Medicare", "PT", "97110", "GP", 23, 1],
    ["P2", DAY, "BCBS", "PT", "97110", "GP", 30, 2],
]
WITH_ERROR = CLEAN + [["P3", DAY, "Medicare", "PT", "97110", "GP", 20, 3]]  # 20 min is 1 unit: UNITS-OVER
WITH_WARNING = CLEAN + [["P4", DAY, "Medicare", "PT", "97110", "GP", 40, 2]]  # 40 min is 3 units: UNITS-UNDER


# --- building logs --------------------------------------------------------------------------

def write_xlsx(path: Path, header, rows, *, table: str | None = None, origin: str = "A1", sheet: str = "Log",
               before: list[tuple[str, list]] | None = None) -> Path:
    """A workbook written by openpyxl (no cached formula results), optionally with a Table."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, cells in before or []:
        ws0 = wb.create_sheet(title)
        for r in cells:
            ws0.append(r)
    ws = wb.create_sheet(sheet)
    col0 = openpyxl.utils.column_index_from_string(re.match(r"[A-Z]+", origin).group())
    row0 = int(re.search(r"\d+", origin).group())
    for i, r in enumerate([header] + rows):
        for j, v in enumerate(r):
            c = ws.cell(row0 + i, col0 + j, v)
            if isinstance(v, dt.datetime):
                c.number_format = "yyyy-mm-dd"
    if table:
        last = openpyxl.utils.get_column_letter(col0 + len(header) - 1)
        ws.add_table(Table(displayName=table, ref=f"{origin}:{last}{row0 + len(rows)}"))
    wb.save(path)
    return path


def write_csv(path: Path, header, rows, **kw) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, **kw)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else (v.strftime("%Y-%m-%d") if isinstance(v, dt.datetime) else v) for v in r])
    return path


def rezip(src: Path, dst: Path, change) -> Path:
    """Copy a workbook, passing each member's bytes through change(name, data)."""
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            data = change(info.filename, zi.read(info.filename))
            if data is not None:
                zo.writestr(info.filename, data)
    return dst


def judged(line: dict) -> dict:
    """A JSON line without what was read: its row, units and findings."""
    return {k: line[k] for k in ("row", "units", "findings")}


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def assert_refused(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ptbilling: ") and "Traceback" not in err
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (as Excel writes an encrypted workbook or an .xls) with these streams."""
    sec = 512
    body = []
    fat = {0: 0xFFFFFFFD, 1: 0xFFFFFFFE}
    entries = [("Root Entry", 5, 0xFFFFFFFE, 0)]
    nxt = 2
    for name, data in streams.items():
        data = data.ljust(max(4096, -(-len(data) // sec) * sec), b"\0")  # over the mini-stream cutoff
        n = len(data) // sec
        for k in range(n):
            fat[nxt + k] = nxt + k + 1 if k < n - 1 else 0xFFFFFFFE
        entries.append((name, 2, nxt, len(data)))
        body.append(data)
        nxt += n
    directory = b""
    for i, (name, kind, start, size) in enumerate(entries):
        raw = name.encode("utf-16-le") + b"\0\0"
        child = 1 if kind == 5 and len(entries) > 1 else 0xFFFFFFFF
        right = i + 1 if kind == 2 and i + 1 < len(entries) else 0xFFFFFFFF
        directory += (raw.ljust(64, b"\0") + struct.pack("<HBBIII", len(raw), kind, 1, 0xFFFFFFFF, right, child)
                      + b"\0" * 36 + struct.pack("<IQ", start, size))
    directory = directory.ljust(sec, b"\0")
    fat_sector = b"".join(struct.pack("<I", fat.get(i, 0xFFFFFFFF)) for i in range(sec // 4))
    header = (bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 10 + struct.pack("<IIIIIIII", 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
              + struct.pack("<I", 0) + struct.pack("<I", 0xFFFFFFFF) * 108)
    assert len(header) == sec
    return header + fat_sector + directory + b"".join(body)


# --- exit codes, text and JSON --------------------------------------------------------------

def test_clean_log_exits_0_with_a_text_summary(tmp_path, capsys):
    """A log without findings: exit 0, the summary counts visits, lines and units."""
    code, out, err = run(capsys, write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN))
    assert code == 0 and err == ""
    assert "Visits" in out and "Units (rule)" in out
    assert re.search(r"\b2\s+3\s+5\s+0\s+0\b", out), out  # 2 visits, 3 lines, 3+2 units, 0 errors, 0 warnings
    assert "OK: no findings." in out


def test_warnings_only_still_exit_0(tmp_path, capsys):
    """Warnings are allowed: exit 0, and the warning is listed."""
    code, out, _ = run(capsys, write_xlsx(tmp_path / "log.xlsx", HEADER, WITH_WARNING))
    assert code == 0
    assert "UNITS-UNDER" in out and "row 5: WARN UNITS-UNDER" in out


def test_an_error_finding_exits_1_and_names_rule_and_row(tmp_path, capsys):
    """One ERROR: exit 1; the text lists the rule count and the finding with its sheet row."""
    code, out, _ = run(capsys, write_xlsx(tmp_path / "log.xlsx", HEADER, WITH_ERROR))
    assert code == 1
    assert re.search(r"UNITS-OVER\s+ERROR\s+1", out), out
    assert "row 5: ERROR UNITS-OVER: 20 timed min allow 1 unit, 3 billed — bill 1" in out
    assert "1 error on 1 row" in out


def test_json_lists_every_data_row_with_sheet_row_numbers(tmp_path, capsys):
    """--format json: summary + one entry per data row (blank ones too), rows as Excel numbers them."""
    rows = [CLEAN[0], [None] * 8, CLEAN[1], WITH_ERROR[3]]
    path = write_xlsx(tmp_path / "log.xlsx", HEADER, rows, table="SessionLog", origin="B3",
                      before=[("Notes", [["read me"]])])
    code, out, _ = run(capsys, path, "--format", "json")
    doc = json.loads(out)
    assert code == 1 and set(doc) == {"summary", "lines"}
    assert [ln["row"] for ln in doc["lines"]] == [4, 5, 6, 7]
    read = {"patient", "date", "payer", "provider", "code", "modifiers"}
    assert [set(ln) for ln in doc["lines"]] == [{"row", "units", "findings"} | read, {"row", "units", "findings"},
                                                {"row", "units", "findings"} | read, {"row", "units", "findings"} | read]
    assert doc["lines"][0] == {"row": 4, "patient": "P1", "date": "2025-03-03", "payer": "Medicare", "provider": "PT",
                               "code": "97112", "modifiers": ["GP"], "units": 2, "findings": []}
    assert doc["lines"][1] == {"row": 5, "units": None, "findings": []}
    assert doc["lines"][3]["findings"] == ["ERROR UNITS-OVER: 20 timed min allow 1 unit, 3 billed — bill 1"]
    s = doc["summary"]
    assert (s["table"], s["sheet"], s["reader"]) == ("SessionLog", "Log", "calamine")
    assert (s["visits"], s["lines"], s["units"], s["errors"], s["warnings"]) == (2, 3, 4, 1, 0)
    assert s["rules"] == {"UNITS-OVER": {"severity": "ERROR", "count": 1}}


def test_json_output_is_byte_for_byte_json_dumps_of_the_document(tmp_path, capsys):
    """The JSON written is exactly json.dumps(json_document(...)) + newline: rows with and without findings, blanks."""
    rows = [CLEAN[0], [None] * 8, CLEAN[1], WITH_ERROR[3], ["P9", "2025-13-01", "Médicare", "PT", 97110, "GP", "x", 1]]
    path = write_xlsx(tmp_path / "log.xlsx", HEADER, rows, table="SessionLog")
    code, out, _ = run(capsys, path, "--format", "json")
    log, result = check_command.check_path(path)
    assert out == json.dumps(check_command.json_document(log, result), ensure_ascii=False) + "\n"
    lines = json.loads(out)["lines"]
    assert code == 1 and [ln["units"] for ln in lines][:2] == [2, None] and lines[4]["findings"]


def test_text_output_is_plain_when_not_a_terminal(tmp_path, capsys):
    """Piped output has no ANSI escapes and each finding on one line."""
    _, out, _ = run(capsys, write_xlsx(tmp_path / "log.xlsx", HEADER, WITH_ERROR))
    assert "\x1b[" not in out
    assert any(line.startswith("  row 5: ERROR UNITS-OVER:") and line.endswith("bill 1") for line in out.splitlines())


def test_a_row_with_bad_values_gets_a_finding_on_that_row_not_a_crash(tmp_path, capsys):
    """Text minutes, an impossible date, negative units: INPUT errors on those rows; the rest is checked."""
    rows = CLEAN + [
        ["P5", DAY, "Medicare", "PT", "97110", "GP", "thirty", 2],
        ["P6", "2025-02-30", "Medicare", "PT", "97110", "GP", 30, 2],
        ["P7", DAY, "Medicare", "PT", "97110", "GP", 30, -1],
        ["P8", DAY, "Medicare", "PT", "", "GP", 30, 2],
    ]
    code, out, _ = run(capsys, write_xlsx(tmp_path / "log.xlsx", HEADER, rows), "--format", "json")
    lines = {ln["row"]: ln for ln in json.loads(out)["lines"]}
    assert code == 1
    assert lines[5]["findings"] == ["ERROR INPUT: Minutes cell: minutes must be a number, not 'thirty' — correct it"]
    assert lines[6]["findings"][0].startswith("ERROR INPUT: Date cell: '2025-02-30' is not a date")
    assert lines[7]["findings"] == ["ERROR INPUT: Units cell: units cannot be negative: -1 — correct it"]
    assert lines[8]["findings"] == ["ERROR INPUT: Code cell: code is blank — correct it"]
    assert lines[5]["units"] is None and lines[7]["units"] == 2  # the Units cell does not stop the rule's units
    assert [lines[r]["findings"] for r in (2, 3, 4)] == [[], [], []]


def test_missing_column_is_unusable_and_named(tmp_path, capsys):
    """A header without Provider: exit 2, one line naming the column."""
    header = [h for h in HEADER if h != "Provider"]
    rows = [[v for h, v in zip(HEADER, r) if h != "Provider"] for r in CLEAN]
    code, out, err = run(capsys, write_xlsx(tmp_path / "log.xlsx", header, rows))
    assert_refused(code, out, err, "missing column Provider", "log.xlsx")


def test_no_payer_column_needs_payer_option(tmp_path, capsys):
    """Without a Payer column the error points to --payer; with --payer Medicare the log is checked."""
    header = [h for h in HEADER if h != "Payer"]
    rows = [[v for h, v in zip(HEADER, r) if h != "Payer"] for r in WITH_ERROR]
    path = write_xlsx(tmp_path / "log.xlsx", header, rows)
    assert_refused(*run(capsys, path), "Payer", "--payer")
    code, out, _ = run(capsys, path, "--payer", "Medicare", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["summary"]["payer"] == "Medicare"
    assert [ln["units"] for ln in doc["lines"]] == [2, 1, 2, 1]


def test_method_option_changes_units_of_commercial_payers_only(tmp_path, capsys):
    """--method CMS pools a BCBS visit's minutes; Medicare is CMS either way."""
    rows = [["B1", DAY, "BCBS", "PT", "97110", "GP", 20, None], ["B1", DAY, "BCBS", "PT", "97112", "GP", 20, None],
            ["M1", DAY, "Medicare", "PT", "97110", "GP", 20, None], ["M1", DAY, "Medicare", "PT", "97112", "GP", 20, None]]
    path = write_csv(tmp_path / "log.csv", HEADER, rows)
    ama = [ln["units"] for ln in json.loads(run(capsys, path, "--format", "json")[1])["lines"]]
    cms = [ln["units"] for ln in json.loads(run(capsys, path, "--format", "json", "--method", "cms")[1])["lines"]]
    assert ama == [1, 1, 2, 1] and cms == [2, 1, 2, 1]  # 40 min: 3 units, the tie to the lower code


# --- the same answers as the Excel functions -------------------------------------------------

TRICKY = [
    ["M1", DAY, "Medicare", "PT", "97112", "GP", 24, 2],
    ["M1", DAY, "Medicare", "PT", 97110, "GP", 23, 1],
    ["M2", DAY, "Medicare", "PT", "97110", "GP", 20, 1],
    ["M2", DAY, "Medicare", "PT", "97110", "GP", 20, 1],  # duplicate code in a visit
    ["M3", dt.datetime(2025, 3, 4), "Medicare", "PTA", "97530", "GP", 38, 3],  # PTA without CQ
    ["C1", DAY, "Aetna", "PT", "97110", "GP", 20, 1],
    ["C1", DAY, "Aetna", "PT", "97140", "gp", 20, 1],
    ["A1", DAY, "Medicare Advantage", "OT", "97535", "GO", 30, 2],
    [None] * 8,
    ["X1", DAY, "Medicare", "PT", "97111", "GP", 30, 2],  # unknown code
    ["X2", DAY, "Medicare", "PT", "G0283", "GP", 15, 2],  # untimed, 2 units
    ["X3", DAY, "Medicare", "PT", "97110", "GP", "abc", 1],  # bad minutes
    ["X4", "not a date", "Medicare", "PT", "97110", "GP", 30, 2],  # bad date
    ["X5", None, "Medicare", "PT", "97110", "GP", 30, 2],  # blank date
    ["X6", DAY, "Medicare", "PT", "97110", "GP", 30, "x"],  # bad billed units: rule units still counted
    ["X6", DAY, "Medicare", "PT", "97112", "GP", 8, 1],
    ["X7", DAY, "Medicare", "PT", "97150", "GP", 45, 3],  # group therapy
    ["X8", DAY, "Medicare", "DC", "97110", "", 7, 1],
    ["X9", DAY, "Cigna", "LMT", "97124", None, 60, 4],
    ["X10", dt.datetime(2019, 5, 1), "Medicare", "PT", "97110", "GP", 30, 2],
]


def excel_values(rows):
    """Cell values as COM hands them to xlwings: numbers as floats, dates as datetimes, empty as None."""
    def one(v):
        if isinstance(v, bool) or v is None or isinstance(v, (str, dt.datetime)):
            return v
        if isinstance(v, (int, float)):
            return float(v)
        return v
    return tuple(tuple(one(v) for v in r) for r in rows)


def excel_answers(header, rows, payer=None, method=None):
    """(units, check text) per data row from PT_UNITS and PT_VALIDATE, called the way Excel calls them."""
    table = excel_values([header] + rows)
    cols = map_headers(header, payer_given=bool(payer))
    checks = [r[0] for r in xh.call_as_excel("PT_VALIDATE", table, *([payer, method] if payer or method else []))]
    assert checks[0] == "Check"
    keys, methods = [], []
    first_payer: dict = {}
    for r in table[1:]:
        try:
            key = f"{_text(r[cols['patient']])}|{coerce_date(r[cols['date']]).isoformat()}"
        except LineProblem:
            key = None
        row_payer = (_text(r[cols["payer"]]) if "payer" in cols else "") or (payer or "")
        if key is not None:
            first_payer.setdefault(key, row_payer)
        keys.append(key)
    for key in keys:
        methods.append(unit_method(first_payer.get(key, ""), method))
    col = lambda c: tuple((r[cols[c]],) for r in table[1:])  # noqa: E731  (one column, ndim=2)
    asst = col("assistant_minutes") if "assistant_minutes" in cols else xh.MISSING
    by_method = {m: [u[0] for u in xh.call_as_excel("PT_UNITS", col("minutes"), col("code"), m,
                                                        tuple((k,) for k in keys), col("modifiers"), asst,
                                                        col("date"))]
                 for m in ("CMS", "AMA")}
    units = [by_method[m][i] if isinstance(by_method[m][i], int) else None for i, m in enumerate(methods)]
    return units, checks[1:]


def assert_same_as_excel(doc, header, rows, payer=None, method=None):
    units, checks = excel_answers(header, rows, payer, method)
    lines = doc["lines"]
    assert len(lines) == len(rows)
    for ln, u, text in zip(lines, units, checks):
        assert ln["units"] == u, (ln, u)
        mine = ("; ".join(ln["findings"]) or "OK") if text else ""
        assert mine == text, (ln, text)



def write_log(tmp_path, kind: str, header, rows):
    """The log as an xlsx with a SessionLog table, or as a CSV."""
    if kind == "xlsx":
        return write_xlsx(tmp_path / "log.xlsx", header, rows, table="SessionLog")
    return write_csv(tmp_path / "log.csv", header, rows)

@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_units_and_findings_are_those_of_pt_units_and_pt_validate(tmp_path, capsys, kind):
    """Every row's units and findings equal PT_UNITS and PT_VALIDATE through xlwings' own conversion."""
    path = write_log(tmp_path, kind, HEADER, TRICKY)
    code, out, _ = run(capsys, path, "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert_same_as_excel(doc, HEADER, TRICKY)
    assert doc["lines"][8] == {"row": 10, "units": None, "findings": []}  # the blank row
    assert doc["lines"][14]["units"] == 2 and doc["lines"][15]["units"] == 1  # row with bad Units still counted


ASSISTED_HEADER = HEADER + ["Assistant Minutes"]
Y2021 = dt.datetime(2021, 6, 1)
ASSISTED = [
    ["Q1", Y2021, "Medicare", "PTA", "97110", "GP CQ", 23, 2, None],  # CMS #1 in 2021: CQ x2
    ["Q1", Y2021, "Medicare", "PT", "97110", "GP", 13, 0, None],
    ["Q1", Y2021, "Medicare", "PT", "97140", "GP", 30, 2, None],
    ["Q2", DAY, "Medicare", "PTA", "97110", "GP CQ", 23, 2, None],  # #1 in 2025: 1 and 1 (billed 2/0)
    ["Q2", DAY, "Medicare", "PT", "97110", "GP", 13, 0, None],
    ["Q2", DAY, "Medicare", "PT", "97140", "GP", 30, 2, None],
    ["Q3", DAY, "Medicare", "PT", "97110", "GP", 18, 1, 10],  # one line: PTA 10 + PT 8
    ["Q4", DAY, "Medicare", "OTA", "97150", "GO CO", 20, 1, None],  # #F, billed twice
    ["Q4", DAY, "Medicare", "OT", "97150", "GO", 20, 1, None],
    ["Q5", DAY, "Medicare", "PT", "97110", "GP", 10, 1, 12],  # more assistant minutes than the line's
]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_assistant_visits_units_and_findings_are_those_of_pt_units_and_pt_validate(tmp_path, capsys, kind):
    """The CQ/CO split (dated, two-line and one-line shapes, group) is the same in check as in PT_UNITS/PT_VALIDATE."""
    path = write_log(tmp_path, kind, ASSISTED_HEADER, ASSISTED)
    code, out, _ = run(capsys, path, "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert_same_as_excel(doc, ASSISTED_HEADER, ASSISTED)
    units = [ln["units"] for ln in doc["lines"]]
    assert units[:9] == [2, 0, 2, 1, 1, 2, 1, 1, 0]
    assert doc["lines"][3]["findings"][0].startswith("ERROR UNITS-ASSISTANT-SPLIT")
    assert doc["lines"][8]["findings"][0].startswith("ERROR GROUP-UNITS")
    assert doc["lines"][9]["findings"][0].startswith("ERROR INPUT: Assistant Minutes cell")


def test_same_as_excel_with_payer_and_method_arguments(tmp_path, capsys):
    """--payer and --method mean what PT_VALIDATE's payer and method arguments mean."""
    header = [h for h in HEADER if h != "Payer"]
    rows = [[v for h, v in zip(HEADER, r) if h != "Payer"] for r in TRICKY]
    path = write_xlsx(tmp_path / "log.xlsx", header, rows)
    for payer, method in (("Medicare", None), ("BCBS", "CMS"), ("Medicare Advantage", "AMA")):
        code, out, _ = run(capsys, path, "--format", "json", "--payer", payer, *(["--method", method] if method else []))
        assert code == 1
        assert_same_as_excel(json.loads(out), header, rows, payer, method)


def test_sample_log_is_checked_like_excel_would(capsys):
    """The bundled sample: units and findings equal PT_UNITS/PT_VALIDATE on its SessionLog table."""
    wb = openpyxl.load_workbook(SAMPLE)
    ws = wb["Session Log"]
    ref = ws.tables["SessionLog"].ref
    table = [[c.value for c in row] for row in ws[ref]]
    header, rows = table[0], table[1:]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    code, out, _ = run(capsys, SAMPLE, "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["summary"]["table"] == "SessionLog"
    header_row = int(re.search(r"\d+", ref).group())
    assert doc["lines"][0]["row"] == header_row + 1 and len(doc["lines"]) == len(rows)
    assert_same_as_excel(doc, header, rows)


# --- what is read --------------------------------------------------------------------------

def test_first_sheet_with_headers_is_read_when_there_is_no_table(tmp_path, capsys):
    """No SessionLog table: the first sheet whose first non-empty row has the headers, rows as in Excel."""
    path = write_xlsx(tmp_path / "log.xlsx", HEADER, WITH_ERROR, origin="C4",
                      before=[("Cover", [["Clinic log, March"], ["Patient", "Date"]])])
    code, out, _ = run(capsys, path, "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["summary"]["sheet"] == "Log" and doc["summary"]["table"] is None
    assert [ln["row"] for ln in doc["lines"]] == [5, 6, 7, 8]


def test_formula_in_an_input_cell_is_an_error_on_its_row_and_other_formulas_are_ignored(tmp_path, capsys):
    """Cached formula results are never trusted: a formula in Minutes is an INPUT error; one in Notes is not."""
    header = HEADER + ["Notes"]
    rows = [r + [None] for r in CLEAN]
    rows[0][6] = "=20+4"
    rows[1][8] = '=CONCAT("a","b")'
    path = write_xlsx(tmp_path / "log.xlsx", header, rows)
    code, out, _ = run(capsys, path, "--format", "json")
    lines = json.loads(out)["lines"]
    assert code == 1
    assert lines[0]["findings"][0].startswith("ERROR INPUT: Minutes cell holds a formula")
    assert lines[0]["units"] is None
    # 97110's 23 minutes are alone in the visit now (the formula row is out): 2 units, 1 billed
    assert judged(lines[1]) == {"row": 3, "units": 2, "findings": ["WARN UNITS-UNDER: 23 timed min allow 2 units, 1 billed "
                                                                "— bill 2"]}  # and no finding for the Notes formula


def array_formula_log(tmp_path: Path) -> Path:
    """CLEAN with Minutes of rows 2-3 filled by one array formula (its anchor cell alone holds <f>)."""
    from openpyxl.worksheet.formula import ArrayFormula

    path = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN)
    wb = openpyxl.load_workbook(path)
    wb["Log"]["G2"] = ArrayFormula("G2:G3", "={24;23}")
    wb.save(path)
    return path


def test_an_array_formula_makes_every_cell_of_its_range_an_input_error(tmp_path, capsys):
    """The cells an array formula fills carry no <f> of their own but are still formula results."""
    code, out, _ = run(capsys, array_formula_log(tmp_path), "--format", "json")
    lines = json.loads(out)["lines"]
    assert code == 1
    assert [ln["findings"][:1] != [] and ln["findings"][0].startswith("ERROR INPUT: Minutes cell holds a formula")
            for ln in lines] == [True, True, False]


def test_openpyxl_reads_when_calamine_fails_and_says_so(tmp_path, capsys, monkeypatch):
    """If python-calamine cannot read a sheet, openpyxl does, with a note; formulas are still found."""
    import python_calamine

    def broken(*a, **k):
        raise python_calamine.CalamineError("simulated failure")
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", broken)
    code, out, err = run(capsys, write_xlsx(tmp_path / "plain.xlsx", HEADER, WITH_ERROR), "--format", "json")
    assert code == 1 and "note:" in err and "simulated failure" in err and "openpyxl" in err
    assert [ln["units"] for ln in json.loads(out)["lines"]] == [2, 1, 2, 1]
    code, out, _ = run(capsys, array_formula_log(tmp_path), "--format", "json")
    assert [bool(ln["findings"]) for ln in json.loads(out)["lines"]] == [True, True, False]


def test_xlsm_and_semicolon_csv_and_cp1252_are_read(tmp_path, capsys):
    """An .xlsm is a workbook; a ;-separated Windows-1252 CSV is read with a note."""
    xlsm = write_xlsx(tmp_path / "log.xlsm", HEADER, CLEAN)
    assert run(capsys, xlsm)[0] == 0
    path = tmp_path / "log.csv"
    text = ";".join(HEADER) + "\r\n" + "Jos\xe9;2025-03-03;Medicare;PT;97110;GP;30;2\r\n"
    path.write_bytes(text.encode("cp1252"))
    code, out, err = run(capsys, path, "--format", "json")
    assert code == 0 and "Windows-1252" in err
    assert [judged(ln) for ln in json.loads(out)["lines"]] == [{"row": 2, "units": 2, "findings": []}]
    assert json.loads(out)["lines"][0]["patient"] == "Jos\xe9"


# --- bad input: one line, exit 2, nothing written ---------------------------------------------

def test_missing_file(tmp_path, capsys):
    """A file that does not exist."""
    assert_refused(*run(capsys, tmp_path / "nope.xlsx"), "no such file")


def test_directory(tmp_path, capsys):
    """A folder instead of a file."""
    assert_refused(*run(capsys, tmp_path), "folder")


@pytest.mark.parametrize("name, data", [
    ("log.xlsx", b"Patient,Date\nP1,2025-01-01\n"),
    ("log.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
    ("log.dat", bytes(range(256)) * 4),
    ("log.csv", b"\x00\x01\x02binary\x00" * 100),
    ("log.xlsx", b""),
])
def test_file_that_is_not_a_workbook(tmp_path, capsys, name, data):
    """Text or binary that is not an .xlsx, not a CSV, or empty."""
    path = tmp_path / name
    path.write_bytes(data)
    before = digest(path)
    code, out, err = run(capsys, path)
    assert_refused(code, out, err, name)
    assert re.search(r"not a workbook|empty", err)
    assert digest(path) == before


def test_truncated_zip(tmp_path, capsys):
    """A workbook cut off in the middle (an interrupted download)."""
    good = write_xlsx(tmp_path / "good.xlsx", HEADER, CLEAN).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good[: len(good) // 2])
    assert_refused(*run(capsys, path), "damaged or truncated")


def test_encrypted_workbook(tmp_path, capsys):
    """A password-protected workbook (an OLE2 container with EncryptionInfo) says so."""
    path = tmp_path / "secret.xlsx"
    path.write_bytes(cfb({"EncryptionInfo": b"\x04\x00\x04\x00" + b"x" * 200, "EncryptedPackage": os.urandom(5000)}))
    assert_refused(*run(capsys, path), "encrypted", "password")


def test_legacy_xls_workbook(tmp_path, capsys):
    """An Excel 97-2003 .xls (OLE2 with a Workbook stream): save as .xlsx."""
    path = tmp_path / "old.xls"
    path.write_bytes(cfb({"Workbook": b"\x09\x08" + b"\0" * 100}))
    assert_refused(*run(capsys, path), ".xls", "save it from Excel as .xlsx")


def test_sheet_without_the_headers(tmp_path, capsys):
    """No table and no sheet with a header row: the refusal names each sheet and what its top holds."""
    path = write_xlsx(tmp_path / "log.xlsx", ["Name", "When", "What"], [["a", DAY, "b"]])
    assert_refused(*run(capsys, path), "no sheet has a session-log header row", "first 30 rows",
                   "sheet 'Log': no row names a known column; first row: Name, When, What")


def test_csv_without_the_headers(tmp_path, capsys):
    """A CSV with no header row in its first 30 rows: the refusal says what its first row holds."""
    path = write_csv(tmp_path / "log.csv", ["Report", "March"], [["x", "y"]])
    assert_refused(*run(capsys, path), "no session-log header row", "first 30 rows", "first row: Report, March")


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                             for i in range(1, 10)) + b"]>")


def laughing(src: Path, dst: Path, member: str) -> Path:
    def change(name, data):
        if name != member:
            return data
        data = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", data)
        return BILLION_LAUGHS + data.replace(b"<t>P1</t>", b"<t>&lol9;</t>", 1)
    return rezip(src, dst, change)


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/sharedStrings.xml"])
def test_xml_bomb_is_refused_quickly(tmp_path, capsys, member):
    """A billion-laughs part (sheet, workbook or shared strings) is refused before any parser expands it."""
    src = _with_shared_strings(write_xlsx(tmp_path / "good.xlsx", HEADER, CLEAN), tmp_path / "sst.xlsx")
    assert run(capsys, src)[0] == 0  # the file is sound but for the bomb added below
    bomb = laughing(src, tmp_path / "bomb.xlsx", member)
    t = time.perf_counter()
    assert_refused(*run(capsys, bomb), "DTD", "XML bomb", member)
    assert time.perf_counter() - t < 2


def _with_shared_strings(src: Path, dst: Path) -> Path:
    """openpyxl writes inline strings; move P1 into a shared-strings part, as Excel would keep it."""
    def change(name, data):
        if name == "xl/worksheets/sheet1.xml":
            return data.replace(b'<c r="A2" t="inlineStr"><is><t>P1</t></is></c>', b'<c r="A2" t="s"><v>0</v></c>')
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats'
                                b'.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                b"</Relationships>")
        return data
    rezip(src, dst, change)
    with zipfile.ZipFile(dst, "a") as z:
        z.writestr("xl/sharedStrings.xml", b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                   b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>P1</t></si></sst>')
    return dst


def test_xml_bomb_is_refused_by_openpyxl_and_calamine_too(tmp_path):
    """Even past the prolog check, both readers refuse the bomb fast (defusedxml, no entity expansion)."""
    import openpyxl.xml
    from python_calamine import CalamineWorkbook

    assert openpyxl.xml.DEFUSEDXML  # defusedxml is installed, so openpyxl parses through it
    bomb = laughing(write_xlsx(tmp_path / "good.xlsx", HEADER, CLEAN), tmp_path / "bomb.xlsx",
                    "xl/worksheets/sheet1.xml")
    t = time.perf_counter()
    with pytest.raises(UnusableLog):
        log_reader._openpyxl_rows(bomb, "bomb.xlsx", "Log", None)
    with pytest.raises(Exception) as e:
        CalamineWorkbook.from_path(str(bomb)).get_sheet_by_name("Log").to_python()
    assert "entity" in str(e.value).lower()
    assert time.perf_counter() - t < 2


@pytest.mark.parametrize("entries, mib, words", [(1, 64, "xl/media/image1.bin"), (12, 9, "entries would expand")])
def test_zip_bomb_is_refused_by_its_declared_size(tmp_path, capsys, entries, mib, words):
    """Entries expanding ~1000x (one big, or many under the per-entry size) are refused from the zip directory."""
    src = write_xlsx(tmp_path / "good.xlsx", HEADER, CLEAN)
    bomb = rezip(src, tmp_path / "bomb.xlsx", lambda n, d: d)
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as z:
        for k in range(1, entries + 1):
            z.writestr(f"xl/media/image{k}.bin", b"\0" * (mib * 1024 ** 2))  # zeros deflate ~1000x
    t = time.perf_counter()
    assert_refused(*run(capsys, bomb), "zip bomb", words)
    assert time.perf_counter() - t < 1


def test_zip_declaring_gigabytes_is_refused_before_reading(tmp_path, capsys):
    """A central directory claiming 3 GiB is refused on the claim alone (and a lie would fail the CRC)."""
    src = write_xlsx(tmp_path / "good.xlsx", HEADER, CLEAN)
    data = bytearray(src.read_bytes())
    j = data.find(b"PK\x01\x02")
    while j >= 0:
        n = struct.unpack("<H", data[j + 28:j + 30])[0]
        if data[j + 46:j + 46 + n] == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, j + 24, 3 * 1024 ** 3)
        j = data.find(b"PK\x01\x02", j + 4)
    path = tmp_path / "claims.xlsx"
    path.write_bytes(bytes(data))
    assert_refused(*run(capsys, path), "zip bomb")


def test_huge_declared_dimension_is_read_fast_by_calamine(tmp_path, capsys):
    """<dimension ref="A1:XFD1048576"> and a formatted empty cell at the far corner: quick, via calamine."""
    def change(name, data):
        if name == "xl/worksheets/sheet1.xml":
            data = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', data)
            data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>')
        return data
    path = rezip(write_xlsx(tmp_path / "src.xlsx", HEADER, WITH_ERROR), tmp_path / "big.xlsx", change)
    assert b"A1:XFD1048576" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    t = time.perf_counter()
    log = read_log(path)
    assert time.perf_counter() - t < 2
    assert log.reader == "calamine" and len(log.rows) == 4 and not log.notes


MEMORY_PROBE = """
import resource, sys, time
sys.path.insert(0, {addin!r})
from ptbilling.logs.reader import read_log
t = time.perf_counter()
log = read_log({path!r})
print(log.reader, len(log.rows), time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def test_mostly_empty_sheet_with_a_far_value_is_read_in_bounded_time_and_memory(tmp_path, capsys):
    """A stray value in XFD1048576 would make calamine's dense grid ~17 billion cells: openpyxl streams it."""
    def change(name, data):
        if name == "xl/worksheets/sheet1.xml":
            data = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', data)
            data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t>'
                                b"</is></c></row></sheetData>")
        return data
    path = rezip(write_xlsx(tmp_path / "src.xlsx", HEADER, WITH_ERROR), tmp_path / "far.xlsx", change)
    probe = subprocess.run([sys.executable, "-c", MEMORY_PROBE.format(addin=str(ADDIN), path=str(path))],
                           capture_output=True, text=True, timeout=120)
    reader, n, seconds, rss_mb = probe.stdout.split()
    assert reader == "openpyxl" and int(n) == 4
    assert float(seconds) < 20 and int(rss_mb) < 400, probe.stdout
    code, out, err = run(capsys, path)
    assert code == 1 and "note:" in err and "openpyxl" in err and "UNITS-OVER" in out


def fast_csv(path: Path, n: int, bad_last: bool = False) -> Path:
    """A CSV log of n data rows, written quickly: 2-line visits with units by the rule, then one last line.

    The bulk is a commercial payer (per-code units: 24 and 23 min are 2 units each), whose
    lines skip the Medicare-only pricing and KX work, to keep the million-row test short.
    """
    pair = "P{0},2025-03-{1:02d},Aetna,PT,97112,GP,24,2\nP{0},2025-03-{1:02d},Aetna,PT,97110,GP,23,2\n"
    pairs, odd = divmod(n - 1, 2)
    with open(path, "w", encoding="ascii", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        for k in range(pairs):
            f.write(pair.format(k % 50_000, 1 + k // 50_000))
        if odd:
            f.write("Y1,2025-03-01,Medicare,PT,97110,GP,20,1\n")
        f.write(f"Z1,2025-03-01,Medicare,PT,97110,GP,20,{3 if bad_last else 1}\n")
    return path


def test_a_full_1048576_row_log_is_checked_not_refused(tmp_path):
    """1,048,576 data rows: read, checked, and the last row's finding is on CSV row 1,048,577."""
    n = 1_048_576
    with pytest.raises(UnusableLog, match="more than 1,048,576 rows"):
        read_log(fast_csv(tmp_path / "over.csv", n + 1))
    log, result = check_command.check_path(fast_csv(tmp_path / "max.csv", n, bad_last=True))
    assert len(log.rows) == n and log.row_number(n - 1) == n + 1
    s = result.summary
    assert s["lines"] == n and s["visits"] == (n - 1) // 2 + 2
    assert s["errors"] == 1 and s["rules"] == {"UNITS-OVER": 1}
    assert [str(f) for f in result.findings[-1]] == ["ERROR UNITS-OVER: 20 timed min allow 1 unit, 3 billed — bill 1"]
    assert s["units"] == 4 * ((n - 1) // 2) + 1 + 1


# --- the report workbook --------------------------------------------------------------------

def test_out_writes_lines_and_summary_sheets(tmp_path, capsys):
    """--out: a Lines sheet (inputs, rule units, check), Medicare totals and a per-rule Summary sheet."""
    src = write_xlsx(tmp_path / "log.xlsx", HEADER, WITH_ERROR)
    out = tmp_path / "report.xlsx"
    code, text, _ = run(capsys, src, "--out", out)
    assert code == 1 and out.is_file() and f"Report written to {out}" in text
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Lines", "Medicare totals", "Summary"]
    rows = list(wb["Lines"].iter_rows(values_only=True))
    assert rows[0] == ("Row", *HEADER, "Units (rule)", "Check")
    assert rows[1] == (2, "P1", DAY, "Medicare", "PT", "97112", "GP", 24, 2, 2, "OK")
    assert rows[4][0] == 5 and rows[4][-2] == 1 and rows[4][-1].startswith("ERROR UNITS-OVER")
    summary = {r[0]: r for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Errors"][1] == 1 and summary["Visits"][1] == 3
    assert summary["UNITS-OVER"][1:3] == ("ERROR", 1) and summary["UNITS-UNDER"][1:3] == ("WARN", 0)


def test_out_refuses_an_existing_file_unless_force(tmp_path, capsys):
    """An existing report is kept (exit 2) unless --force, which replaces it."""
    src = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN)
    out = tmp_path / "report.xlsx"
    out.write_bytes(b"keep me")
    assert_refused(*run(capsys, src, "--out", out), "exists", "--force")
    assert out.read_bytes() == b"keep me"
    assert run(capsys, src, "--out", out, "--force")[0] == 0
    assert openpyxl.load_workbook(out).sheetnames == ["Lines", "Medicare totals", "Summary"]


def test_out_never_overwrites_the_input(tmp_path, capsys):
    """--out naming the input (directly, via ./, or a hard link) is refused even with --force."""
    src = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN)
    before = digest(src)
    link = tmp_path / "link.xlsx"
    os.link(src, link)
    for target in (src, tmp_path / "." / "log.xlsx", link):
        assert_refused(*run(capsys, src, "--out", target, "--force"), "input file")
    assert digest(src) == before


@pytest.mark.parametrize("target, words", [("report.csv", ".xlsx"), ("no/such/dir/r.xlsx", "does not exist")])
def test_out_bad_names(tmp_path, capsys, target, words):
    """--out must be an .xlsx in an existing folder."""
    src = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN)
    assert_refused(*run(capsys, src, "--out", tmp_path / target), words)


def test_out_is_written_atomically(tmp_path, capsys, monkeypatch):
    """The report goes to a temp file in the same folder, then os.replace; a failure leaves the old file."""
    src = write_xlsx(tmp_path / "log.xlsx", HEADER, CLEAN)
    out = tmp_path / "report.xlsx"
    out.write_bytes(b"old report")
    moves = []
    real_replace = os.replace

    def failing(a, b):
        moves.append((Path(a), Path(b)))
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(report.os, "replace", failing)
    assert_refused(*run(capsys, src, "--out", out, "--force"), "cannot be written", "No space left")
    assert out.read_bytes() == b"old report"
    assert moves[0][0].parent.parent == out.parent and moves[0][1] == out  # in the hidden work folder beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.xlsx", "report.xlsx"]  # no temp file left

    def recording(a, b):
        moves.append((Path(a), Path(b)))
        assert zipfile.is_zipfile(a)  # complete before it takes the name
        return real_replace(a, b)
    monkeypatch.setattr(report.os, "replace", recording)
    assert run(capsys, src, "--out", out, "--force")[0] == 0
    assert moves[-1][1] == out and moves[-1][0].parent.parent == out.parent
    assert openpyxl.load_workbook(out).sheetnames == ["Lines", "Medicare totals", "Summary"]


def test_csv_injection_is_written_as_text(tmp_path, capsys):
    """Text starting with = + - @ tab or CR stays text in the report: a str, never a formula."""
    nasty = ['=HYPERLINK("http://x.example","click")', "+1+2", "-3+4", "@SUM(A1:A9)", "\tcmd", "\r=1+1"]
    header = HEADER + ["Notes"]
    rows = [["P1", DAY, "Medicare", "PT", "97110", "GP", 30, 2, n] for n in nasty]
    rows[0][0] = "=2+3"  # in an input column too
    src = write_csv(tmp_path / "export.csv", header, rows)
    out = tmp_path / "report.xlsx"
    run(capsys, src, "--out", out)
    ws = openpyxl.load_workbook(out)["Lines"]
    got = [ws.cell(2 + i, 10).value for i in range(len(nasty))]
    # a CR is stored as OOXML's escape _x000D_, which Excel decodes (openpyxl shows it as is)
    assert got == nasty[:5] + ["_x000D_=1+1"]
    for i in range(len(nasty)):
        cell = ws.cell(2 + i, 10)
        assert isinstance(cell.value, str) and cell.data_type == "s"
    assert ws.cell(2, 2).value == "=2+3" and ws.cell(2, 2).data_type == "s"
    sheet_xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_input_file_is_never_written(tmp_path, capsys, kind):
    """The input's bytes and modification time are the same after text, JSON and --out runs."""
    src = write_log(tmp_path, kind, HEADER, WITH_ERROR)
    before = digest(src)
    run(capsys, src)
    run(capsys, src, "--format", "json", "--out", tmp_path / "r.xlsx")
    run(capsys, src, "--out", tmp_path / "r.xlsx", "--force")
    assert digest(src) == before


# --- progress ------------------------------------------------------------------------------

class _Stream:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        if self.tty is None:
            raise ValueError("I/O operation on closed file")
        return self.tty


def test_progress_only_over_10000_rows_on_a_terminal():
    """The bar shows for more than 10,000 rows and only when stderr is a terminal."""
    assert check_command.want_progress(10_001, _Stream(True))
    assert not check_command.want_progress(10_000, _Stream(True))
    assert not check_command.want_progress(10_001, _Stream(False))
    assert not check_command.want_progress(10_001, _Stream(None))
    assert not check_command.want_progress(10_001, object())


def _run_with_stderr(argv, tty: bool) -> tuple[int, bytes]:
    import pty

    env = dict(os.environ, PYTHONPATH=str(ADDIN), COLUMNS="100", TERM="xterm")
    if not tty:
        p = subprocess.run([sys.executable, "-m", "ptbilling", *argv], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=120)
        return p.returncode, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "ptbilling", *argv], env=env, stdout=subprocess.DEVNULL,
                         stderr=slave)
    os.close(slave)
    chunks = []

    def pump():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)
    reader = threading.Thread(target=pump)
    reader.start()
    code = p.wait(timeout=120)
    reader.join(timeout=10)
    os.close(master)
    return code, b"".join(chunks)


def test_progress_bar_on_a_pty_and_not_on_a_pipe(tmp_path):
    """Through a real pseudo-terminal the bar is drawn on stderr; through a pipe stderr stays empty."""
    path = fast_csv(tmp_path / "log.csv", 10_002)
    code, shown = _run_with_stderr(["check", str(path)], tty=True)
    assert code == 0 and (b"Reading rows" in shown or b"Checking rules" in shown), shown[:300]
    code, piped = _run_with_stderr(["check", str(path)], tty=False)
    assert code == 0 and piped == b""
    small = fast_csv(tmp_path / "small.csv", 10_000)
    code, shown = _run_with_stderr(["check", str(small)], tty=True)
    assert code == 0 and shown == b""


# --- the faster coercion is the plain one ------------------------------------------------------

def reference_read_rows(rows, cols, payer=None):
    """session_log.read_rows as first written: every cell coerced on its own."""
    default_payer = _text(payer)
    lines, problems = [], {}
    get_payer, get_asst, get_prior = cols.get("payer"), cols.get("assistant_minutes"), cols.get("prior_allowed")
    width = max(cols.values()) + 1
    for i, row in enumerate(rows):
        if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            lines.append(None)
            continue
        if len(row) < width:
            row = list(row) + [None] * (width - len(row))
        field = "Patient"
        try:
            patient = _text(row[cols["patient"]])
            if not patient:
                raise LineProblem("blank (a line without a patient cannot be put into a visit)")
            if patient in EXCEL_ERRORS:
                raise LineProblem(f"holds the Excel error {patient} (from a formula or lookup), not a patient")
            field = "Date"
            dos = coerce_date(row[cols["date"]])
            field = "Code"
            code = normalize_code(row[cols["code"]])
            if code is None:
                raise LineProblem("code is blank")
            field = "Minutes"
            minutes = coerce_minutes(row[cols["minutes"]])
            field = "Units"
            units = coerce_units(row[cols["units"]])
            field = "Assistant Minutes"
            asst = coerce_minutes(row[get_asst]) if get_asst is not None else None
            if asst is not None and minutes is not None and asst > minutes:
                raise LineProblem(f"{asst} assistant minutes exceed the line's {minutes} minutes")
            field = "Prior Allowed"
            prior = coerce_amount(row[get_prior]) if get_prior is not None else None
        except LineProblem as e:
            problems[i] = Finding(i, ERROR, "INPUT", f"{field} cell: {e} — correct it")
            lines.append(None)
            continue
        line_payer = _text(row[get_payer]) if get_payer is not None else ""
        lines.append(ClaimLine(
            index=i, patient=patient, dos=dos, payer=line_payer or default_payer,
            provider=_text(row[cols["provider"]]).upper(), code=code, modifiers=parse_modifiers(row[cols["modifiers"]]),
            minutes=minutes, units=units, assistant_minutes=asst, prior_allowed=prior,
            has_assistant_column=get_asst is not None))
    return lines, problems


CELL = st.one_of(
    st.none(), st.booleans(), st.sampled_from(["", " ", "#N/A", "abc", "97110", "g0283", "GP CQ", "30", "7.5", "-3", "2025-03-03",
                                                "3/4/2025", "$1,234.50", "1e3", "nan", "PTA", "Medicare"]),
    st.integers(-5, 2000), st.sampled_from([0.0, -0.0, 1.0, 30.0, 7.5, 97110.0, 45663.0, 1e20, float("nan")]),
    st.sampled_from([dt.datetime(2025, 3, 3), dt.datetime(2025, 3, 3, 10, 30), dt.date(2024, 1, 2), dt.time(0, 30)]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(CELL, min_size=0, max_size=11), max_size=25))
def test_read_rows_gives_what_plain_coercion_gives(rows):
    """The remembered, short-path coercion equals coercing every cell on its own, finding for finding."""
    header = HEADER + ["Assistant Minutes", "Prior Allowed"]
    cols = map_headers(header)
    repeated = rows + rows[::-1]  # repeats: the memo must hand back what it would compute
    parsed = read_rows(repeated, cols, "Medicare")
    lines, problems = reference_read_rows(repeated, cols, "Medicare")
    assert parsed.lines == lines
    assert parsed.problems == problems


def test_summary_reports_each_medicare_patients_year_totals(tmp_path, capsys):
    """The text and JSON summaries list each Medicare patient's allowed total per year and KX bucket."""
    import json

    from ptbilling.cli.main import main

    log = tmp_path / "kx.csv"
    log.write_text("Patient,Date,Payer,Provider,Code,Modifiers,Minutes,Units,Prior Allowed\n"
                   "P1,2025-03-03,Medicare,PT,97110,GP,15,1,2400\n"
                   "P2,2025-03-03,Medicare,OT,97530,GO,15,1,\n"
                   "P3,2025-03-03,Aetna,PT,97110,,15,1,\n")
    assert main(["check", str(log), "--format", "json"]) == 1  # P1 passes the KX threshold without KX
    doc = json.loads(capsys.readouterr().out)
    totals = {(t["patient"], t["bucket"]): t for t in doc["summary"]["medicare_totals"]}
    assert set(totals) == {("P1", "PT+SLP"), ("P2", "OT")}
    assert totals[("P1", "PT+SLP")]["allowed"] == 2428.79 and totals[("P1", "PT+SLP")]["past_kx"] is True
    assert totals[("P2", "OT")]["allowed"] == 34.61 and totals[("P2", "OT")]["past_kx"] is False
    main(["check", str(log)])
    text = capsys.readouterr().out
    assert "Medicare allowed per patient" in text and "$2,428.79" in text and "needs KX" in text


@pytest.mark.parametrize("field", ["date", "prior allowed"])
def test_an_int_past_floats_range_is_a_cell_problem_not_an_internal_error(field):
    """openpyxl reads a 400-digit cell as an int that no float holds: the cell is refused with its value."""
    from ptbilling.logs.cells import coerce_amount, coerce_date
    from ptbilling.rules.service_units import LineProblem

    with pytest.raises(LineProblem, match="not a date" if field == "date" else "not an amount"):
        (coerce_date if field == "date" else coerce_amount)(10 ** 400)
