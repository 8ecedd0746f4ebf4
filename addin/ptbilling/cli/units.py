"""``ptbilling units LINE...``: the units of one visit by the 8-minute rule, with the explanation.

A LINE is ``MINUTES:CODE[:MODIFIERS[:ASSISTANT_MINUTES]]``: ``24:97112``,
``10:97110:CQ`` (a PTA's line), ``18:97110:GP:10`` (a PT's line within which the
PTA furnished 10 minutes on their own), or ``MINUTES`` alone for an unnamed
timed service. ``--date`` picks the dated CQ/CO rule.
"""
from __future__ import annotations

import argparse
import re

from ..logs.cells import coerce_date, modifier_args, parse_modifiers
from ..rules import errors
from ..rules.code_catalog import catalog_for, normalize_code
from ..rules.service_units import MAX_MINUTES, METHODS, coerce_minutes, visit_units
from .exit_codes import EXIT_OK

FORMAT = "MINUTES:CODE[:MODIFIERS[:ASSISTANT_MINUTES]]"


class UsageError(errors.PtBillingError, ValueError):
    """A command-line value the user must fix."""


def _parse_line(text: str) -> tuple[str | None, int, str, int | None]:
    """'24:97112' -> ('97112', 24, '', None); '10:97110:CQ' -> ('97110', 10, 'CQ', None); '38' -> (None, 38, '', None)."""
    parts = text.split(":")
    if len(parts) > 4:
        raise UsageError(f"{text!r}: too many ':' — give {FORMAT}, e.g. 10:97110:CQ")
    minutes = parts[0]
    code, mods, asst = (parts[1:] + [None, None, None])[:3]
    if code is None and _looks_like_code(minutes):
        raise UsageError(f"{text!r} looks like a code without its minutes — give MINUTES:CODE, e.g. 24:{minutes.strip()}")
    if code is not None and not code.strip():
        raise UsageError(f"{text!r}: no code after ':' — give MINUTES:CODE, e.g. {minutes.strip() or 24}:97110 "
                         "(or MINUTES alone for an unnamed timed service)")
    try:
        m = coerce_minutes(minutes)
    except errors.BadValue as e:
        raise UsageError(f"{text!r}: {e}") from None
    if m is None:
        raise UsageError(f"{text!r}: give {FORMAT}, e.g. 24:97112")
    a = None
    if asst is not None and asst.strip():
        try:
            a = coerce_minutes(asst)
        except errors.BadValue as e:
            raise UsageError(f"{text!r}: assistant {e}") from None
        if a is not None and a > m:
            raise UsageError(f"{text!r}: {a} assistant minutes exceed the line's {m} minutes")
    modifiers = " ".join(parse_modifiers(mods)) if mods else ""
    return (normalize_code(code) if code is not None else None), m, modifiers, a


def _looks_like_code(text: str) -> bool:
    """A bare '97110' or 'G0283': a code typed without its minutes (no line is that long)."""
    t = text.strip()
    if not t:
        return False
    if not t.isdigit():
        return bool(re.fullmatch(r"[A-Za-z]\d{4}", t))
    return int(t) > MAX_MINUTES or normalize_code(t) in catalog_for(None)


def cmd_units(args: argparse.Namespace) -> int:
    lines = [_parse_line(t) for t in args.lines]
    dos = coerce_date(args.date) if args.date else None
    got = modifier_args([mods or None for _, _, mods, _ in lines])
    rows = [(code, m, flag, a, site) for (code, m, _, a), flag, site in zip(lines, got["assisted"], got["sites"])]
    units, working = visit_units(rows, args.method, dos=dos)
    width = max(len(c or "timed") for c, *_ in lines)
    # the mods and assistant columns only when some line has them: a plain visit prints as before
    mw = max([len("mods")] + [len(mods) for _, _, mods, _ in lines]) if any(x[2] for x in lines) else 0
    asst = any(a is not None for *_, a in lines)

    def row(code: str, mods: str, minutes: object, a: object, u: object) -> str:
        cells = [f"{code:<{width}}"] + ([f"{mods:<{mw}}"] if mw else []) + [f"{minutes:>7}"]
        cells += [f"{a:>9}"] if asst else []
        return "  ".join(cells + [f"{u:>5}"])

    print(row("code", "mods", "minutes", "assistant", "units"))
    for (code, minutes, mods, a), u in zip(lines, units):
        print(row(code or "timed", mods, minutes, "" if a is None else a, u))
    print(row("total", "", sum(m for _, m, _, _ in lines), "", sum(units)))
    print()
    print(working.explain())
    return EXIT_OK


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``units`` on the ``ptbilling`` command's subparsers."""
    u = subparsers.add_parser(
        "units",
        help="Units of one visit by the 8-minute rule, with the CQ/CO split and the explanation.",
        description=f"Units of one visit. Each LINE is {FORMAT} (or MINUTES for an unnamed timed "
        "service), e.g. 'ptbilling units 24:97112 23:97110' or 'ptbilling units 10:97110:CQ 8:97110'. "
        "A line with CQ/CO is the assistant's; ASSISTANT_MINUTES are the assistant's independent "
        "minutes within a therapist's line.",
    )
    # A LINE such as -5:97110 is a (bad) line, not an option: argparse would otherwise call it an
    # unknown option; this way it reaches _parse_line, which says what is wrong with it.
    u._negative_number_matcher = re.compile(r"^-\d")
    u.add_argument("lines", nargs="+", metavar="LINE", help=f"{FORMAT}, e.g. 24:97112 or 10:97110:CQ")
    u.add_argument("--method", default="CMS", type=str.upper, choices=METHODS,
                   help="CMS: 8-minute rule on the visit total (default); AMA: each code on its own.")
    u.add_argument("--date", metavar="YYYY-MM-DD",
                   help="Date of service: picks the dated CQ/CO rule (2022 rule from 2022-01-01, CMS's "
                   "March 2021 guidance for 2020-2021, none before 2020). Omitted: the 2022 rule.")
    u.set_defaults(func=cmd_units)
    return u
