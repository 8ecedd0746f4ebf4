"""Importer for CMS's Geographic Practice Cost Indices (GPCIs) by Medicare locality.

References:
- CMS, PFS final rule Addendum E, "Final CY yyyy Geographic Practice Cost Indices
  (GPCIs) by State and Medicare Locality" (the CSV on the PFS Relative Value
  Files page): title lines, then one header row (MAC, State, Locality Number,
  Locality Name, PW/work GPCI with the 1.0 floor, PE GPCI, MP GPCI), the
  localities, and footnotes.
- therapy-billing-rules.md section 7 (how the GPCIs enter the payment formula)
  and section 11 (the shared file GPCI2025.csv; the ``<MAC>-<locality>`` key).

A locality is keyed ``<MAC>-<locality number>``, e.g. ``02102-01`` for Alaska:
the locality number alone is not unique (several states use ``00``), and the
pair is what a MAC's own fee schedule lists. Leading zeros are kept (MAC five
digits, locality two), also when a spreadsheet has dropped them from the file.

Header words drift between years ("2025 PW GPCI (with 1.0 Floor)", "2024 Work
GPCI", a header stacked over two lines), so columns are found by their words,
never by position. The work GPCI used is the one with the floor the law
applies (1.0, 1.5 in Alaska); a column "without" the floor is never taken.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from os import PathLike

from . import datasets
from .errors import DataImportError
from .rvu_file import cell_of, find_columns


@dataclass(frozen=True)
class GpciRow:
    locality: str  # "<MAC>-<locality number>", e.g. "02102-01"
    state: str
    name: str
    work: float
    pe: float
    mp: float


def locality_key(mac: str, number: str) -> str:
    """'2102', '1' -> '02102-01': the key whatever a spreadsheet did to the zeros."""
    return f"{mac.strip().zfill(5)}-{number.strip().zfill(2)}"


def _is_gpci(h: str) -> bool:
    return "GPCI" in h


# column -> test on the (stacked) upper-cased, space-normalised header words
_COLUMNS = {
    "mac": lambda h: "CONTRACTOR" in h or "CARRIER" in h or re.search(r"\bMAC\b", h) is not None,
    "state": lambda h: re.fullmatch(r"STATE( NAME| CODE)?", h) is not None,
    "locality_number": lambda h: "LOCALITY" in h and "NAME" not in h and not _is_gpci(h),
    "locality_name": lambda h: "LOCALITY" in h and "NAME" in h,
    "work": lambda h: _is_gpci(h) and re.search(r"\b(PW|WORK)\b", h) is not None and "WITHOUT" not in h,
    "pe": lambda h: _is_gpci(h) and re.search(r"\bPE\b|PRACTICE EXPENSE", h) is not None,
    "mp": lambda h: _is_gpci(h) and re.search(r"\bMP\b|MALPRACTICE|LIABILITY", h) is not None,
}
_REQUIRED = ("mac", "locality_number", "work", "pe", "mp")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _header_block(rows: list[list[str]]) -> tuple[list[str], int, list[str]]:
    """(stacked column headers, index of the first data row, title lines).

    The first data row is the first with three or more numeric cells (title and
    header cells are words). The header block is the run of lines just above
    it with more than one non-empty cell; single-cell lines above are titles.
    """
    first = next((i for i, r in enumerate(rows) if sum(1 for c in r if _is_number(c.strip())) >= 3), None)
    if first is None:
        raise DataImportError("no locality rows (lines with GPCI numbers): not a CMS GPCI file")
    start = first
    while start > 0 and sum(1 for c in rows[start - 1] if c.strip()) > 1:
        start -= 1
    if start == first:
        raise DataImportError("no header row above the locality rows: not a CMS GPCI file")
    width = max(len(r) for r in rows[start:first])
    headers = []
    for j in range(width):
        words = [rows[i][j].strip() for i in range(start, first) if j < len(rows[i])]
        headers.append(re.sub(r"\s+", " ", " ".join(w for w in words if w)).upper())
    titles = [" ".join(c.strip() for c in r if c.strip()) for r in rows[:start]]
    return headers, first, [t for t in titles if t]


def file_year(text: str) -> int | None:
    """The year a GPCI file is for, from its GPCI column headers or title ("CY 2025"); None if unclear."""
    return next(iter(file_years(text).values()), None)


def file_years(text: str, file_name: str = "") -> dict[str, int]:
    """Where the file states its year -> that year: "GPCI headers", "title", "name" (GPCI2025.csv).

    Only places that state one year count; the importer refuses a file whose
    places disagree (a 2026 title over 2025 columns is a mislabelled file).
    """
    rows = list(csv.reader(io.StringIO(text)))
    headers, _, titles = _header_block(rows)
    out: dict[str, int] = {}
    for what, place in (("GPCI headers", [h for h in headers if _is_gpci(h)]), ("title", titles)):
        years = {int(y) for t in place for y in re.findall(r"\b(20\d\d)\b", t)}
        if len(years) == 1:
            out[what] = years.pop()
    m = re.search(r"GPCI[-_ ]?(20\d\d)(?!\d)", file_name, re.I)
    if m:
        out["name"] = int(m.group(1))
    return out


#: every GPCI since 1992 lies between about 0.3 and 2 (Alaska's work floor is 1.5);
#: outside (0, 5] is a typo, a NaN or a 1e308, never a locality's costs
MAX_GPCI = 5.0


def _number(text: str, where: str, what: str = "GPCI") -> float:
    x = datasets.finite(text.strip(), where, 0.0, MAX_GPCI, what)
    if x == 0:
        raise DataImportError(f"{where}: {what} 0 is not a cost index (every locality's is above 0)")
    return x


def parse_gpci_file(text: str) -> list[GpciRow]:
    """Parse a CMS GPCI CSV (as text) into rows; raise DataImportError naming what is missing."""
    rows = list(csv.reader(io.StringIO(text)))
    headers, first, _ = _header_block(rows)
    # two work columns: take the one the law pays (with the floor)
    cols = find_columns(headers, _COLUMNS, _REQUIRED, "GPCI file", prefer={"work": lambda h: "FLOOR" in h})
    out: list[GpciRow] = []
    seen: dict[str, int] = {}  # locality -> its line
    for i in range(first, len(rows)):
        r = rows[i]
        cell = partial(cell_of, r, cols)  # bound to this row now: no closure over the loop variable
        mac = cell("mac")
        if not mac.isdigit():
            continue  # blank lines and footnotes ("MAC Assignments as of ...", "*Work GPCI ...")
        where = f"line {i + 1} ({mac}-{cell('locality_number')})"
        number = cell("locality_number")
        if not number.isdigit():
            raise DataImportError(f"{where}: locality number {number!r} is not a number")
        key = locality_key(mac, number)
        if key in seen:
            raise DataImportError(f"locality {key} is listed twice, on lines {seen[key]} and {i + 1}; "
                                  "keep the right one")
        seen[key] = i + 1
        out.append(GpciRow(
            locality=key,
            state=cell("state").upper(),
            name=cell("locality_name").rstrip("* ").strip(),  # '*' marks CMS footnotes
            work=_number(cell("work"), where, "work GPCI"),
            pe=_number(cell("pe"), where, "PE GPCI"),
            mp=_number(cell("mp"), where, "MP GPCI"),
        ))
    if not out:
        raise DataImportError("GPCI file has a header but no locality rows")
    return out


# The normalised form kept under the package (shipped) and the user data folder
# (imported): one header line, one row per locality.
RELEASE_COLUMNS = ("locality", "state", "name", "work_gpci", "pe_gpci", "mp_gpci")


def write_release_csv(rows: Sequence[GpciRow], path: str | PathLike[str]) -> None:
    datasets.write_release_csv(path, RELEASE_COLUMNS, (
        [r.locality, r.state, r.name, f"{r.work:g}", f"{r.pe:g}", f"{r.mp:g}"] for r in rows))


def read_release_csv(path: str | PathLike[str]) -> dict[str, GpciRow]:
    """Rows of a normalised release keyed by locality ("02102-01"); DamagedStore naming the line
    when the stored file is not what an import writes."""
    out: dict[str, GpciRow] = {}
    for n, d in datasets.read_release_rows(path, RELEASE_COLUMNS):
        where = d["locality"]
        try:
            row = GpciRow(
                locality=d["locality"], state=d["state"], name=d["name"],
                work=_number(d["work_gpci"], where, "work GPCI"), pe=_number(d["pe_gpci"], where, "PE GPCI"),
                mp=_number(d["mp_gpci"], where, "MP GPCI"),
            )
        except DataImportError as e:
            raise datasets.damaged_file(path, n, e) from None
        if not re.fullmatch(r"\d{5}-\d{2}", row.locality):
            raise datasets.damaged_file(path, n, f"locality {row.locality!r} is not <MAC>-<number>")
        out[row.locality] = row
    return out
