"""Year- and quarter-dependent figures: which release is in force on a date of service.

Every dated figure the rules use (relative values, GPCIs, NCCI edits, MUEs,
conversion factors, KX thresholds) lives in a data file, never in code. Each
release is described once in a ``releases.json`` (the shipped one beside this
module, and one in the user data folder for what ``ptbilling data import-*``
added) with its effective dates, its source and whether it is ``official`` or
``unverified``. :func:`in_force` is the one function that picks a release by
date of service; everything else asks it.

Imported releases win over shipped ones for the same dates, so an office can
load CMS's newer quarterly file without upgrading the add-in. Nothing is ever
downloaded: the rules read only these files.

References: therapy-billing-rules.md sections 6-8 and 11 (what each dataset holds).
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import UnsupportedDate

SHIPPED_DIR = Path(__file__).with_name("data")

#: what each kind of dataset is, for messages and ``ptbilling data list``
KINDS = {
    "rvu": "Medicare fee schedule relative values (PPRRVU)",
    "gpci": "Medicare GPCIs by locality",
    "ptp": "NCCI practitioner procedure-to-procedure edits",
    "mue": "NCCI practitioner medically unlikely edits",
}


@dataclass(frozen=True)
class Release:
    kind: str
    path: Path
    effective_from: dt.date
    effective_to: dt.date
    name: str
    source: str
    status: str  # "official" or "unverified"
    origin: str  # "shipped" or "imported"

    def covers(self, dos: dt.date) -> bool:
        return self.effective_from <= dos <= self.effective_to


#: the user data folder the front door found (``set_user_data_dir``); None: shipped data only.
#: The core imports only the standard library, so it cannot look the folder up itself:
#: platformdirs on a desktop, ``/data/ptbilling`` in xlwings Lite (see ptbilling/data_folder.py).
_front_door_dir: Path | None = None


def set_user_data_dir(folder: str | os.PathLike | None) -> None:
    """The front door says where imported releases live (None: none, only the shipped data)."""
    global _front_door_dir
    _front_door_dir = Path(folder) if folder else None


def user_data_dir() -> Path | None:
    """Where imported releases live: $PTBILLING_DATA_DIR, else the folder the front door set."""
    env = os.environ.get("PTBILLING_DATA_DIR")
    return Path(env) if env else _front_door_dir


def writable_user_data_dir() -> Path:
    """The user data folder, for an import; DataImportError when no front door named one."""
    folder = user_data_dir()
    if folder is None:
        from .errors import DataImportError

        raise DataImportError("no user data folder to import into: set PTBILLING_DATA_DIR to a folder")
    return folder


_pinned: list[tuple[Release, ...]] = []
_pinned_memo: dict = {}  # (kind, date) -> Release and path -> stamp, valid while pinned


@contextmanager
def pinned():
    """Within this block every releases() call returns the same list, without touching the disk.

    A whole-log call (PT_VALIDATE, ``ptbilling check``) asks for the release in
    force thousands of times; the index is read once at the start of the call,
    so an import made while Excel is open is seen at the next recalculation.
    """
    if not _pinned:
        _pinned_memo.clear()
    _pinned.append(releases())
    try:
        yield
    finally:
        _pinned.pop()
        if not _pinned:
            _pinned_memo.clear()


def file_stamp(path) -> tuple:
    """(mtime, inode, size) of a data file, to key caches of its parsed content.

    The inode matters: an import replaces a file (os.replace), possibly within
    one mtime tick. Inside a pinned block the answer is remembered.
    """
    if _pinned:
        got = _pinned_memo.get(path)
        if got is not None:
            return got
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
    except OSError:
        stamp = (-1,)
    if _pinned:
        _pinned_memo[path] = stamp
    return stamp


def _read_index(folder: Path, origin: str) -> tuple[Release, ...]:
    index = folder / "releases.json"
    if not index.is_file():
        return ()
    entries = json.loads(index.read_text(encoding="utf-8"))
    return tuple(
        Release(
            kind=e["kind"],
            path=folder / e["file"],
            effective_from=dt.date.fromisoformat(e["effective_from"]),
            effective_to=dt.date.fromisoformat(e["effective_to"]),
            name=e["name"],
            source=e["source"],
            status=e["status"],
            origin=origin,
        )
        for e in entries
    )


@lru_cache(maxsize=8)
def _releases_cached(user_dir: str | None, stamp: tuple) -> tuple[Release, ...]:
    imported = _read_index(Path(user_dir), "imported") if user_dir is not None else ()
    return imported + _read_index(SHIPPED_DIR, "shipped")


def releases() -> tuple[Release, ...]:
    """Every known release, imported first (they take precedence), then shipped."""
    if _pinned:
        return _pinned[-1]
    folder = user_data_dir()
    if folder is None:
        return _releases_cached(None, ())
    index = folder / "releases.json"
    try:
        st = index.stat()
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    except FileNotFoundError:
        stamp = ()
    return _releases_cached(str(folder), stamp)


def in_force(kind: str, dos: dt.date) -> Release:
    """The release of ``kind`` in force on date of service ``dos``.

    Imported releases win over shipped ones; among releases of one origin, the
    one that took effect last wins (a quarterly update replaces the annual file).
    Raises UnsupportedDate naming the year and what is available.
    """
    if isinstance(dos, dt.datetime):
        dos = dos.date()
    if _pinned:
        got = _pinned_memo.get((kind, dos))
        if got is not None:
            return got
    candidates = [r for r in releases() if r.kind == kind and r.covers(dos)]
    if not candidates:
        raise UnsupportedDate(KINDS.get(kind, kind), dos.year, _have(kind) + " — " + update_hint(kind, dos.year))
    candidates.sort(key=lambda r: (r.origin == "imported", r.effective_from), reverse=True)
    if _pinned:
        _pinned_memo[(kind, dos)] = candidates[0]
    return candidates[0]


#: kinds that come in CMS's yearly PFS Relative Value Files zip (RVUyyA-D.zip)
PFS_ZIP_KINDS = ("rvu", "gpci")


def newest_year(kind: str) -> int | None:
    """The last calendar year any release of ``kind`` covers (imported or shipped), or None."""
    years = [r.effective_to.year for r in releases() if r.kind == kind]
    return max(years) if years else None


def update_hint(kind: str, year: int) -> str:
    """What a user without ``kind`` data for ``year`` should get, and the command: one phrase.

    Fee schedule data come in CMS's yearly zip from the PFS Relative Value
    Files page: RVUyyA is January's release, so a year past the newest one
    installed asks for it; an earlier year asks for its last release (D,
    October). The NCCI files are imported one by one.
    """
    if kind in PFS_ZIP_KINDS:
        newest = newest_year(kind)
        letter = "A" if newest is None or year > newest else "D"
        return f"{year} dates: import CMS's RVU{year % 100:02d}{letter}.zip with `ptbilling data import`"
    return f"{year} dates: import CMS's file with `ptbilling data import-{kind}`"


def _have(kind: str) -> str:
    """What is installed of ``kind``, short (a cell shows it): '2025-2026', or the date ranges."""
    mine = [r for r in releases() if r.kind == kind]
    if not mine:
        return "none"
    if all((r.effective_from.month, r.effective_from.day, r.effective_to.month, r.effective_to.day) == (1, 1, 12, 31)
           for r in mine):
        years = sorted({y for r in mine for y in range(r.effective_from.year, r.effective_to.year + 1)})
        runs, start = [], years[0]
        for a, b in zip(years, years[1:] + [None]):
            if b != a + 1:
                runs.append(str(start) if start == a else f"{start}-{a}")
                start = b
        return ", ".join(runs)
    return ", ".join(sorted({f"{r.effective_from:%Y-%m-%d}..{r.effective_to:%Y-%m-%d}" for r in mine}))


def register_release(kind: str, file_name: str, effective_from: dt.date, effective_to: dt.date,
                     name: str, source: str, status: str, folder: Path | None = None) -> Path:
    """Record an imported release in the user data folder's index (replacing one of the same file)."""
    folder = folder or writable_user_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "releases.json"
    entries = json.loads(index.read_text(encoding="utf-8")) if index.is_file() else []
    entries = [e for e in entries if e["file"] != file_name]
    entries.append({
        "kind": kind, "file": file_name,
        "effective_from": effective_from.isoformat(), "effective_to": effective_to.isoformat(),
        "name": name, "source": source, "status": status,
    })
    tmp = index.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=1), encoding="utf-8")
    os.replace(tmp, index)
    _releases_cached.cache_clear()  # two imports within one clock tick must both be seen
    if _pinned:  # registering inside a pinned block: the block sees its own import
        depth = len(_pinned)
        _pinned.clear()
        _pinned.extend([releases()] * depth)
        _pinned_memo.clear()
    return folder / file_name


def write_release_csv(path, columns: tuple[str, ...], rows) -> None:
    """A normalised release file: one header line of ``columns``, then ``rows`` (sequences of cells)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)


def store_release(kind: str, file_name: str, write, effective_from: dt.date, effective_to: dt.date,
                  name: str, source: str, status: str = "official", input_path: Path | None = None) -> Release:
    """Write an imported release into the user data folder and record it in the index.

    ``write(path)`` writes the normalised file; it goes to a temporary name and
    is moved into place in one step, so a half-written release is never in
    force. ``input_path`` (the user's CMS file) is refused as a target: an
    import only ever reads it.
    """
    folder = writable_user_data_dir()
    target = folder / file_name
    if input_path is not None and target.resolve() == Path(input_path).resolve():
        from .errors import DataImportError

        raise DataImportError(f"{input_path} is the imported release itself; import the CMS file")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    write(tmp)
    os.replace(tmp, target)
    register_release(kind, file_name, effective_from, effective_to, name, source, status, folder)
    return Release(kind, target, effective_from, effective_to, name, source, status, "imported")
