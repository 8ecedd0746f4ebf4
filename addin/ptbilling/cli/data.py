"""``ptbilling data``: list the dated figures in force, and import CMS releases.

Imports only read the CMS file, store a normalised copy in the user data folder
(``rules.datasets.user_data_dir()``) and record it in that folder's index; the
shipped seeds stay as the fallback. Nothing is ever downloaded.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..rules import datasets, errors
from ..rules.fee_schedule import figures_table, import_gpci, import_rvu
from ..rules.mue import import_mue
from ..rules.ncci_ptp import import_ptp


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise errors.BadValue(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _existing(path: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise errors.BadValue(f"{path}: no such file")
    if p.is_dir():
        raise errors.BadValue(f"{path} is a directory, not a CMS file")
    return p


def _report(release: datasets.Release) -> int:
    print(f"imported {release.kind}: {release.name}")
    print(f"  in force {release.effective_from} .. {release.effective_to} ({release.status})")
    print(f"  stored in {release.path}")
    return 0


def cmd_list(args) -> int:
    print(f"Releases (imported ones win over shipped ones for the same dates); user data folder: "
          f"{datasets.user_data_dir() or 'none (shipped data only)'}")
    rows = sorted(datasets.releases(), key=lambda r: (r.kind, r.effective_from, r.origin))
    for r in rows:
        print(f"  {r.kind:<5} {r.effective_from} .. {r.effective_to}  {r.status:<10} {r.origin:<8} {r.name}")
        print(f"        source: {r.source}")
    print("Figures (rules/data/figures.json):")
    for kind, start, end, fig in figures_table():
        to = end.isoformat() if end else "open"
        print(f"  {kind:<32} {start} .. {to:<10}  {str(fig.value):>9}  {fig.status:<10} {fig.source}")
    return 0


def cmd_import_rvu(args) -> int:
    return _report(import_rvu(_existing(args.file), args.year))


def cmd_import_gpci(args) -> int:
    return _report(import_gpci(_existing(args.file), args.year))


def cmd_import_ptp(args) -> int:
    return _report(import_ptp(_existing(args.file), args.effective_from))


def cmd_import_mue(args) -> int:
    return _report(import_mue(_existing(args.file), args.effective_from))


def add_parser(subparsers) -> None:
    d = subparsers.add_parser(
        "data", help="List the dated figures in force; import CMS fee schedule, GPCI, NCCI PTP and MUE files.",
        description="Dated figures: what is in force, and importing newer CMS releases into the user data folder.",
    )
    sub = d.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)
    p = sub.add_parser("list", help="Show every release and figure with its dates, source and official/unverified mark.")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("import-rvu", help="Import a CMS PPRRVU relative value file (CSV) for its year.")
    p.add_argument("file", help="the PPRRVU CSV from CMS's RVUyy zip, e.g. PPRRVU2026_Jan.csv")
    p.add_argument("--year", type=int, help="the calendar year (default: read from the file's title or name)")
    p.set_defaults(func=cmd_import_rvu)
    p = sub.add_parser("import-gpci", help="Import a CMS GPCI file (Addendum E, CSV) for YEAR.")
    p.add_argument("file", help="the GPCI CSV, e.g. GPCI2026.csv")
    p.add_argument("year", type=int, help="the calendar year the GPCIs apply to")
    p.set_defaults(func=cmd_import_gpci)
    for name, what, file_help, func in (
        ("import-ptp", "a CMS NCCI practitioner PTP edit file (tab-delimited text)",
         "the practitioner PTP .txt file (one of the quarter's files)", cmd_import_ptp),
        ("import-mue", "a CMS NCCI practitioner MUE table (CSV)",
         "the practitioner services MUE table as CSV", cmd_import_mue),
    ):
        p = sub.add_parser(name, help=f"Import {what}.")
        p.add_argument("file", help=file_help)
        p.add_argument("--effective-from", type=_date, help="first day in force (default: from the file name/title)")
        p.set_defaults(func=func)
