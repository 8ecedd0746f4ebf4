"""``ptbilling units LINE...``: the units of one visit by the 8-minute rule, with the explanation."""
from __future__ import annotations

import argparse

from ..rules import errors
from ..rules.code_catalog import normalize_code
from ..rules.service_units import METHODS, coerce_minutes, visit_units
from .exit_codes import EXIT_OK


class UsageError(errors.PtBillingError, ValueError):
    """A command-line value the user must fix."""


def _parse_line(text: str) -> tuple[str | None, int]:
    """'24:97112' -> ('97112', 24); '38' -> (None, 38)."""
    minutes, _, code = text.partition(":")
    try:
        m = coerce_minutes(minutes)
    except errors.BadValue as e:
        raise UsageError(f"{text!r}: {e}") from None
    if m is None:
        raise UsageError(f"{text!r}: give MINUTES or MINUTES:CODE, e.g. 24:97112")
    return normalize_code(code) if code else None, m


def cmd_units(args) -> int:
    lines = [_parse_line(t) for t in args.lines]
    units, working = visit_units(lines, args.method)
    width = max(len(c or "timed") for c, _ in lines)
    print(f"{'code':<{width}}  minutes  units")
    for (code, minutes), u in zip(lines, units):
        print(f"{code or 'timed':<{width}}  {minutes:>7}  {u:>5}")
    print(f"{'total':<{width}}  {sum(m for _, m in lines):>7}  {sum(units):>5}")
    print()
    print(working.explain())
    return EXIT_OK


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``units`` on the ``ptbilling`` command's subparsers."""
    u = subparsers.add_parser(
        "units",
        help="Units of one visit by the 8-minute rule, with the explanation.",
        description="Units of one visit. Each LINE is MINUTES:CODE (or MINUTES for an unnamed timed "
        "service), e.g. 'ptbilling units 24:97112 23:97110'.",
    )
    u.add_argument("lines", nargs="+", metavar="LINE", help="MINUTES:CODE, e.g. 24:97112")
    u.add_argument("--method", default="CMS", type=str.upper, choices=METHODS,
                   help="CMS: 8-minute rule on the visit total (default); AMA: each code on its own.")
    u.set_defaults(func=cmd_units)
    return u
