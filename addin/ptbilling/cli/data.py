"""``ptbilling data``: list the dated figures in force, and import CMS releases.

Imports only read the CMS file, store a normalised copy in the user data folder
(``rules.datasets.user_data_dir()``) and record it in that folder's index; the
shipped seeds stay as the fallback. Nothing is ever downloaded. Each import is
one transaction under the folder's lock (``datasets.store_release``); ``data
repair`` (``rules.store_repair``) mends a folder damaged from outside.

``data import RVU27A.zip`` reads CMS's yearly zip with the log reader's zip
safety (sizes judged before anything is decompressed) and hands the members
to ``rules.relative_value_files``, which recognises them by content.
"""
from __future__ import annotations

import argparse
import datetime as dt
import zipfile
import zlib
from pathlib import Path

from .. import __version__
from ..logs.reader import zip_bomb
from ..rules import datasets, errors, relative_value_files, store_repair
from ..rules.fee_schedule import figures_table, import_gpci, import_rvu, kx_threshold
from ..rules.mue import import_mue
from ..rules.ncci_ptp import import_ptp

#: CMS's RVU zip has about a dozen members and expands to well under 100 MB
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_BYTES = 1024 ** 3


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


def cmd_list(args: argparse.Namespace) -> int:
    folder = datasets.user_data_dir()
    for why in store_repair.store_damage():
        print(f"DAMAGED: {why}")
    if datasets.index_damage():  # the index itself: show what is shipped; the line above says the rest
        print(f"Shipped with ptbilling {__version__}: {datasets.SHIPPED_DIR}")
        for r in sorted(datasets.shipped_releases(), key=lambda r: (r.kind, r.effective_from)):
            print(f"  {r.kind:<5} {r.effective_from} .. {r.effective_to}  {r.status:<10} shipped  {r.name}")
        return 0
    imported = [r for r in datasets.releases() if r.origin == "imported"]
    if folder is None:  # no front door named one: nothing can be imported
        print("Data folder in use for imports: none (shipped data only; set PTBILLING_DATA_DIR to use one)")
    else:
        print(f"Data folder in use for imports: {folder} "
              f"({len(imported)} imported release{'s' if len(imported) != 1 else ''}"
              f"{'' if folder.is_dir() else '; not created yet'}; set PTBILLING_DATA_DIR to use another)")
    print(f"Shipped with ptbilling {__version__}: {datasets.SHIPPED_DIR}")
    print("Medicare fee schedule in force by year (one release per year, for every date of it; "
          "an imported release wins over the shipped one):")
    years = sorted({y for r in datasets.releases() if r.kind == "rvu"
                    for y in range(r.effective_from.year, r.effective_to.year + 1)})
    for year in years:
        day = dt.date(year, 1, 1)
        rvu = datasets.in_force("rvu", day)
        try:
            gpci = datasets.in_force("gpci", day).name
        except errors.UnsupportedDate:
            gpci = "no GPCIs (national amounts only)"
        print(f"  {year}  {rvu.name} ({rvu.origin}, {rvu.status}); {gpci}")
    newest = datasets.newest_year("rvu")
    if newest is not None:
        print(f"  next: {datasets.update_hint('rvu', newest + 1)} (from CMS's PFS Relative Value Files page)")
    print("Releases (imported ones win over shipped ones for the same dates):")
    rows = sorted(datasets.releases(), key=lambda r: (r.kind, r.effective_from, r.origin))
    for r in rows:
        print(f"  {r.kind:<5} {r.effective_from} .. {r.effective_to}  {r.status:<10} {r.origin:<8} {r.name}")
        print(f"        source: {r.source}")
        if r.forced:
            print(f"        FORCED: {r.forced.removeprefix('forced: ')}")
    print("Figures shipped with ptbilling (conversion factors, thresholds, rates):")
    for kind, start, end, fig in figures_table():
        to = end.isoformat() if end else "open"
        print(f"  {kind:<32} {start} .. {to:<10}  {str(fig.value):>9}  {fig.status:<10} {fig.source}")
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    notes = store_repair.repair_store()
    for note in notes:
        print(f"repaired: {note}")
    if not notes:
        print(f"nothing to repair in {datasets.user_data_dir()}: every stored release reads cleanly")
    return 0


