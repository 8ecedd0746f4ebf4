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

The user data folder is changed only by :func:`store_release` (and
``store_repair.repair_store``), under one lock file, as one transaction: the new release
file is written under a unique temporary name and kept under a versioned name
(``rvu_2025.v7.csv``) that no reader has seen; the index is then replaced in
one ``os.replace``, which is the commit. A failed or killed import therefore
leaves the previous index, and every file it names, exactly as they were. Each
stored file's SHA-256 and row count are in the index, so damage done from
outside (a truncated index, a fragment line) is detected on read and named in
one line (:class:`~.errors.DamagedStore`) instead of being used.

References: therapy-billing-rules.md sections 6-8 and 11 (what each dataset holds).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from .errors import DamagedStore, DataImportError, StoreBusy, UnsupportedDate

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
    key: str = ""  # the release's stable file name (rvu_2025.csv); ``path`` is its stored version
    rows: int | None = None  # data rows, as counted when it was stored
    forced: str = ""  # why ``--force`` was needed (much smaller than the release it replaced)

    def covers(self, dos: dt.date) -> bool:
        return self.effective_from <= dos <= self.effective_to


#: the user data folder the front door found (``set_user_data_dir``); None: shipped data only.
#: The core imports only the standard library, so it cannot look the folder up itself:
#: platformdirs on a desktop, ``/data/ptbilling`` in xlwings Lite (see ptbilling/data_folder.py).
_front_door_dir: Path | None = None

#: an index entry as ``releases.json`` holds it: JSON values of several types (names, dates as
#: text, row counts, a checksum); ``_release_of`` checks the fields a release is built from
Entry = dict[str, Any]


def set_user_data_dir(folder: str | os.PathLike[str] | None) -> None:
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
# (kind, date) -> Release, path -> stamp, ("damaged", path) -> DamagedStore, ``remembered``'s keys ->
# what they computed; valid while pinned. Values of several types: each reader annotates the one
# its own key holds.
_pinned_memo: dict[object, Any] = {}


@contextmanager
def pinned() -> Iterator[None]:
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


_T = TypeVar("_T")


def remembered(key: tuple[object, ...], fn: Callable[..., _T], *args: object) -> _T:
    """``fn(*args)``, remembered under ``key`` while pinned; computed afresh outside a pinned block.

    For what depends only on the releases and a date (the PTP index or MUE
    table in force on a day): a log asks for it once per visit, but the
    releases cannot change inside the block. ``key`` starts with a name that is
    not a release kind, so it never meets ``in_force``'s own memo.
    """
    if not _pinned:
        return fn(*args)
    got: _T | None = _pinned_memo.get(key)
    if got is None:
        got = _pinned_memo[key] = fn(*args)
    return got


def file_stamp(path: str | os.PathLike[str]) -> tuple[int, ...]:
    """(mtime, inode, size) of a data file, to key caches of its parsed content.

    The inode matters: an import replaces a file (os.replace), possibly within
    one mtime tick. Inside a pinned block the answer is remembered.
    """
    if _pinned:
        got: tuple[int, ...] | None = _pinned_memo.get(path)
        if got is not None:
            return got
    try:
        st = os.stat(path)
        stamp: tuple[int, ...] = (st.st_mtime_ns, st.st_ino, st.st_size)
    except OSError:
        stamp = (-1,)
    if _pinned:
        _pinned_memo[path] = stamp
    return stamp


INDEX_NAME = "releases.json"

#: path -> (sha256, rows) of every stored file an index names, for the readers' check
_expected: dict[str, tuple[str, int | None]] = {}


def _index_damage(index: Path, why: str) -> DamagedStore:
    if index.parent == SHIPPED_DIR:
        return DamagedStore(f"{index}: the shipped release index is damaged ({why}); reinstall ptbilling")
    return DamagedStore(f"{index}: the release index is damaged ({why}); run 'ptbilling data repair', "
                        "which rebuilds it from the stored releases")


