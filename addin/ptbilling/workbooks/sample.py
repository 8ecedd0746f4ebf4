"""The sample session log's visits, read from ``data/sample_visits.csv``.

The visits are data, not code: one CSV row per log line, in the Session Log table's column
order (Patient, Date, Payer, Provider, Code, Modifiers, Minutes, Units, Assistant Minutes,
Notes). Realistic 2025 visits come first (the Medicare manual's four 8-minute-rule examples
among them), then one or more lines of each kind of error PT_VALIDATE reports; the Notes
column says what each line shows. Edit the CSV and run ``ptbilling template --sample --force``
to rebuild the sample workbook.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from importlib import resources

SAMPLE_FILE = "sample_visits.csv"
#: column -> how its text becomes the cell value (blank cells become None)
_TYPES: dict[str, Callable[[str], object]] = {"Date": dt.date.fromisoformat, "Minutes": int, "Units": int, "Assistant Minutes": int}


def sample_rows() -> list[list[object]]:
    """The sample's data rows, in table column order (dates as datetime.date, numbers as int)."""
    text = resources.files(__package__).joinpath("data").joinpath(SAMPLE_FILE).read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    convert = [_TYPES.get(h, str) for h in header]
    return [[f(v) if v != "" else None for f, v in zip(convert, row)] for row in reader]
