"""``ptbilling``: the command line. A thin front door like the Excel functions:
parse arguments, call the rules core, turn its exceptions into one clear line
and an exit code (0 fine, 1 findings, 2 unusable input). Never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import data_folder
from ..rules import errors
from .exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNUSABLE

#: command -> its module in this package. Each command lives in its own module and registers
#: itself with ``add_parser``. (one line per command module; keep this list sorted)
COMMANDS = {
    "check": "check",
    "data": "data",
    "template": "template",
    "units": "units",
}


#: Set by ``run`` (the ``ptbilling`` command and ``python -m ptbilling``: a process that ends when ``main`` returns): a command may then
#: leave its large results in AT_EXIT for ``exit_process`` to drop with the process.
EXIT_FAST = False
AT_EXIT: list = []


def exit_process(status: int) -> None:
    """End the process with ``status``; when a command left its results in AT_EXIT, without freeing them.

    A checked 100,000-line log is a few million small objects; freeing them one by one when
    the command returns, and the modules at interpreter shutdown, takes about 0.08 s, as long as
    writing the JSON. The operating system takes the memory back at once. The check registers
    no exit handlers and keeps no file open for writing (its --out report is written and closed
    before), so what the skipped shutdown would do is flush the standard streams, done here.
    Any other command ends as usual.
    """
    if not AT_EXIT:
        sys.exit(status)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # `2>&-`: Python sets a stream closed at start to None (sys.exit skips it too)
                stream.flush()
    except (OSError, ValueError):  # a closed or broken stream: let the usual shutdown report it
        sys.exit(status)
    os._exit(status)


def run() -> None:
    """The ``ptbilling`` command and ``python -m ptbilling``: ``main``, in a process that ends when it returns."""
    global EXIT_FAST
    EXIT_FAST = True
    exit_process(main())


class _Version(argparse.Action):
    """``--version``, with the version looked up only when asked for (see ptbilling.__getattr__)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show program's version number and exit"):  # noqa: A002 - argparse's name
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from .. import __version__

        parser._print_message(f"ptbilling {__version__}\n", sys.stdout)  # as argparse's own version action
        parser.exit()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``only``, of that command alone.

    ``main`` imports just the module of the command it runs: ``ptbilling check``
    on a big log does not load the importers, the template builder or the
    package metadata (about 75 ms of CPU, a tenth of reading a 100,000-line log).
    """
    p = argparse.ArgumentParser(
        prog="ptbilling",
        description="Outpatient therapy billing rules (8-minute rule, modifiers, edits) without Excel.",
    )
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(f"{__package__}.{module}").add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    if sys.stdout is None:  # started with stdout closed (>&-): no answer could be written
        if sys.stderr is not None:
            print("ptbilling: standard output is closed; run it with its output to a file or a pipe",
                  file=sys.stderr)
        return EXIT_UNUSABLE
    data_folder.use_default()  # the rules core takes the user data folder from its front door
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
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
    except MemoryError:  # a log too big for this machine (the calamine parse says so itself): not a bug to report
        print("ptbilling: out of memory; the input is too large for this machine's memory", file=sys.stderr)
        return EXIT_UNUSABLE
    except OSError as e:  # unreadable file, full disk...: one line, not a traceback
        print(f"ptbilling: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception as e:  # noqa: BLE001 - a bug of ours still gets one line, never a traceback
        print(f"ptbilling: internal error ({type(e).__name__}: {e}); please report it", file=sys.stderr)
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