def zip_members(path: Path) -> list[tuple[str, bytes]]:
    """Every file in a CMS zip as (name, bytes), after the zip-bomb and damage checks; refused otherwise."""
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as e:
        raise errors.DataImportError(f"{name} is damaged or not a zip ({e}) — download CMS's RVUyyA-D.zip again "
                                     "(a single CSV goes through import-rvu or import-gpci); nothing stored") from None
    with zf:
        if len(infos) > MAX_ZIP_ENTRIES:
            raise errors.DataImportError(f"{name} has {len(infos):,} entries — not CMS's RVU zip; nothing stored")
        for info in infos:
            if info.flag_bits & 0x1:
                raise errors.DataImportError(f"{name}: {info.filename} is encrypted — not CMS's RVU zip; nothing stored")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise errors.DataImportError(f"{name}: {info.filename} uses a compression CMS does not use; "
                                             "nothing stored")
        bomb = zip_bomb(infos, MAX_ZIP_BYTES)
        if bomb:
            raise errors.DataImportError(f"{name}: {bomb}; nothing stored")
        out = []
        for info in infos:
            try:
                out.append((info.filename, zf.read(info)))
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as e:  # CRC, corrupt deflate
                raise errors.DataImportError(f"{name} is damaged: {info.filename} cannot be read ({e}) — download "
                                             "it again from CMS; nothing stored") from None
    return out


def cmd_import(args: argparse.Namespace) -> int:
    path = _existing(args.file)
    members = zip_members(path)
    _repair_first()
    got = relative_value_files.import_members(members, path.name, args.year, input_path=path, force=args.force)
    title = got.title
    released = f", released {title.released}" if title.released else ""
    if got.rvu is None and (got.gpci is None):
        print(f"{got.release} ({title.text}{released}) is already installed for {got.year}; nothing changed")
    else:
        print(f"imported {got.release}: {title.text}{released}, from {path.name}")
    cf = f", conversion factor {got.conversion_factor:g} (non-QP, the default)" if got.conversion_factor else ""
    qp = (f"; QP factor {got.qp_conversion_factor:g} recorded, shown by `ptbilling data list`"
          if got.qp_conversion_factor else "")
    rvu_state = "unchanged, already installed" if "rvu" in got.unchanged else "stored"
    print(f"  relative values: {got.rvu_member}{cf}{qp} — {rvu_state}")
    if got.gpci_member is None:
        print(f"  GPCIs: none in the zip — the {got.year} GPCIs are not changed")
    else:
        print(f"  GPCIs: {got.gpci_member} — {'unchanged, already installed' if 'gpci' in got.unchanged else 'stored'}")
    stored = [r for r in (got.rvu, got.gpci) if r is not None]
    if stored:
        print(f"  in force {stored[0].effective_from} .. {stored[0].effective_to} (official), "
              f"stored in {stored[0].path.parent}")
    for r in stored:
        if r.forced:
            print(f"  {r.kind}: {r.forced}")
    reasons: dict[str, list[str]] = {}
    for member, why in got.skipped:
        reasons.setdefault(why, []).append(member)
    for why, names in reasons.items():
        print(f"  skipped {', '.join(names)}: {why}")
    try:
        kx_threshold(dt.date(got.year, 1, 1))
    except errors.UnsupportedDate as e:
        print(f"  note: {e}; until then the KX check of {got.year} lines reports KX-UNCHECKED")
    return 0


def cmd_import_rvu(args: argparse.Namespace) -> int:
    path = _existing(args.file)
    _repair_first()
    return _report(import_rvu(path, args.year, force=args.force))


def cmd_import_gpci(args: argparse.Namespace) -> int:
    path = _existing(args.file)
    _repair_first()
    return _report(import_gpci(path, args.year, force=args.force))


def cmd_import_ptp(args: argparse.Namespace) -> int:
    path = _existing(args.file)
    _repair_first()
    return _report(import_ptp(path, args.effective_from, force=args.force))


def cmd_import_mue(args: argparse.Namespace) -> int:
    path = _existing(args.file)
    _repair_first()
    return _report(import_mue(path, args.effective_from, force=args.force))


_FORCE_HELP = ("import even when the file lacks over 10%% of the rows of the release it replaces "
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
    p = sub.add_parser("import", help="Import a year's RVUs and GPCIs in one step from CMS's zip (RVU27A.zip).",
                       description="Import the relative values (PPRRVU, non-QP) and the GPCIs from the zip CMS's "
                       "PFS Relative Value Files page offers (RVUyyA-D.zip). Files are recognised by content; the "
                       "year and release come from the PPRRVU title.")
    p.add_argument("file", help="CMS's zip, e.g. RVU27A.zip")
    p.add_argument("--year", type=int, help="refuse the zip unless its PPRRVU title is for this year")
    p.add_argument("--force", action="store_true", help=_FORCE_HELP)
    p.set_defaults(func=cmd_import)
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
