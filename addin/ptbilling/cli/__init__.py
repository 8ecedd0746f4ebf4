"""The ``ptbilling`` command line: ``main`` (the parser) and one module per command."""
from __future__ import annotations

import sys


def run() -> None:
    """The ``ptbilling`` command and ``python -m ptbilling`` (``main.run``).

    Loading the rules takes a tenth of a second; Ctrl+C in that time is "interrupted", as it
    is later, not a traceback: this package imports nothing else until it is asked to run.
    """
    try:
        from .main import run as run_command
    except KeyboardInterrupt:
        from .exit_codes import EXIT_INTERRUPTED

        print("ptbilling: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    run_command()
