"""The JSON writer (``cli.check.json_text``) gives exactly ``json.dumps(json_document(...), ensure_ascii=False)``.

The writer joins per-column pieces, each distinct value encoded once, instead of
building one dict per row; the dict document stays as the oracle. Compared on
many seeded random documents: quotes, backslashes, control characters,
non-ASCII and astral text, empty and many findings, blank rows, rows that could
not be read (their cells given as text), no rows at all, and on whole checks of
generated logs through ``check_log``.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import random
from pathlib import Path

import pytest

from ptbilling.cli import check as check_command
from ptbilling.logs.check import LogCheck, check_log
from ptbilling.logs.reader import LogData
from ptbilling.rules.claim_lines import ClaimLine
from ptbilling.rules.findings import ERROR, WARN, Finding

NASTY = ['"', "\\", "\\\"", "\x00", "\x01", "\x1f", "\x7f", "\n", "\r\t", "é", "Müller", "李", "😀", "\u2028",
         "\ud7ff", "</script>", "'", "", " ", "null", "[]", "{}", ", \"units\": 1"]


def _text(rnd: random.Random, short: bool = False) -> str:
    parts = [rnd.choice(NASTY) if rnd.random() < 0.4 else rnd.choice(["P1", "Medicare", "PT", "97110", "x"])
             for _ in range(rnd.randint(0, 2 if short else 4))]
    return "".join(parts)


def _random_check(rnd: random.Random) -> tuple[LogData, LogCheck]:
    n = rnd.choice([0, 1, 2, 5, 30, 200])
    header = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"]
    cols = {"patient": 0, "date": 1, "payer": 2, "provider": 3, "code": 4, "modifiers": 5, "minutes": 6, "units": 7}
    pool = {k: [_text(rnd, short=True) for _ in range(rnd.randint(1, 6))] for k in cols}
    lines: list = []
    rows: list = []
    blank: list = []
    units: list = []
    findings: list = []
    for i in range(n):
        kind = rnd.choices(["line", "blank", "unread"], [6, 1, 2])[0]
        # a raw row, as a sheet gives it: text, numbers, floats, dates, None, Excel errors
        row = [rnd.choice([rnd.choice(pool[k]), None, 3.0, 2.5, -0.0, 7, True, dt.datetime(2025, 1, 2),
                           dt.date(2024, 12, 31), "#N/A", "GP, 59 cq"]) for k in cols]
        if rnd.random() < 0.1:
            row = row[:rnd.randint(0, len(row))]  # a short row (a CSV)
        rows.append(row)
        if kind == "line":
            mods = tuple(rnd.choice(["GP", "CQ", "59", "KX", "é", '"', "\\"]) for _ in range(rnd.randint(0, 3)))
            lines.append(ClaimLine(i, rnd.choice(pool["patient"]), dt.date(rnd.randint(1900, 9999), rnd.randint(1, 12),
                                   rnd.randint(1, 28)), rnd.choice(pool["payer"]), rnd.choice(pool["provider"]),
                                   rnd.choice(pool["code"]), mods, rnd.randint(0, 90), rnd.randint(0, 8)))
        else:
            lines.append(None)
        blank.append(kind == "blank")
        units.append(rnd.choice([None, 0, 1, 4, 96, -1, 10 ** 20]))
        fs = [Finding(i, rnd.choice([ERROR, WARN]), rnd.choice(["INPUT", "UNITS-OVER", 'Q"UOTE']), _text(rnd))
              for _ in range(rnd.choice([0, 0, 0, 1, 2, 5]))]
        findings.append(fs)
    result = LogCheck(units, findings, blank, _summary(rnd), lines, rows, cols, list(range(8)))
    log = LogData(Path(f"/tmp/{_text(rnd)}log.xlsx"), "xlsx", header, rows, rnd.randint(2, 40),
                  rnd.choice([None, "Log", 'She"et é']), rnd.choice([None, "SessionLog"]),
                  sheets_found=[("Log", 8)] if rnd.random() < 0.5 else [])
    return log, result


def _summary(rnd: random.Random) -> dict:
    odd_rule = _text(rnd) or "X"
    return {"visits": rnd.randint(0, 9), "lines": 3, "units": 4, "errors": 1, "warnings": 0, "rows_with_errors": 1,
            "rules": {"UNITS-OVER": 1, odd_rule: 2}, "rule_severity": {"UNITS-OVER": ERROR, odd_rule: WARN},
            "medicare_totals": [{"patient": _text(rnd), "year": 2025, "bucket": "PT/SLP", "allowed": 1234.5,
                                 "kx_threshold": 2410.0, "past_kx": False, "past_review": False}],
            "columns": {"used": [{"column": _text(rnd), "field": "Patient"}], "ignored": [], "notes": [_text(rnd)]},
            "payers": [], "missing_data": [_text(rnd)]}


def _oracle(log, result, payer=None, method=None) -> str:
    return json.dumps(check_command.json_document(log, result, payer, method), ensure_ascii=False)


@pytest.mark.parametrize("seed", range(300))
def test_random_documents(seed):
    rnd = random.Random(seed)
    log, result = _random_check(rnd)
    payer, method = rnd.choice([(None, None), ("Médicare \"B\"", "AMA")])
    want = _oracle(log, result, payer, method)
    assert check_command.json_text(log, result, payer, method) == want
    out = io.StringIO()
    check_command.write_json(log, result, payer, method, out)
    assert out.getvalue() == want + "\n"


def test_a_check_without_its_lines_gives_every_row_the_short_form():
    rnd = random.Random(5)
    log, result = _random_check(rnd)
    while not result.units:
        log, result = _random_check(rnd)
    for gone in ("lines", "rows", "cols"):
        other = LogCheck(**{**result.__dict__, gone: None})
        assert check_command.json_text(log, other) == _oracle(log, other)


@pytest.mark.parametrize("odd", ["bool units", "float units", "datetime dos", "numeric modifiers", "short lines"])
def test_values_the_pieces_cannot_stand_for_take_the_document_path(odd):
    """Values read_rows never gives (True and 1 would be one memo key, a datetime encodes with a time)."""
    rnd = random.Random(11)
    log, result = _random_check(rnd)
    while sum(ln is not None for ln in result.lines) < 3:
        log, result = _random_check(rnd)
    k = next(i for i, ln in enumerate(result.lines) if ln is not None)
    ln = result.lines[k]
    if odd == "bool units":
        result.units[0], result.units[1] = True, 1
    elif odd == "float units":
        result.units[0], result.units[1] = 1.0, 1
    elif odd == "datetime dos":
        result.lines[k] = ln._replace(dos=dt.datetime(2025, 1, 2, 3, 4))
    elif odd == "numeric modifiers":
        result.lines[k] = ln._replace(modifiers=(1,))
        k2 = next(i for i, x in enumerate(result.lines) if x is not None and i != k)
        result.lines[k2] = result.lines[k2]._replace(modifiers=(1.0,))
    else:
        result.lines.pop()
    assert check_command._line_pieces(log, result) is None
    assert check_command.json_text(log, result) == _oracle(log, result)


@pytest.mark.parametrize("seed", range(20))
def test_whole_checks_of_generated_logs(seed):
    """check_log on generated logs (text with quotes and control characters, bad cells, blank rows)."""
    rnd = random.Random(1000 + seed)
    header = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units"]
    rows = []
    for _ in range(rnd.randint(0, 120)):
        if rnd.random() < 0.05:
            rows.append([None] * 8)
            continue
        rows.append([rnd.choice(["P1", "p1 ", 'Ann "Q" Lee', "Zoë\\", "\x07x", "#N/A", None]),
                     rnd.choice([dt.datetime(2025, 3, 3), dt.datetime(2024, 12, 30), "2025-02-30", 45000.0, None]),
                     rnd.choice(["Medicare", "Aetna", "BCBS Medicare Adv", "Médicare", None]),
                     rnd.choice(["PT", "PTA", "Lee, Bob OTA", None]),
                     rnd.choice([97110, "97112", 97140.0, "97530-GP", "9711x", None]),
                     rnd.choice(["GP", "GP CQ", "gp,59", None, 59.0]),
                     rnd.choice([8, 23.0, 38, "x", -1, None]), rnd.choice([1, 2.0, 3, "two", None])])
    result = check_log(header, rows, payer=rnd.choice([None, "Medicare"]))
    log = LogData(Path("log.xlsx"), "xlsx", header, rows, 2, "Log")
    assert check_command.json_text(log, result) == _oracle(log, result)
