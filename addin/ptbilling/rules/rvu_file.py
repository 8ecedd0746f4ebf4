"""Importer for CMS's Physician Fee Schedule relative value file (PPRRVU).

References:
- CMS, "PFS Relative Value Files" (quarterly RVUyyA-D zips); the PPRRVUyy CSV layout:
  nine title/header lines, then the column header row starting ``HCPCS``.
- therapy-billing-rules.md section 11 (the shared 2025 October release, RVU25D).

Headers drift between years (words move between the stacked header lines), so
columns are found by the words of each column's whole stacked header, never by
position. Only what the rules use is kept. DESCRIPTION is never read: CPT
descriptors are AMA copyright.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from os import PathLike

from . import datasets
from .errors import DataImportError


@dataclass(frozen=True)
class RvuRow:
    code: str
    modifier: str
    status: str
    work_rvu: float
    pe_rvu_nonfacility: float
    pe_rvu_facility: float
    mp_rvu: float
    mult_proc: str
    conversion_factor: float | None


# column -> test on the stacked, upper-cased, space-normalised header words
_COLUMNS = {
    "code": lambda h: h == "HCPCS" or h.endswith(" HCPCS"),
    "modifier": lambda h: h == "MOD" or h.endswith(" MOD"),
    "status": lambda h: "STATUS CODE" in h,
    "work_rvu": lambda h: h.endswith("WORK RVU"),
    "pe_rvu_nonfacility": lambda h: "NON-FAC PE RVU" in h and "OPPS" not in h,
    "pe_rvu_facility": lambda h: re.search(r"(^|[^-])FACILITY PE RVU", h) is not None
    and "NON" not in h and "OPPS" not in h,
    "mp_rvu": lambda h: h.endswith("MP RVU") and "OPPS" not in h,
    "mult_proc": lambda h: "MULT PROC" in h,
    "conversion_factor": lambda h: "CONV FACTOR" in h,
}
_REQUIRED = ("code", "status", "work_rvu", "pe_rvu_nonfacility", "mp_rvu", "mult_proc")


def _stacked_headers(rows: list[list[str]], header_row: int) -> list[str]:
    """Join, per column, the header words CMS stacks over several lines.

    The header block is the run of lines just above the ``HCPCS`` line that have
    more than one non-empty cell: the single-cell lines above it are titles.
    """
    start = header_row
    while start > 0 and sum(1 for c in rows[start - 1] if c.strip()) > 1:
        start -= 1
    width = max(len(r) for r in rows[start : header_row + 1])
    out = []
    for j in range(width):
        words = [rows[i][j].strip() for i in range(start, header_row + 1) if j < len(rows[i])]
        out.append(re.sub(r"\s+", " ", " ".join(w for w in words if w)).upper())
    return out


#: a test on one column's stacked, upper-cased header words
HeaderTest = Callable[[str], bool]


def find_columns(headers: list[str], tests: Mapping[str, HeaderTest], required: Sequence[str], what: str,
                 prefer: Mapping[str, HeaderTest] | None = None) -> dict[str, int]:
    """Column name -> position, by testing each column's (stacked, upper-cased) header words.

    ``prefer[name]`` may narrow several hits to the right one (e.g. the GPCI
    work column "with 1.0 floor"). Raises DataImportError naming the missing
    columns and the headers seen. Shared by the PPRRVU and GPCI importers.
    """
    cols: dict[str, int] = {}
    for name, test in tests.items():
        hits = [j for j, h in enumerate(headers) if test(h)]
        if prefer and name in prefer and len(hits) > 1:
            hits = [j for j in hits if prefer[name](headers[j])] or hits
        if hits:
            cols[name] = hits[0]
    missing = [n for n in required if n not in cols]
    if missing:
        raise DataImportError(f"{what} lacks column(s) " + ", ".join(missing) + f"; headers seen: {headers}")
    return cols


#: no relative value in the fee schedule comes near this; 1e308 or a typo does
MAX_RVU = 1000.0
#: the dollar conversion factor has been $30-40 since the RBRVS began
MAX_CONVERSION_FACTOR = 1000.0


def _number(text: str, where: str, what: str = "value", high: float = MAX_RVU) -> float:
    """A relative value: blank or NA is 0 (CMS's "not used"); else finite, not negative, sane."""
    text = text.strip()
    if text in ("", "NA"):
        return 0.0
    return datasets.finite(text, where, 0.0, high, what)


def cell_of(row: Sequence[str], cols: Mapping[str, int], name: str) -> str:
    """The stripped text of column ``name`` in ``row``; "" when the file lacks the column or the row is short."""
    j = cols.get(name)
    return row[j].strip() if j is not None and j < len(row) else ""


def _values(r: RvuRow) -> tuple[object, ...]:
    return (r.status, r.work_rvu, r.pe_rvu_nonfacility, r.pe_rvu_facility, r.mp_rvu, r.mult_proc,
            r.conversion_factor)


def parse_rvu_file(text: str) -> list[RvuRow]:
    """Parse a PPRRVU CSV (as text) into rows; raise DataImportError naming what is missing."""
    rows = list(csv.reader(io.StringIO(text)))
    header_row = next(
        (i for i, r in enumerate(rows) if r and r[0].strip().upper() == "HCPCS"), None
    )
    if header_row is None:
        raise DataImportError("no header line starting with HCPCS: not a CMS PPRRVU file")
    headers = _stacked_headers(rows, header_row)
    cols = find_columns(headers, _COLUMNS, _REQUIRED, "PPRRVU file")
    out = []
    line_of: dict[tuple[str, str], tuple[int, RvuRow]] = {}
    for i in range(header_row + 1, len(rows)):
        r = rows[i]
        if not r or not r[cols["code"]].strip():
            continue
        where = f"line {i + 1} ({r[cols['code']].strip().upper()})"
        cell = partial(cell_of, r, cols)  # bound to this row now: no closure over the loop variable
        cf = cell("conversion_factor")
        row = RvuRow(
            code=cell("code").upper(),
            modifier=cell("modifier").upper(),
            status=cell("status").upper(),
            work_rvu=_number(cell("work_rvu"), where, "work RVU"),
            pe_rvu_nonfacility=_number(cell("pe_rvu_nonfacility"), where, "non-facility PE RVU"),
            pe_rvu_facility=_number(cell("pe_rvu_facility"), where, "facility PE RVU"),
            mp_rvu=_number(cell("mp_rvu"), where, "MP RVU"),
            mult_proc=cell("mult_proc"),
            conversion_factor=_number(cf, where, "conversion factor", MAX_CONVERSION_FACTOR) if cf else None,
        )
        # a code once per modifier: a second row with other values would silently win
        key = (row.code, row.modifier)
        if key in line_of:
            first, earlier = line_of[key]
            if _values(earlier) != _values(row):
                mod = f" modifier {row.modifier}" if row.modifier else " (no modifier)"
                raise DataImportError(f"{row.code}{mod} is listed twice with different values, "
                                      f"on lines {first} and {i + 1}; keep the right one")
            continue  # the same row twice: kept once
        line_of[key] = (i + 1, row)
        out.append(row)
    if not out:
        raise DataImportError("PPRRVU file has a header but no code rows")
    return out


# The normalised form kept under the package (shipped) and the user data folder
# (imported): one header line, one row per code, only what the rules use.
RELEASE_COLUMNS = (
    "code", "modifier", "status", "work_rvu", "pe_rvu_nonfacility", "pe_rvu_facility",
    "mp_rvu", "mult_proc", "conversion_factor",
)


def write_release_csv(rows: Sequence[RvuRow], path: str | PathLike[str]) -> None:
    datasets.write_release_csv(path, RELEASE_COLUMNS, (
        [r.code, r.modifier, r.status, f"{r.work_rvu:g}", f"{r.pe_rvu_nonfacility:g}", f"{r.pe_rvu_facility:g}",
         f"{r.mp_rvu:g}", r.mult_proc, "" if r.conversion_factor is None else f"{r.conversion_factor:g}"]
        for r in rows))


def read_release_csv(path: str | PathLike[str]) -> dict[str, RvuRow]:

    """Rows of a normalised release keyed by code (global rows, no modifier, win).

    Raises DamagedStore naming the file and line when the stored file is not
    what an import writes (a fragment line, a number out of range).
    """
    out: dict[str, RvuRow] = {}
    for n, d in datasets.read_release_rows(path, RELEASE_COLUMNS):
        where = f"{d['code']}"
        try:
            cf = d["conversion_factor"]
            row = RvuRow(
                code=d["code"], modifier=d["modifier"], status=d["status"],
                work_rvu=_number(d["work_rvu"], where, "work RVU"),
                pe_rvu_nonfacility=_number(d["pe_rvu_nonfacility"], where, "non-facility PE RVU"),
                pe_rvu_facility=_number(d["pe_rvu_facility"], where, "facility PE RVU"),
                mp_rvu=_number(d["mp_rvu"], where, "MP RVU"),
                mult_proc=d["mult_proc"],
                conversion_factor=_number(cf, where, "conversion factor", MAX_CONVERSION_FACTOR) if cf else None,
            )
        except DataImportError as e:
            raise datasets.damaged_file(path, n, e) from None
        if not row.code:
            raise datasets.damaged_file(path, n, "a row without a code")
        if row.code not in out or not row.modifier:
            out[row.code] = row
    return out