def _read_entries(folder: Path) -> list[Entry]:
    """The raw entries of ``folder``'s index ([] when it has none); DamagedStore if unreadable."""
    index = folder / INDEX_NAME
    try:
        text = index.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return []
    except UnicodeDecodeError as bad:
        raise _index_damage(index, f"not text at byte {bad.start}") from None
    try:
        entries = json.loads(text)
    except ValueError as err:
        raise _index_damage(index, f"not complete JSON: cut off or edited at character {getattr(err, 'pos', '?')}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _index_damage(index, "not a list of releases")
    for n, e in enumerate(entries, start=1):
        try:
            _release_of(folder, e, "check")
        except (KeyError, TypeError, ValueError) as err:
            raise _index_damage(index, f"release {n} has a bad or missing field: {err}") from None
    return entries


def _release_of(folder: Path, e: Entry, origin: str) -> Release:
    start, end = dt.date.fromisoformat(e["effective_from"]), dt.date.fromisoformat(e["effective_to"])
    if e["kind"] not in KINDS or not isinstance(e["file"], str) or end < start:
        raise ValueError(f"kind {e['kind']!r}, file {e['file']!r}, {start}..{end}")
    return Release(
        kind=e["kind"], path=folder / e["file"], effective_from=start, effective_to=end,
        name=str(e["name"]), source=str(e["source"]), status=str(e["status"]), origin=origin,
        key=str(e.get("key") or e["file"]), rows=e.get("rows"), forced=str(e.get("forced") or ""),
    )


def _read_index(folder: Path, origin: str) -> tuple[Release, ...]:
    out = []
    for e in _read_entries(folder):
        r = _release_of(folder, e, origin)
        if e.get("sha256"):
            _expected[str(r.path)] = (e["sha256"], e.get("rows"))
        out.append(r)
    return tuple(out)


@lru_cache(maxsize=8)
def _releases_cached(user_dir: str | None, stamp: tuple[int, ...]) -> tuple[Release, ...]:
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
        stamp: tuple[int, ...] = (st.st_mtime_ns, st.st_size, st.st_ino)
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
        got: Release | None = _pinned_memo.get((kind, dos))
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
        runs: list[str] = []
        start: int | None = years[0]  # None after the last run: the loop ends there
        for a, b in zip(years, years[1:] + [None]):
            if b != a + 1:
                runs.append(str(start) if start == a else f"{start}-{a}")
                start = b
        return ", ".join(runs)
    return ", ".join(sorted({f"{r.effective_from:%Y-%m-%d}..{r.effective_to:%Y-%m-%d}" for r in mine}))


# --- reading stored release files -------------------------------------------------------

def damaged_file(path: str | os.PathLike[str], line: int | None, why: object) -> DamagedStore:
    """The one-line message for a stored release file that cannot be used as written."""
    path = Path(path)
    where = f"{path} line {line}" if line else str(path)
    if SHIPPED_DIR in path.parents:
        return DamagedStore(f"{where}: the shipped release file is damaged ({why}); reinstall ptbilling", f"{why}")
    return DamagedStore(f"{where}: the stored release is damaged ({why}); run 'ptbilling data repair', "
                        "then import that CMS file again", f"line {line}: {why}" if line else f"{why}")


def read_release_rows(path: str | os.PathLike[str], columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row as a dict) of a normalised release file, checked as a whole first.

    A file the index recorded must have the SHA-256 and the row count it had
    when stored; every file must end with a complete line, carry ``columns`` in
    its header, and have as many cells on each line as the header. Anything
    else is a fragment or a damage: DamagedStore naming the file and line.
    """
    path = Path(path)
    if _pinned:  # a damaged file is named once per whole-log call, not re-read for every visit
        known = _pinned_memo.get(("damaged", str(path)))
        if known is not None:
            raise known
    try:
        return _read_release_rows(path, columns)
    except DamagedStore as e:
        if _pinned:
            _pinned_memo[("damaged", str(path))] = e
        raise


def _read_release_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise damaged_file(path, None, "the file is missing") from None
    expected = _expected.get(str(path))
    if expected and hashlib.sha256(data).hexdigest() != expected[0]:
        raise damaged_file(path, None, "its content is not what was stored: the checksum differs")
    if data and not data.endswith(b"\n"):
        raise damaged_file(path, data.count(b"\n") + 1, "the last line is cut off")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise damaged_file(path, data[: e.start].count(b"\n") + 1, "bytes that are not text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        missing = [c for c in columns if c not in header]
        if missing:
            raise damaged_file(path, 1, f"the header lacks {', '.join(missing)}")
        out = []
        for row in reader:
            if len(row) != len(header):
                raise damaged_file(path, reader.line_num, f"{len(row)} cells where the header has {len(header)}")
            out.append((reader.line_num, dict(zip(header, row))))
    except csv.Error as e:
        raise damaged_file(path, reader.line_num, e) from None
    if expected and expected[1] is not None and len(out) != expected[1]:
        raise damaged_file(path, None, f"{len(out)} rows where {expected[1]} were stored")
    return out


def finite(text: str, where: str, low: float, high: float, what: str = "value") -> float:
    """A number from a CMS or stored file, refused unless finite and within [low, high].

    NaN, inf and 1e308 parse as floats; stored, they print as -6.61 fees or stop
    every Medicare check, so they are refused at the door, naming the line.
    """
    try:
        x = float(text)
    except (TypeError, ValueError):
        raise DataImportError(f"{where}: {what} {text!r} is not a number") from None
    if not math.isfinite(x) or not low <= x <= high:
        raise DataImportError(f"{where}: {what} {text.strip()} is outside {low:g}..{high:g}")
    return x


# --- reading CMS files for import -------------------------------------------------------

_BINARY_SIGNATURES = (
    (b"PK", "a ZIP archive or an Excel workbook"),
    (b"\xd0\xcf\x11\xe0", "a legacy Excel (.xls) or Office file"),
    (b"%PDF", "a PDF"),
)


def read_cms_text(path: str | os.PathLike[str]) -> str:
    """A CMS file's text, read only; DataImportError in one line for anything that is not text.

    CMS files are ASCII; older ones were saved by Excel on Windows (cp1252). A
    binary file (a workbook, a zip, a PDF, an image) is named as such instead
    of failing to decode somewhere inside the importer.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataImportError(f"cannot read {path}: {e.strerror or e}") from None
    for magic, what in _BINARY_SIGNATURES:
        if data.startswith(magic):
            hint = ("; import the .txt or .csv CMS ships, or save the sheet as CSV and import that"
                    if magic in (b"PK", b"\xd0\xcf\x11\xe0") else "; import the CSV or text file CMS ships")
            if magic == b"PK":
                what = "an Excel workbook or a ZIP archive"
            raise DataImportError(f"{path.name} is {what}, not a CMS text file{hint}")
    if b"\x00" in data[:65536]:
        raise DataImportError(f"{path.name} is a binary file, not a CMS text file (CSV or tab-delimited .txt)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as e:
        raise DataImportError(f"{path.name} is not a text file (byte {e.start} is neither UTF-8 nor "
                              "Windows-1252 text); import the CSV or text file CMS ships") from None


# --- changing the user data folder ------------------------------------------------------

LOCK_NAME = ".ptbilling.lock"
#: how long an import waits for another one to finish before it gives up
LOCK_TIMEOUT = 120.0
#: a release keeping less than this share of the rows of the one it replaces is refused without --force
SHRINK_LIMIT = 0.9
DAMAGED_DIR = "damaged"

_locks: dict[tuple[int, str], Any] = {}  # the factory's lock objects (filelock.FileLock)
#: (lock file, timeout) -> a reentrant lock with acquire() and release(), raising TimeoutError
#: when held too long: filelock.FileLock, given by the front door (``set_store_lock``). The core
#: imports only the standard library (the Pyodide build has no filelock, and never imports), and
#: a well-kept library, not a hand-rolled lock, guards the folder; so the front door brings it.
_lock_factory: Callable[[Path, float], Any] | None = None


def set_store_lock(factory: Callable[[Path, float], Any] | None) -> None:
    """The front door gives the lock every change of the user data folder holds (see ``_lock_factory``)."""
    global _lock_factory
    if factory is not _lock_factory:  # the same factory again (each CLI run) keeps its lock objects
        _lock_factory = factory
        _locks.clear()
# our own names: versioned release files and their records, and the unique temp files
_VERSIONED = re.compile(r"\.v(\d+)\.csv(\.json)?$")


def _versioned_name(key: str, generation: int) -> str:
    k = Path(key)
    return str(k.with_name(f"{k.stem}.v{generation}{k.suffix}").as_posix())


@contextmanager
def store_lock(folder: Path | None = None) -> Iterator[Path]:
    """Hold the user data folder's lock: one changer at a time, across processes.

    Reentrant within a thread (an importer may hold it around its own reads
    and then call :func:`store_release`). The OS drops the lock when a process
    dies, so a killed import never leaves the folder locked. Readers take no
    lock: what they read (the index, and the versioned files it names) is
    never changed in place.
    """
    folder = Path(folder or writable_user_data_dir())
    if _lock_factory is None:
        raise DataImportError("no lock for the user data folder: import through the ptbilling command "
                              "(its front door provides the lock); nothing stored")
    folder.mkdir(parents=True, exist_ok=True)
    # one lock object per folder and process: a second object on the same file would
    # wait for the first (flock is per open file), and a forked child must not share its parent's
    key = (os.getpid(), str(folder))
    lock = _locks.get(key)
    if lock is None:
        lock = _locks[key] = _lock_factory(folder / LOCK_NAME, LOCK_TIMEOUT)
    try:
        lock.acquire()
    except TimeoutError:  # filelock.Timeout is one
        raise StoreBusy(f"another ptbilling import has held {folder / LOCK_NAME} for over "
                        f"{LOCK_TIMEOUT:g} s; try again when it has finished") from None
    try:
        yield folder
    finally:
        lock.release()


def _fsync_dir(folder: Path) -> None:
    with suppress(OSError, AttributeError):  # not every OS can open a directory (Windows)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _temp_name(target: Path) -> Path:
    """A new, unique hidden file beside ``target``. Created with the user's umask (not mkstemp's
    0600), so a data folder an office shares between clerks stays readable to all of them."""
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue


def _replace(src: Path, dst: Path, tries: int = 50) -> None:
    """os.replace, retried briefly on Windows, where a reader holding ``dst`` open blocks it
    for the moment of its read (POSIX renames over open files)."""
    for _ in range(tries - 1):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if os.name != "nt":
                raise
            import time  # a wait for the file system, not the date: rules never read the clock

            time.sleep(0.02)
    os.replace(src, dst)


def _write_atomic(target: Path, data: bytes) -> None:
    """``target`` holds ``data`` or its old content, never a part: unique temp, fsync, os.replace."""
    tmp = _temp_name(target)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def _commit(folder: Path, entries: list[Entry]) -> None:
    """Switch the index: the one step that makes a change visible (and the one a crash cannot split)."""
    _write_atomic(folder / INDEX_NAME, json.dumps(entries, indent=1).encode("utf-8"))
    _releases_cached.cache_clear()  # two imports within one clock tick must both be seen
    if _pinned:  # changing inside a pinned block: the block sees its own import
        depth = len(_pinned)
        _pinned.clear()
        _pinned.extend([releases()] * depth)
        _pinned_memo.clear()


def _entry_key(e: Entry) -> str:
    key: str = e.get("key") or e["file"]  # text: ptbilling writes both so, _release_of checks "file"
    return key


def _our_files(folder: Path) -> Iterator[Path]:
    """Every file of the folder this module may have written (never a file the user put there)."""
    for sub in (folder, folder / "ncci", folder / "pfs"):
        if not sub.is_dir():
            continue
        for p in sub.iterdir():
            if p.is_file() and (_VERSIONED.search(p.name) or (p.name.startswith(".") and p.name.endswith(".tmp"))
                                or p.name.endswith(".csv.tmp") or p.name == "releases.tmp"):
                yield p


def _collect_garbage(folder: Path, entries: list[Entry], dropped: tuple[str, ...] = ()) -> None:
    """Remove what no index entry names any more: files of killed imports, temp files, and
    versions two imports old. The version just replaced stays (``previous``): a reader
    that read the index a moment ago may still open it."""
    keep = set()
    for e in entries:
        keep.add(e["file"])
        keep.add(e["file"] + ".json")
        if e.get("previous"):
            keep.add(e["previous"])
    for p in list(_our_files(folder)) + [folder / d for d in dropped]:
        rel = p.relative_to(folder).as_posix()
        if rel not in keep:
            with suppress(OSError):
                p.unlink()


def _next_generation(folder: Path, entries: list[Entry]) -> int:
    gens = [e.get("generation", 0) for e in entries]
    gens += [int(m.group(1)) for p in _our_files(folder) if (m := _VERSIONED.search(p.name))]
    return max(gens, default=0) + 1


def _count_rows(path: Path) -> int | None:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return max(sum(1 for _ in csv.reader(f)) - 1, 0)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


#: what identifies a row of each kind's normalised file: what a cut-off file loses
_ROW_KEYS = {"rvu": ("code", "modifier"), "gpci": ("locality",), "mue": ("code",),
             "ptp": ("code1", "code2", "effective")}


def _row_keys(kind: str, path: Path) -> list[tuple[str, ...]] | None:
    """The identifying cells of every row of a normalised file, in order; None if unreadable."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return [tuple(d.get(c) or "" for c in _ROW_KEYS[kind]) for d in csv.DictReader(f)]
    except (OSError, UnicodeDecodeError, csv.Error, KeyError):
        return None


def _intact(path: Path, e: Entry) -> bool:
    """The stored file is the one recorded (its SHA-256, when the index has it)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return not e.get("sha256") or hashlib.sha256(data).hexdigest() == e["sha256"]


def _replaced(kind: str, key: str, start: dt.date, entries: list[Entry], folder: Path,
              same_key_only: bool) -> tuple[str, Path] | None:
    """(name, file) of the official release the new one takes the place of.

    The same key if it is stored (and intact: replacing a damaged release is its
    repair), else the release in force on ``start``. Unverified seeds are never
    a measure: they hold a handful of rows by design.
    """
    for e in entries:
        if _entry_key(e) == key and e.get("status") == "official":
            return (e["name"], folder / e["file"]) if _intact(folder / e["file"], e) else None
    if same_key_only:
        return None
    try:
        shipped = [r for r in _read_index(SHIPPED_DIR, "shipped") if r.kind == kind and r.covers(start)]
        imported = [_release_of(folder, e, "imported") for e in entries]
    except (DamagedStore, KeyError, TypeError, ValueError):
        return None
    imported = [r for r in imported if r.kind == kind and r.covers(start) and r.status == "official"]
    shipped = [r for r in shipped if r.status == "official"]
    for group in (imported, shipped):
        if group:
            r = max(group, key=lambda r: r.effective_from)
            return r.name, r.path
    return None


def _shrinkage(kind: str, new: Path, old: tuple[str, Path] | None) -> str | None:
    """Why the new file looks cut off against the release it replaces, or None.

    Measured by the rows of the old release missing from the new one (codes,
    localities, code pairs): a complete CMS file replacing the shipped therapy
    rows has them all, however few the shipped rows are; a cut-off file lacks
    those past the cut. More than 10% missing is refused.
    """
    if old is None:
        return None
    old_keys, new_keys = _row_keys(kind, old[1]), _row_keys(kind, new)
    if not old_keys or new_keys is None:
        return None
    have = set(new_keys)
    distinct = list(dict.fromkeys(old_keys))
    missing = [k for k in distinct if k not in have]
    if len(missing) <= (1 - SHRINK_LIMIT) * len(distinct):
        return None
    shown = ", ".join("/".join(c for c in k if c) for k in missing[:3]) + (", ..." if len(missing) > 3 else "")
    return (f"{len(new_keys)} rows where the release it replaces ({old[0]}) has {len(old_keys)}; "
            f"{len(missing)} of its rows are missing ({shown})")


def stored_release(file_name: str, folder: Path | None = None) -> Release | None:
    """The imported release stored under ``file_name`` (its key), read fresh from the index; None if none.

    Call it under :func:`store_lock` to read, merge and store without another import in between.
    """
    folder = Path(folder or writable_user_data_dir())
    for e in _read_entries(folder):
        if _entry_key(e) == file_name:
            r = _release_of(folder, e, "imported")
            if e.get("sha256"):
                _expected[str(r.path)] = (e["sha256"], e.get("rows"))
            return r
    return None


def store_release(kind: str, file_name: str, write: Callable[[Path], None], effective_from: dt.date, effective_to: dt.date,
                  name: str, source: str, status: str = "official", input_path: Path | None = None,
                  *, force: bool = False, same_key_only: bool = False) -> Release:
    """Store an imported release in the user data folder, as one transaction.

    ``write(path)`` writes the normalised file (the importer has validated every
    row already). Under the folder's lock: the file goes to a unique temporary
    name, is flushed to disk and renamed to a new versioned name; then the index
    is switched in one ``os.replace``. Whatever fails or is killed before that
    switch leaves the previous state as it was (the next import or ``data
    repair`` removes the leftovers). ``file_name`` is the release's key: storing
    the same key again replaces that release.

    A release that lacks over 10% of the rows (codes, localities, pairs) of the
    official one it replaces (the same key, else the release in force on
    ``effective_from``; only the same key when ``same_key_only``) is refused,
    as a cut-off file would be, unless ``force``; a forced release says so in
    ``data list``. ``input_path`` (the user's CMS file) is refused if it is a
    stored release file: an import only reads it.
    """
    folder = writable_user_data_dir()
    if input_path is not None:
        inp = Path(input_path).resolve()
        if inp == (folder / file_name).resolve() or (folder.resolve() in inp.parents and _VERSIONED.search(inp.name)):
            raise DataImportError(f"{input_path} is the imported release itself; import the CMS file")
    with store_lock(folder):
        try:
            entries = _read_entries(folder)
        except DamagedStore:
            # re-importing repairs a damaged index: rebuilt from the records beside the stored
            # files (``store_repair`` also checks each file; the CLI runs it first)
            entries = _rebuilt_entries(folder)
        generation = _next_generation(folder, entries)
        stored_name = _versioned_name(file_name, generation)
        target = folder / stored_name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_name(target)
        try:
            write(tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
                data = f.read()
            rows = _count_rows(tmp)
            forced = ""
            what = _shrinkage(kind, tmp, _replaced(kind, file_name, effective_from, entries, folder, same_key_only))
            if what:
                if not force:
                    shown = Path(input_path).name if input_path is not None else file_name
                    raise DataImportError(
                        f"{shown}: {what}; a cut-off or partial file? Import the complete CMS file, "
                        "or add --force if CMS really dropped that many")
                forced = f"forced: {what}"
            os.replace(tmp, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
        entry = {
            "kind": kind, "key": file_name, "file": stored_name,
            "effective_from": effective_from.isoformat(), "effective_to": effective_to.isoformat(),
            "name": name, "source": source, "status": status,
            "rows": rows, "sha256": hashlib.sha256(data).hexdigest(), "generation": generation,
        }
        if forced:
            entry["forced"] = forced
        replaced = [e for e in entries if _entry_key(e) == file_name]
        if replaced:
            entry["previous"] = replaced[0]["file"]
        # the record beside the file: what `data repair` rebuilds a lost index from
        _write_atomic(target.with_name(target.name + ".json"), json.dumps(entry, indent=1).encode("utf-8"))
        new_entries = [e for e in entries if _entry_key(e) != file_name] + [entry]
        _commit(folder, new_entries)
        dropped = tuple(p for e in replaced for p in (e.get("previous"),) if p and p != entry.get("previous"))
        _collect_garbage(folder, new_entries, dropped)
    _expected[str(target)] = (str(entry["sha256"]), rows)
    return Release(kind, target, effective_from, effective_to, name, source, status, "imported",
                   key=file_name, rows=rows, forced=forced)


def register_release(kind: str, file_name: str, effective_from: dt.date, effective_to: dt.date,
                     name: str, source: str, status: str, folder: Path | None = None) -> Path:
    """Record a release file already written into the user data folder in its index (replacing one of
    the same file), under the lock and with an atomic switch of the index. For files written by hand
    (tests, tools); an import goes through :func:`store_release`."""
    folder = Path(folder or writable_user_data_dir())
    with store_lock(folder):
        entries = [e for e in _read_entries(folder) if _entry_key(e) != file_name]
        entries.append({
            "kind": kind, "file": file_name,
            "effective_from": effective_from.isoformat(), "effective_to": effective_to.isoformat(),
            "name": name, "source": source, "status": status,
        })
        _commit(folder, entries)
    return folder / file_name


def write_release_csv(path: str | os.PathLike[str], columns: tuple[str, ...],
                      rows: Iterable[Sequence[object]]) -> None:
    """A normalised release file: one header line of ``columns``, then ``rows`` (sequences of cells)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)


# --- damage: finding and repairing ------------------------------------------------------

_LEGACY = (  # file names of releases stored before the index kept records: kind, dates from the name
    (re.compile(r"^rvu_(\d{4})\.csv$"), "rvu"),
    (re.compile(r"^gpci_(\d{4})\.csv$"), "gpci"),
    (re.compile(r"^ncci/ptp_(\d{4}-\d{2}-\d{2})\.csv$"), "ptp"),
    (re.compile(r"^ncci/mue_(\d{4}-\d{2}-\d{2})\.csv$"), "mue"),
)


def _rebuilt_entries(folder: Path) -> list[Entry]:
    """The index as the stored records say: per key, the newest version whose file is there;
    a release stored before records existed is recovered from its file name."""
    best: dict[str, Entry] = {}
    for p in _our_files(folder):
        if not p.name.endswith(".csv.json"):
            continue
        try:
            e = json.loads(p.read_text(encoding="utf-8"))
            _release_of(folder, e, "check")
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if (folder / e["file"]).is_file() and e.get("generation", 0) >= best.get(_entry_key(e), {}).get("generation", -1):
            best[_entry_key(e)] = e
    for sub in (folder, folder / "ncci"):
        for p in sorted(sub.glob("*.csv")) if sub.is_dir() else ():
            rel = p.relative_to(folder).as_posix()
            for pattern, kind in _LEGACY:
                m = pattern.match(rel)
                if m and rel not in best:
                    if kind in ("rvu", "gpci"):
                        start, end = dt.date(int(m.group(1)), 1, 1), dt.date(int(m.group(1)), 12, 31)
                    else:
                        start, end = dt.date.fromisoformat(m.group(1)), dt.date(2099, 12, 31)
                    best[rel] = {"kind": kind, "file": rel, "effective_from": start.isoformat(),
                                 "effective_to": end.isoformat(),
                                 "name": f"{KINDS[kind]} {rel} (index entry rebuilt by data repair)",
                                 "source": f"recovered by 'ptbilling data repair' from {rel}; "
                                           "import the CMS file again to restore its name and source",
                                 "status": "official"}
    return sorted(best.values(), key=lambda e: (e["kind"], e["effective_from"]))


def shipped_releases() -> tuple[Release, ...]:
    """The releases that come with the package (what ``data list`` can show when the user index is damaged)."""
    return _read_index(SHIPPED_DIR, "shipped")


def index_damage(folder: Path | None = None) -> str | None:
    """The one-line message when the user data folder's index is damaged, else None."""
    folder = folder or user_data_dir()
    if folder is None:  # no user data folder: only the shipped data, nothing to damage
        return None
    try:
        _read_entries(Path(folder))
    except DamagedStore as e:
        return str(e)
    return None
