"""``ptbilling data``: list the dated figures in force, and import CMS releases.

Imports only read the CMS file, store a normalised copy in the user data folder
(``rules.datasets.user_data_dir()``) and record it in that folder's index; the
shipped seeds stay as the fallback. Nothing is ever downloaded. Each import is
one transaction under the folder's lock (``datasets.store_release``); ``data
repair`` (``rules.store_repair``) mends a folder damaged from outside.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..rules import datasets, errors, store_repair
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
    if release.forced:
        print(f"  {release.forced}")
    print(f"  stored in {release.path}")
    return 0


def _repair_first() -> None:
    """An import into a folder whose index is damaged repairs it first, and says what it did."""
    if datasets.index_damage():
        for note in store_repair.repair_store():
            print(f"repaired: {note}")


def cmd_list(args) -> int:
    print(f"Releases (imported ones win over shipped ones for the same dates); user data folder: "
          f"{datasets.user_data_dir()}")
    damage = store_repair.store_damage()
    for why in damage:
        print(f"  DAMAGED: {why}")
    try:
        rows = datasets.releases()
    except errors.DamagedStore:  # the index itself: show what is shipped, the line above says the rest
        rows = datasets.shipped_releases()
    for r in sorted(rows, key=lambda r: (r.kind, r.effective_from, r.origin)):
        print(f"  {r.kind:<5} {r.effective_from} .. {r.effective_to}  {r.status:<10} {r.origin:<8} {r.name}")
        print(f"        source: {r.source}")
        if r.forced:
            print(f"        FORCED: {r.forced.removeprefix('forced: ')}")
    print("Figures (rules/data/figures.json):")
    for kind, start, end, fig in figures_table():
        to = end.isoformat() if end else "open"
        print(f"  {kind:<32} {start} .. {to:<10}  {str(fig.value):>9}  {fig.status:<10} {fig.source}")
    return 0


def cmd_repair(args) -> int:
    notes = store_repair.repair_store()
    for note in notes:
        print(f"repaired: {note}")
    if not notes:
        print(f"nothing to repair in {datasets.user_data_dir()}: every stored release reads cleanly")
    return 0


def cmd_import_rvu(args) -> int:
    path = _existing(args.file)
    _repair_first()
    return _report(import_rvu(path, args.year, force=args.force))


def cmd_import_gpci(args) -> int:
    path = _existing(args.file)
    _repair_first()
    return _report(import_gpci(path, args.year, force=args.force))


def cmd_import_ptp(args) -> int:
    path = _existing(args.file)
    _repair_first()
    return _report(import_ptp(path, args.effective_from, force=args.force))


def cmd_import_mue(args) -> int:
    path = _existing(args.file)
    _repair_first()
    return _report(import_mue(path, args.effective_from, force=args.force))


_FORCE_HELP = ("import even when the file has under 90%% of the rows of the release it replaces "
               "(refused by default: a cut-off file); 'data list' then marks the release")


def add_parser(subparsers) -> None:
    d = subparsers.add_parser(
        "data", help="List the dated figures in force; import CMS fee schedule, GPCI, NCCI PTP and MUE files.",
        description="Dated figures: what is in force, and importing newer CMS releases into the user data folder.",
    )
    sub = d.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)
    p = sub.add_parser("list", help="Show every release and figure with its dates, source and official/unverified mark.")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("repair", help="Mend a damaged user data folder: rebuild the index, set damaged releases aside.",
                       description="Rebuild a damaged release index from the records kept beside each stored "
                       "release; take a damaged release file out of the index (moved to damaged/, never "
                       "deleted) and name the CMS file to import again; remove leftovers of killed imports.")
    p.set_defaults(func=cmd_repair)
    p = sub.add_parser("import-rvu", help="Import a CMS PPRRVU relative value file (CSV) for its year.")
    p.add_argument("file", help="the PPRRVU CSV from CMS's RVUyy zip, e.g. PPRRVU2026_Jan.csv")
    p.add_argument("--year", type=int, help="the calendar year (default: read from the file's title or name)")
    p.add_argument("--force", action="store_true", help=_FORCE_HELP)
    p.set_defaults(func=cmd_import_rvu)
    p = sub.add_parser("import-gpci", help="Import a CMS GPCI file (Addendum E, CSV) for YEAR.")
    p.add_argument("file", help="the GPCI CSV, e.g. GPCI2026.csv")
    p.add_argument("year", type=int, help="the calendar year the GPCIs apply to")
    p.add_argument("--force", action="store_true", help=_FORCE_HELP)
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
        p.add_argument("--force", action="store_true", help=_FORCE_HELP)
        p.set_defaults(func=func)
