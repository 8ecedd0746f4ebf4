"""``ptbilling``: the command line. A thin front door like the Excel functions:
parse arguments, call the rules core, turn its exceptions into one clear line
and an exit code (0 fine, 1 findings, 2 unusable input). Never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import __version__, data_command, data_folder
from . import check_command
from . import template_command
from .rules import errors
from .rules.code_catalog import normalize_code
from .rules.service_units import METHODS, coerce_minutes, visit_units

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2


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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ptbilling",
        description="Outpatient therapy billing rules (8-minute rule, modifiers, edits) without Excel.",
    )
    p.add_argument("--version", action="version", version=f"ptbilling {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    u = sub.add_parser(
        "units",
        help="Units of one visit by the 8-minute rule, with the explanation.",
        description="Units of one visit. Each LINE is MINUTES:CODE (or MINUTES for an unnamed timed "
        "service), e.g. 'ptbilling units 24:97112 23:97110'.",
    )
    u.add_argument("lines", nargs="+", metavar="LINE", help="MINUTES:CODE, e.g. 24:97112")
    u.add_argument("--method", default="CMS", type=str.upper, choices=METHODS,
                   help="CMS: 8-minute rule on the visit total (default); AMA: each code on its own.")
    u.set_defaults(func=cmd_units)

    # Each further command lives in its own module and registers itself here.
    # (one line per command module; keep this list sorted)
    check_command.add_parser(sub)
    data_command.add_parser(sub)
    template_command.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    data_folder.use_default()  # the rules core takes the user data folder from its front door
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_UNUSABLE
    try:
        return args.func(args)
    except errors.PtBillingError as e:
        print(f"ptbilling: {e}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        print("ptbilling: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `ptbilling data list | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK
    except OSError as e:  # unreadable file, full disk...: one line, not a traceback
        print(f"ptbilling: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception as e:  # noqa: BLE001 - a bug of ours still gets one line, never a traceback
        print(f"ptbilling: internal error ({type(e).__name__}: {e}); please report it", file=sys.stderr)
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
