"""A finding: what PT_VALIDATE and ``ptbilling check`` report on a line.

Text form: ``"<SEVERITY> <RULE-ID>: <what is wrong — how to fix it>"``. Rule IDs
are stable (they are documented in docs/rules.md and counted in reports);
severities are ERROR (will be denied, or is wrong) and WARN (needs review).
"""
from __future__ import annotations

from typing import NamedTuple

ERROR = "ERROR"
WARN = "WARN"


class Finding(NamedTuple):
    """A NamedTuple, not a frozen dataclass (as ``ClaimLine``): a check builds one per finding of
    every line, and a frozen dataclass takes about three times as long to build."""

    line: int  # position of the line in the log (0-based), the front door maps it to a row
    severity: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity} {self.rule}: {self.message}"
