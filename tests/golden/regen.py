"""Regenerate the golden expectations: python tests/golden/regen.py

Run it after a deliberate rule change and review the diff of
validate_log.expected.txt: every changed finding is a changed rule outcome.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "addin"))

from ptbilling.logs.cells import check_table  # noqa: E402


def read_table(path: Path):
    with open(path, newline="", encoding="utf-8") as f:
        return [[c if c != "" else None for c in row] for row in csv.reader(f)]


def render(table) -> str:
    """One line per row: its row number in the CSV (header = 1), then PT_VALIDATE's text."""
    return "".join(f"{n}\t{text}\n" for n, text in enumerate(check_table(table), start=1))


if __name__ == "__main__":
    table = read_table(HERE / "validate_log.csv")
    (HERE / "validate_log.expected.txt").write_text(render(table), encoding="utf-8")
    print("wrote", HERE / "validate_log.expected.txt")
