"""The HCPCS/CPT code catalog: what each therapy code is, for the rules.

For each code: timed (15-minute, 8-minute rule) or untimed (one unit per day),
family, discipline, whether it is an "always" or "sometimes" therapy code, and
its Medicare payment status and MULT PROC indicator from the fee schedule
release in force on the date of service.

Labels are our own words; CPT descriptors are AMA copyright and are never copied.

References:
- therapy-billing-rules.md section 3 (timed and untimed codes, families).
- CMS Pub. 100-04 ch. 5 section 20.2 (timed codes are "each 15 minutes").
- CMS PFS Relative Value File (PPRRVU), STATUS CODE and MULT PROC columns;
  shipped: RVU25D, October 2025 release (see datasets.py / releases.json).
- CMS "Annual Therapy Update" code list ("always" vs "sometimes" therapy).
Codes whose ``timing_source`` says ``unverified`` were classified from their
published unit of time without a primary source; they are shown as such.

Deleted codes (``data/deleted_codes.csv``: code, date deleted, replacement, source,
``official``/``unverified``) are named as such, with their replacement, instead of
being offered look-alike codes: 97001 is "deleted in 2017, use 97161-97163", not
"did you mean 97110".
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import lru_cache

from . import datasets
from .errors import DamagedStore, UnknownCode, UnsupportedDate
from .rvu_file import read_release_csv

TIMED = "timed"
UNTIMED = "untimed"
PER_APPLICATION = "per application"  # in ``timing_source``: one unit per application (strapping)
OTHER_TIME = "other-time"  # time-based, but not in 15-minute units: not counted by the 8-minute rule

#: The catalog starts with the 2017 evaluation codes (97161-97172); earlier
#: years used codes this catalog does not know.
FIRST_YEAR = 2017


@dataclass(frozen=True)
class CodeInfo:
    code: str
    label: str
    timing: str
    family: str
    discipline: str  # PT, OT, SLP or any
    therapy: str  # always, sometimes, never
    since: dt.date
    timing_source: str
    status: str  # Medicare payment status (A, B, C, I, N, R, ...) or "" when no release
    mult_proc: str
    status_release: str  # which fee schedule release the status came from

    @property
    def timed(self) -> bool:
        return self.timing == TIMED

    @property
    def per_application(self) -> bool:
        """Billed one unit per application (strapping), not one per visit: the catalog's
        ``timing_source`` says so (``per_application.applications`` tells applications apart)."""
        return PER_APPLICATION in self.timing_source


def normalize_code(value: object) -> str | None:
    """'97110', 97110.0, ' g0283 ' -> '97110', 'G0283'; blank -> None.

    Excel hands numbers as floats, and staff type codes in lower case or with
    spaces; all mean the same code.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer():
            return str(int(value)).zfill(5) if 0 <= value < 100000 else str(int(value))
        return str(value)
    if isinstance(value, int):
        return str(value).zfill(5) if 0 <= value < 100000 else str(value)
    text = "".join(str(value).split()).upper()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text or None


