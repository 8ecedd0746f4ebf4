"""``ptbilling``: the command line. A thin front door like the Excel functions:
parse arguments, call the rules core, turn its exceptions into one clear line
and an exit code (0 fine, 1 findings, 2 unusable input). Never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

from .. import __version__, data_folder
from ..rules import errors
from . import check, data, template, units
from .exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNUSABLE


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ptbilling",
        description="Outpatient therapy billing rules (8-minute rule, modifiers, edits) without Excel.",
    )
    p.add_argument("--version", action="version", version=f"ptbilling {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    # Each command lives in its own module and registers itself here.
    # (one line per command module; keep this list sorted)
    check.add_parser(sub)
    data.add_parser(sub)
    template.add_parser(sub)
    units.add_parser(sub)
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
        return EXIT_INTERRUPTED
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
