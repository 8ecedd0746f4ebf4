"""``ptbilling template [PATH] [--sample] [--force]``: write the session-log workbook.

A thin front door over :mod:`ptbilling.workbooks.template`: it refuses to overwrite a
file unless ``--force``, writes through a temporary file and ``os.replace`` (a
reader never sees half a workbook), and turns every failure into one line on
stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .exit_codes import EXIT_OK, EXIT_UNUSABLE

CHECKOUT_FOLDER = Path("workbook_templates")
DEFAULT_TEMPLATE = CHECKOUT_FOLDER / "session_log.xlsx"
DEFAULT_SAMPLE = CHECKOUT_FOLDER / "sample_session_log.xlsx"


def default_path(sample: bool) -> Path:
    """Where ``ptbilling template`` writes without a PATH: workbook_templates/ in a checkout of the
    project (where the committed workbooks live), else the current folder (an office's install)."""
    name = (DEFAULT_SAMPLE if sample else DEFAULT_TEMPLATE).name
    return CHECKOUT_FOLDER / name if CHECKOUT_FOLDER.is_dir() else Path(name)


def cmd_template(args: argparse.Namespace) -> int:
    path = Path(args.path) if args.path else default_path(args.sample)
    what = "sample" if args.sample else "template"
    try:
        if path.is_dir():
            return _fail(f"{path} is a folder; give a file name such as {path / 'session_log.xlsx'}")
        if path.suffix.lower() != ".xlsx":
            return _fail(f"{path}: the workbook must be saved as .xlsx (Excel Table + formulas)")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            return _fail(f"folder {parent} does not exist; create it or give another PATH")
        if path.exists() and not args.force:
            return _fail(f"{path} already exists; use --force to overwrite it")
        from ..workbooks.template import write_template

        write_template(path, sample=args.sample)
    except OSError as e:
        return _fail(f"cannot write {path}: {e.strerror or e}")
    except Exception as e:  # noqa: BLE001 - a bug of ours is still one line, never a traceback
        return _fail(f"could not build the {what} ({type(e).__name__}: {e})")
    print(f"wrote {path} ({what}, {os.path.getsize(path):,} bytes)")
    return EXIT_OK


def _fail(message: str) -> int:
    print(f"ptbilling template: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``template`` on the ``ptbilling`` command's subparsers."""
    p = subparsers.add_parser(
        "template",
        help="Write the session-log workbook (Excel Table, dropdowns, PT_UNITS/PT_VALIDATE columns).",
        description="Write the session-log template workbook that billing staff fill in every day: the "
        "SessionLog table with dropdowns and limits, the Units by Rule (PT_UNITS) and Check (PT_VALIDATE) "
        "columns, the Codes and Instructions sheets and the xlwings.conf sheet. With --sample, the same "
        "workbook filled with about 40 example visits.",
    )
    p.add_argument("path", nargs="?", metavar="PATH",
                   help=f"Where to write the .xlsx (default {DEFAULT_TEMPLATE.name}, or {DEFAULT_SAMPLE.name} with "
                   f"--sample, in the current folder; in a checkout of ptbilling, in {CHECKOUT_FOLDER}/).")
    p.add_argument("--sample", action="store_true",
                   help="Fill the workbook with the sample visits (the manual's examples and one or more "
                   "lines of each kind of error).")
    p.add_argument("--force", action="store_true", help="Overwrite PATH if it already exists.")
    p.set_defaults(func=cmd_template)
    return p