@lru_cache(maxsize=1)
def _base_rows() -> tuple[dict[str, str], ...]:
    with open(datasets.SHIPPED_DIR / "code_catalog.csv", newline="", encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


@dataclass(frozen=True)
class DeletedCode:
    code: str
    deleted: dt.date  # the first date of service it is no longer valid
    replaced_by: str
    what: str
    source: str
    status: str  # official or unverified


@lru_cache(maxsize=1)
def deleted_codes() -> dict[str, DeletedCode]:
    """Deleted therapy codes and what replaced them (data/deleted_codes.csv)."""
    with open(datasets.SHIPPED_DIR / "deleted_codes.csv", newline="", encoding="utf-8") as f:
        return {r["code"]: DeletedCode(r["code"], dt.date.fromisoformat(r["deleted"]), r["replaced_by"], r["what"],
                                       r["source"], r["status"]) for r in csv.DictReader(f)}


def unknown_hint(code: str, known: Collection[str], dos: dt.date | None) -> str:
    """Why a code is not in the catalog: deleted (and its replacement), else close matches."""
    gone = deleted_codes().get(code)
    if gone is not None and (dos is None or dos >= gone.deleted):
        return f"deleted in {gone.deleted.year}: use {gone.replaced_by}, {gone.what}"
    close = difflib.get_close_matches(code, known, n=3, cutoff=0.6)
    return ("did you mean " + " or ".join(close)) if close else "not a therapy code in the catalog"


class Catalog:
    """Codes known on one date of service; ``catalog[code]`` raises UnknownCode."""

    def __init__(self, infos: dict[str, CodeInfo], dos: dt.date | None):
        self._infos = infos
        self.dos = dos

    def __contains__(self, code: object) -> bool:
        return code in self._infos

    def __iter__(self) -> Iterator[CodeInfo]:
        return iter(self._infos.values())

    def __len__(self) -> int:
        return len(self._infos)

    def get(self, code: str | None) -> CodeInfo | None:
        return self._infos.get(code) if code is not None else None

    def __getitem__(self, code: str) -> CodeInfo:
        info = self._infos.get(code)
        if info is None:
            raise UnknownCode(code, unknown_hint(code, self._infos, self.dos))
        return info


def _status_release(dos: dt.date | None) -> tuple[datasets.Release | None, bool]:
    """The fee schedule release whose STATUS/MULT PROC apply on ``dos``.

    A year with no release yet (say, January before CMS's file is imported)
    takes the latest earlier release and says so in ``status_release``: payment
    status rarely changes, and the fee functions refuse such years outright.
    """
    try:
        known = datasets.releases()
    except DamagedStore:
        if dos is not None:
            raise
        # the date-free catalog (timed or untimed, family) needs no imported release:
        # PT_UNITS and 'ptbilling units' keep working while the index awaits repair
        known = datasets.shipped_releases()
    rvus = [r for r in known if r.kind == "rvu"]
    if dos is not None:
        try:
            return datasets.in_force("rvu", dos), False
        except UnsupportedDate:
            rvus = [r for r in rvus if r.effective_from <= dos]
    if not rvus:
        return None, False
    rvus.sort(key=lambda r: (r.effective_from, r.origin == "imported"))
    return rvus[-1], dos is not None


@lru_cache(maxsize=32)
def _build(release: datasets.Release | None, carried: bool, dos: dt.date | None) -> Catalog:
    status = read_release_csv(release.path) if release is not None else {}
    where = ""
    if release is not None:
        # only a dated catalog is carried forward (_status_release), so dos is a date there
        where = release.name + (f" (carried forward to {dos.year})" if carried and dos is not None else "")
    infos = {}

    for row in _base_rows():
        since = dt.date.fromisoformat(row["since"])
        if dos is not None and dos < since:
            continue
        s = status.get(row["code"])
        infos[row["code"]] = CodeInfo(
            code=row["code"], label=row["label"], timing=row["timing"], family=row["family"],
            discipline=row["discipline"], therapy=row["therapy"], since=since,
            timing_source=row["timing_source"],
            status=s.status if s else "", mult_proc=s.mult_proc if s else "",
            status_release=where if s else "",
        )
    return Catalog(infos, dos)


def catalog_for(dos: dt.date | None = None) -> Catalog:
    """The catalog in force on date of service ``dos``.

    ``None`` asks only for what does not depend on the date (timed or untimed,
    family, discipline), as ``PT_UNITS`` does; the status then comes from the
    newest release and must not be used for payment.
    Raises UnsupportedDate for years before the catalog starts.
    """
    if isinstance(dos, dt.datetime):
        dos = dos.date()
    if dos is not None and dos.year < FIRST_YEAR:
        raise UnsupportedDate("code catalog", dos.year, f"{FIRST_YEAR} and later")
    release, carried = _status_release(dos)
    # Cache by what actually differs: the release and, for codes added later
    # (97129, 97550...), whether they exist yet. Year granularity is enough.
    key_date = None if dos is None else dt.date(dos.year, 1, 1)
    try:
        return _build(release, carried, key_date)
    except DamagedStore:
        if dos is not None:
            raise
        # date-free: the newest shipped release gives the same timing and family
        shipped = [r for r in datasets.shipped_releases() if r.kind == "rvu"]
        return _build(max(shipped, key=lambda r: r.effective_from) if shipped else None, False, None)


def lookup(code: object, dos: dt.date | None = None) -> CodeInfo:
    """One code's entry; raises UnknownCode naming the code (and close matches)."""
    norm = normalize_code(code)
    if norm is None:
        raise UnknownCode("(blank)", "a code is required")
    return catalog_for(dos)[norm]
