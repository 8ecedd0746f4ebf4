"""A finding: what PT_VALIDATE and ``ptbilling check`` report on a line.

Text form: ``"<SEVERITY> <RULE-ID>: <what is wrong — how to fix it>"``. Rule IDs
are stable (they are documented in docs/rules.md and counted in reports);
severities are ERROR (will be denied, or is wrong) and WARN (needs review).
"""
from __future__ import annotations

from typing import NamedTuple, Protocol

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


class DescribedLine(Protocol):
    """What ``describe_line`` reads of a line: ``claim_lines.ClaimLine`` has it all (claim_lines
    imports service_units, which imports this module, so it is described here, not imported)."""

    @property
    def code(self) -> str: ...
    @property
    def modifiers(self) -> tuple[str, ...]: ...
    @property
    def provider(self) -> str: ...
    @property
    def minutes(self) -> int | None: ...
    @property
    def units(self) -> int | None: ...


def describe_line(ln: DescribedLine) -> str:
    """How a message names another line of the visit (the rules do not know sheet rows):
    e.g. '97110 GP CQ by PTA, 23 min, 1 unit'."""
    mods = " ".join(ln.modifiers) or "no modifiers"
    minutes = "no" if ln.minutes is None else ln.minutes
    units = "no" if ln.units is None else ln.units
    return f"{ln.code} {mods} by {ln.provider or 'no provider'}, {minutes} min, {units} unit{'s' if units != 1 else ''}"
