"""CMS's yearly PFS Relative Value Files download (``RVUyyA.zip`` ... ``RVUyyD.zip``), imported in one step.

References:
- CMS, "PFS Relative Value Files" page: one zip per release of a year, A in
  January, B in April, C in July, D in October. It holds the PPRRVU relative
  value file as CSV, XLSX and TXT (from 2026 in two versions: for qualifying
  APM participants, "QPP", and for everyone else, "nonQPP"; they differ only
  in CONV FACTOR), the GPCI file (Addendum E), and the anesthesia, locality
  and OPPS cap files, which the rules do not use.
- therapy-billing-rules.md sections 7 (the two 2026 conversion factors),
  10 and 11 (the 2026 files and their layout).

Judgement calls, fixed here so an import is predictable:

- Each file is recognised by what it holds, never by its name: a PPRRVU file
  is a CSV whose title says "<year> National Physician Fee Schedule Relative
  Value File <month> Release" and whose header the PPRRVU importer reads; a
  GPCI file is a CSV with GPCI columns and locality rows. The TXT and XLSX
  copies hold the same data as the CSV and are skipped, as are the other files.
- The year and the release come from the PPRRVU title (July is C). A GPCI
  file of another year, a ``year`` given by the caller, or a CMS-style zip
  name (``RVU27A.zip``) that says another year or release, is refused.
- Two PPRRVU CSVs of one release must have the same relative values; the one
  with the lower conversion factor is the non-QP file, the default (from 2026
  the law gives qualifying APM participants the larger yearly update, 0.75%
  against 0.25%). The QP factor is named in the release, for ``data list``.
- One release of a year is in force for every date of that year (as
  ``import-rvu`` does): CMS's later releases of a year restate the whole file
  with its corrections. So an older release than the one installed for the
  year (RVU26A over RVU26C) is refused, and the same release again, with the
  same rows, stores nothing and says so.
- Everything is checked before anything is stored.
"""
from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from . import datasets, gpci_file, rvu_file
from .errors import DataImportError, UnsupportedDate

#: the month of the title -> CMS's release letter
RELEASE_LETTERS = {"JANUARY": "A", "APRIL": "B", "JULY": "C", "OCTOBER": "D"}
_TITLE = re.compile(r"\b((?:19|20)\d\d)\s+National Physician Fee Schedule Relative Value File"
                    r"(?:\s+(January|April|July|October)\s+Release)?", re.I)
_RELEASED = re.compile(r"RELEASED\s+(\d\d?/\d\d?/\d{4})", re.I)
_RELEASE_ID = re.compile(r"\bRVU(\d\d)([A-D])\b", re.I)
_HEAD_CHARS = 8000  # the title lines of a PPRRVU file, well before its first code row


def release_id(year: int, letter: str) -> str:
    """2026, 'C' -> 'RVU26C': CMS's name of the release (and of its zip)."""
    return f"RVU{year % 100:02d}{letter}"


def release_of_name(text: str) -> tuple[int, str] | None:
    """(year's last two digits, letter) of the first 'RVUyyX' in ``text``, or None."""
    m = _RELEASE_ID.search(text)
    return (int(m.group(1)), m.group(2).upper()) if m else None


@dataclass(frozen=True)
class Title:
    """What the title lines of a PPRRVU file say."""

    year: int
    letter: str  # A-D, or "" when the title names no month
    text: str  # "2026 National Physician Fee Schedule Relative Value File July Release"
    released: str  # "06/30/2026", or ""


def pprrvu_title(text: str) -> Title | None:
    """The title of a PPRRVU file (its lines above the HCPCS header), or None when it has none."""
    head = text[:_HEAD_CHARS]
    m = _TITLE.search(head)
    if not m:
        return None
    letter = RELEASE_LETTERS[m.group(2).upper()] if m.group(2) else ""
    released = _RELEASED.search(head)
    return Title(int(m.group(1)), letter, " ".join(m.group(0).split()), released.group(1) if released else "")


