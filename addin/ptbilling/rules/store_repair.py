"""Damage in the user data folder: naming it, and repairing it (``ptbilling data repair``).

:mod:`.datasets` stores releases as transactions, so its own imports never damage the
folder; this module is for damage from outside (an older version's torn writes, a sync
tool, a hand edit, a failing disk). Each stored file is read back with its kind's own
reader, which checks the checksum and row count the index recorded and every value, so
what is named here is exactly what a check would stumble on. Nothing is deleted: a
damaged file is moved to ``damaged/`` and the CMS file to import again is named.

References: therapy-billing-rules.md section 11 (the releases and their files).
"""
from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path
from typing import Any

from . import datasets, gpci_file, mue, ncci_ptp, rvu_file
from .errors import DamagedStore, DataImportError

#: each kind's reader of its normalised release file (each raises DamagedStore naming the line)
#: an entry of the release index, as parsed from its JSON
Entry = dict[str, Any]

READERS = {"rvu": rvu_file.read_release_csv, "gpci": gpci_file.read_release_csv,
           "ptp": ncci_ptp.read_release_csv, "mue": mue.read_release_csv}


def _check_file(folder: Path, e: Entry) -> str | None:
    """Why the stored file of entry ``e`` cannot be used, or None when it reads cleanly."""
    path = folder / e["file"]
    if e.get("sha256"):
        datasets._expected[str(path)] = (e["sha256"], e.get("rows"))
    try:
        READERS[e["kind"]](path)
    except DamagedStore as err:
        return err.reason
    except DataImportError as err:
        return str(err)
    return None


def store_damage(folder: Path | None = None) -> list[str]:
    """One line per damaged part of the user data folder (the index, or a release file); [] when sound."""
    folder = folder or datasets.user_data_dir()
    if folder is None:  # no user data folder: only the shipped data
        return []
    folder = Path(folder)
    try:
        entries = datasets._read_entries(folder)
    except DamagedStore as damage:
        return [str(damage)]
    return [f"{folder / e['file']}: the stored release is damaged ({why}); run 'ptbilling data repair', "
            f"then import {_files(e)} again" for e in entries if (why := _check_file(folder, e))]


def _files(e: Entry) -> str:
    """The CMS files a release came from, as its source names them."""
    source = str(e.get("source", ""))
    return source.split(": ", 1)[1] if ": " in source else "its CMS file"


def _repair_locked(folder: Path) -> list[str]:
    notes = []
    try:
        entries = datasets._read_entries(folder)
    except DamagedStore as damage:
        entries = datasets._rebuilt_entries(folder)
        notes.append(f"{damage}: rebuilt from the stored records ({len(entries)} releases)")
    kept = []
    for e in entries:
        why = _check_file(folder, e)
        if why is None:
            kept.append(e)
            continue
        aside = folder / datasets.DAMAGED_DIR / Path(e["file"]).name
        aside.parent.mkdir(exist_ok=True)
        n = 1
        while aside.exists():  # never over an earlier damaged copy
            n += 1
            aside = aside.with_name(f"{Path(e['file']).stem}.{n}{Path(e['file']).suffix}")
        with suppress(OSError):
            os.replace(folder / e["file"], aside)
        notes.append(f"{e['name']}: damaged ({why}); taken out of the index, its file moved to {aside}; "
                     f"import {_files(e)} again")
    if notes:
        datasets._commit(folder, kept)
    datasets._collect_garbage(folder, kept)
    return notes


def repair_store(folder: Path | None = None) -> list[str]:
    """Make the user data folder sound again; one line per thing repaired ([] when nothing was wrong).

    A damaged index is rebuilt from the record kept beside each stored file; a
    damaged release file is taken out of the index (moved to ``damaged/``, never
    deleted) and named, so that its dates fall back to what else is in force
    until its CMS file is imported again; leftovers of killed imports are removed.
    """
    folder = Path(folder or datasets.writable_user_data_dir())
    with datasets.store_lock(folder):
        return _repair_locked(folder)