def decode(data: bytes) -> str:
    """A CMS text file's bytes as text: UTF-8 (with or without BOM), else Windows-1252 (older files)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _is_binary(data: bytes) -> bool:
    # XLSX (a zip), PDF and other binaries: never parsed as text
    return data[:4] in (b"PK\x03\x04", b"%PDF") or b"\x00" in data[:4096]


@dataclass
class _Rvu:
    member: str
    title: Title
    rows: list[rvu_file.RvuRow]


@dataclass
class ZipImport:
    """What ``import_members`` found and did."""

    archive: str
    release: str  # "RVU26C"
    year: int
    title: Title
    rvu_member: str
    conversion_factor: float | None  # the non-QP (default) factor of the file
    qp_conversion_factor: float | None  # the QP factor, when the zip has the QPP file
    rvu: datasets.Release | None = None  # the release stored; None when unchanged
    gpci_member: str | None = None
    gpci: datasets.Release | None = None
    unchanged: list[str] = field(default_factory=list)  # kinds already installed exactly so
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (member, why)


def _factor(rows: Sequence[rvu_file.RvuRow]) -> float | None:
    cfs = {r.conversion_factor for r in rows if r.conversion_factor}
    return cfs.pop() if len(cfs) == 1 else None


def _without_cf(rows: Sequence[rvu_file.RvuRow]) -> list[tuple[object, ...]]:
    return [(r.code, r.modifier, r.status, r.work_rvu, r.pe_rvu_nonfacility, r.pe_rvu_facility, r.mp_rvu,
             r.mult_proc) for r in rows]


def classify(members: Sequence[tuple[str, bytes]]
             ) -> tuple[list[_Rvu], list[tuple[str, str]], list[tuple[str, str]]]:
    """(PPRRVU CSVs, GPCI CSVs as (member, text), skipped as (member, why)) by content alone."""
    rvus: list[_Rvu] = []
    gpcis: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for name, data in members:
        if _is_binary(data):
            skipped.append((name, "not a text file (XLSX and PDF copies)"))
            continue
        text = decode(data)
        title = pprrvu_title(text)
        if title is not None:
            try:
                rvus.append(_Rvu(name, title, rvu_file.parse_rvu_file(text)))
            except DataImportError:
                skipped.append((name, "a copy of the PPRRVU file in another layout (TXT); the CSV is read"))
            continue
        if "GPCI" in text[:_HEAD_CHARS].upper():
            try:
                gpci_file.parse_gpci_file(text)
            except DataImportError as e:
                skipped.append((name, f"mentions GPCIs but is not a GPCI file ({e})"))
                continue
            gpcis.append((name, text))
            continue
        skipped.append((name, "not a PPRRVU or GPCI file (the rules do not use it)"))
    return rvus, gpcis, skipped


def _pick_rvu(rvus: list[_Rvu], archive: str) -> tuple[_Rvu, float | None, tuple[float, str] | None]:
    """(the non-QP file, its factor, (the QP factor, the QP file) or None) from the zip's PPRRVU CSVs.

    Only a file that states one conversion factor can be told apart as QP or non-QP: a copy
    whose CONV FACTOR is blank (or mixed) is neither, and is skipped as a copy of the release.
    """
    releases = {(r.title.year, r.title.letter) for r in rvus}
    if len(releases) > 1:
        shown = ", ".join(f"{r.member}: {r.title.text}" for r in rvus)
        raise DataImportError(f"{archive} holds PPRRVU files of different releases ({shown}); nothing stored")
    by_cf: dict[float, _Rvu] = {}
    for r in rvus:
        factor = _factor(r.rows)
        if factor is not None:
            by_cf.setdefault(factor, r)
    first = rvus[0]
    for r in rvus[1:]:
        if _without_cf(r.rows) != _without_cf(first.rows):
            raise DataImportError(f"{archive}: {r.member} and {first.member} are one release with different "
                                  "relative values; nothing stored — download the zip again from CMS")
    if len(by_cf) > 2:
        raise DataImportError(f"{archive}: its PPRRVU files state {len(by_cf)} conversion factors; nothing stored")
    if not by_cf:
        return first, None, None
    factors = sorted(by_cf)
    nonqp = by_cf[factors[0]]
    if len(factors) == 2:
        return nonqp, factors[0], (factors[1], by_cf[factors[1]].member)
    return nonqp, factors[0], None


_Rows = TypeVar("_Rows")


def _same_release_file(write: Callable[[Path], None], existing: Path, read: Callable[[Path], _Rows]) -> bool:
    """Would ``write`` produce what ``existing`` holds (as the rules read it)?"""
    if not existing.is_file():
        return False
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.csv"
        write(probe)
        return read(probe) == read(existing)


def _installed(kind: str, year: int) -> datasets.Release | None:
    try:
        return datasets.in_force(kind, dt.date(year, 1, 1))
    except UnsupportedDate:
        return None


def store_year(kind: str, year: int, write: Callable[[Path], None], name: str, source: str, input_path: Path | None,
               *, force: bool = False) -> datasets.Release:
    """Store an imported RVU or GPCI release for the whole calendar ``year`` (replacing that year's import).

    One transaction of :func:`datasets.store_release`; a release much smaller than
    the one it replaces is refused unless ``force``.
    """
    return datasets.store_release(kind, f"{kind}_{year}.csv", write, dt.date(year, 1, 1), dt.date(year, 12, 31),
                                  name, source, "official", input_path=input_path, force=force)


def import_members(members: Sequence[tuple[str, bytes]], archive: str, year: int | None = None,
                   input_path: Path | None = None, *, force: bool = False) -> ZipImport:
    """Import the PPRRVU (non-QP) and GPCI files among a CMS zip's ``members`` (name, bytes).

    ``archive`` is the zip's file name (for messages, and checked when it is a
    CMS-style ``RVUyyX.zip``); ``year``, when given, must be the title's.
    Raises DataImportError naming the problem, with nothing stored. A file much
    smaller than the release it replaces is refused unless ``force``.
    """
    rvus, gpcis, skipped = classify(members)
    if not rvus:
        raise DataImportError(f"{archive} has no PPRRVU relative value file (CSV) — not CMS's RVUyyA-D.zip from "
                              "the PFS Relative Value Files page; nothing stored")
    chosen, cf, qp = _pick_rvu(rvus, archive)
    qp_cf, qp_member = qp if qp is not None else (None, None)
    title = chosen.title
    if year is not None and int(year) != title.year:
        raise DataImportError(f"{archive}: --year {year} contradicts its PPRRVU title ({title.text}); nothing stored")
    named = release_of_name(Path(archive).name)
    if named is not None and (named[0] != title.year % 100 or (title.letter and named[1] != title.letter)):
        raise DataImportError(f"{archive} is named for {release_id(2000 + named[0], named[1])} but its PPRRVU file "
                              f"says {title.text}; nothing stored — download the zip again from CMS")
    if not title.letter:
        raise DataImportError(f"{archive}: the PPRRVU title ({title.text}) names no release month; nothing stored — "
                              "import it with `ptbilling data import-rvu`")
    if len(gpcis) > 1:
        raise DataImportError(f"{archive} holds {len(gpcis)} GPCI files ({', '.join(n for n, _ in gpcis)}); "
                              "nothing stored")
    gpci_rows = None
    gpci_member = None
    if gpcis:
        gpci_member, text = gpcis[0]
        found = gpci_file.file_year(text)
        if found is not None and found != title.year:
            raise DataImportError(f"{archive}: {gpci_member} is the {found} GPCI file but the PPRRVU title says "
                                  f"{title.year}; nothing stored")
        gpci_rows = gpci_file.parse_gpci_file(text)
    rid = release_id(title.year, title.letter)
    installed = _installed("rvu", title.year)
    have = release_of_name(installed.name) if installed is not None else None
    if installed is not None and have is not None and have[0] == title.year % 100 and have[1] > title.letter:
        raise DataImportError(f"{archive} is {rid}, older than {release_id(title.year, have[1])} already in use for "
                              f"{title.year} ({installed.origin}); nothing stored — import the newest release")
    skipped += [(r.member, "the same relative values as " + chosen.member) for r in rvus
                if r is not chosen and r.member != qp_member]
    if qp is not None:
        skipped.append((qp[1], f"the QPP file: conversion factor {qp[0]:g} for qualifying APM participants only"))
    result = ZipImport(archive, rid, title.year, title, chosen.member, cf, qp_cf, gpci_member=gpci_member,
                       skipped=skipped)

    released = f", released {title.released}" if title.released else ""
    qp_note = f"; QP conversion factor {qp[0]:g} ({qp[1]})" if qp is not None else ""

    cf_note = f"; conversion factor {cf:g}" if cf is not None else ""
    rows = chosen.rows
    rvu_name = f"{rid}: {title.text}{released}, {len(rows)} rows{cf_note}{qp_note}"
    rvu_source = f"CMS PFS Relative Value Files, {rid} ({Path(archive).name}): {chosen.member}"

    def write_rvu(p: Path) -> None:
        rvu_file.write_release_csv(rows, p)

    jobs: list[tuple[str, Callable[[Path], None], str, str]] = []
    if installed is not None and have == (title.year % 100, title.letter) and _same_release_file(
            write_rvu, installed.path, rvu_file.read_release_csv):
        result.unchanged.append("rvu")
    else:
        jobs.append(("rvu", write_rvu, rvu_name, rvu_source))
    if gpci_rows is not None:
        def write_gpci(p: Path) -> None:
            gpci_file.write_release_csv(gpci_rows, p)

        old = _installed("gpci", title.year)
        if old is not None and _same_release_file(write_gpci, old.path, gpci_file.read_release_csv):
            result.unchanged.append("gpci")
        else:
            jobs.append(("gpci", write_gpci,
                         f"CY {title.year} GPCIs by locality (Addendum E, {rid}), {len(gpci_rows)} localities",
                         f"CMS PFS Relative Value Files, {rid} ({Path(archive).name}): {gpci_member}"))
    for kind, write, name, source in jobs:
        stored = store_year(kind, title.year, write, name, source, input_path, force=force)
        if kind == "rvu":
            result.rvu = stored
        else:
            result.gpci = stored
    return result
