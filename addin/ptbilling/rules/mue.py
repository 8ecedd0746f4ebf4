"""NCCI medically unlikely edits (MUE): the most units of a code per patient per day.

References:
- CMS, "Medicare NCCI Medically Unlikely Edits", Practitioner Services MUE Table
  (quarterly, CSV after title and copyright lines), columns: HCPCS/CPT Code,
  Practitioner Services MUE Values, MUE Adjudication Indicator ("1 Line Edit",
  "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical"),
  MUE Rationale. Header words drift between quarters, so columns are found by
  their words.
- CMS, "NCCI Policy Manual for Medicare Services", chapter I (MUEs): an
  indicator-1 MUE is a claim-line edit; indicators 2 and 3 count every line of
  the code on the date of service, 2 being an absolute policy limit and 3 a
  clinical one that documentation can support on appeal.
- therapy-billing-rules.md section 8: the seed values (97110 6, 97112 4, 97530 6,
  97116 4, 97035 2, 97164 1) were seen only on vendor pages; they are shipped as
  ``data/ncci/mue_seed.csv``, status unverified, until a CMS table is imported.

An MUE with indicator 1 is checked per line, others (and the seed, whose
indicator is unknown) on the visit's total, which is the stricter reading.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, repeat
from operator import attrgetter, gt, is_not
from pathlib import Path
from typing import Any, SupportsInt, cast

from . import datasets
from .errors import DamagedStore, DataImportError, UnsupportedDate
from .findings import ERROR, Finding
from .ncci_ptp import (
    _CODE,
    CheckedLine,
    VisitLine,
    _cell,
    _find_layout,
    _is_code,
    _norm_code,
    _read_text,
    _rows,
    _words,
    quarter_label,
    resolve_dates,
)

__all__ = ["MueRow", "VisitLine", "RULES", "parse_mue_file", "mue_for", "mue_findings", "log_mue_findings", "import_mue",
           "read_release_csv", "write_release_csv"]

RULES = {
    "MUE": (ERROR, "More units of a code in one visit than its NCCI medically unlikely edit."),
}

ADJUDICATION = {
    "1": "line edit",
    "2": "date of service edit: policy",
    "3": "date of service edit: clinical",
}


@dataclass(frozen=True)
class MueRow:
    code: str
    mue: int
    adjudication: str  # "1", "2", "3", or "" when not known (the seed)
    rationale: str
    source: str = ""
    status: str = ""  # "unverified" on seed rows; "" means as the release says


_MUE_COLUMNS: dict[str, Callable[[str], bool]] = {
    "code": lambda h: ("HCPCS" in h or "CPT" in h) and "MUE" not in h,
    "mue": lambda h: "MUE" in h and not any(w in h for w in ("ADJUDICATION", "RATIONALE", "INDICATOR")),
    "adjudication": lambda h: "ADJUDICATION" in h or re.search(r"\bMAI\b", h) is not None,
    "rationale": lambda h: "RATIONALE" in h,
}
_MUE_REQUIRED = ("code", "mue")


#: the largest MUEs (drug units) run to a few thousand; more is a typo or a damaged cell
MAX_MUE = 100_000


def _int(text: str) -> int | None:
    """A whole number of units within 0..MAX_MUE, else None."""
    t = text.strip()
    if t.endswith(".0"):
        t = t[:-2]
    return int(t) if t.isdigit() and len(t) <= 6 and int(t) <= MAX_MUE else None


def _mue_data_row(r: list[str]) -> bool:
    """A five-character code anywhere (no header or title line has one), or a code
    a spreadsheet shortened ("100" for 00100) first on a line with a number."""
    if any(_CODE.fullmatch(c.upper()) for c in r):
        return True
    cells = [c for c in r if c]
    return len(cells) >= 2 and _is_code(cells[0]) and any(_int(c) is not None for c in cells[1:])


def _mue_fits(r: list[str], cols: dict[str, int]) -> bool:
    # only the code: a bad value on the first row is reported by the row parser, by line
    return _is_code(_cell(r, cols, "code"))


def _adjudication(text: str) -> str | None:
    """'2 Date of Service Edit: Policy', '2', 'Line Edit' -> '2', '1'; blank -> ''."""
    t = _words(text)
    if not t:
        return ""
    m = re.match(r"([123])\b", t)
    if m:
        return m.group(1)
    for digit, words in (("1", "LINE EDIT"), ("2", "POLICY"), ("3", "CLINICAL")):
        if words in t:
            return digit
    return None


def _parse_mue(text: str) -> tuple[list[MueRow], str]:
    head, rest = _rows(text)
    rows = head + list(rest)  # the MUE table is small (some 15,000 codes)
    cols, first, titles = _find_layout(rows, _mue_data_row, _MUE_COLUMNS, _MUE_REQUIRED, _mue_fits,
                                       "MUE table")
    if cols is None:
        if any("MUE" in _words(c) for r in rows for c in r):
            raise DataImportError("MUE table has a header but no code rows (a code and a number of units)")
        raise DataImportError("no header naming HCPCS/CPT Code and MUE values: "
                              "not a CMS practitioner services MUE table")
    assert first is not None  # _find_layout gives a column map only with the data row it fits
    out: dict[str, MueRow] = {}
    where_of: dict[str, int] = {}
    for i in range(first, len(rows)):
        r = rows[i]
        code_text = _cell(r, cols, "code")
        if not _is_code(code_text):
            continue  # blank lines and footnotes
        code = _norm_code(code_text)
        where = f"line {i + 1} ({code})"
        mue_text = _cell(r, cols, "mue")
        mue = _int(mue_text)
        if mue is None:
            raise DataImportError(f"{where}: MUE value {mue_text!r} is not a whole number of units "
                                  f"from 0 to {MAX_MUE}")
        adj_text = _cell(r, cols, "adjudication")
        adj = _adjudication(adj_text)
        if adj is None:
            raise DataImportError(f"{where}: MUE adjudication indicator {adj_text!r} is not 1, 2 or 3")
        row = MueRow(code=code, mue=mue, adjudication=adj, rationale=_cell(r, cols, "rationale"))
        if code in out and (out[code].mue, out[code].adjudication) != (mue, adj):
            raise DataImportError(f"{code} is listed twice with different values, on lines "
                                  f"{where_of[code]} and {i + 1}; keep the right one")
        out.setdefault(code, row)
        where_of.setdefault(code, i + 1)
    if not out:
        raise DataImportError("MUE table has a header but no code rows")
    return list(out.values()), titles


def parse_mue_file(text: str) -> list[MueRow]:
    """Parse a CMS practitioner services MUE table (CSV, or tab-delimited, as text).

    Title, copyright and footer lines are skipped; a code row whose value or
    indicator cannot be read is refused. Raises DataImportError naming the
    line and the value.
    """
    return _parse_mue(text)[0]


# --- the normalised release -------------------------------------------------------------

# One header line, one row per code. The seed adds source and status.
RELEASE_COLUMNS = ("code", "mue", "adjudication_indicator", "rationale")


def write_release_csv(rows: Iterable[MueRow], path: str | os.PathLike[str]) -> None:
    datasets.write_release_csv(path, RELEASE_COLUMNS, ([r.code, r.mue, r.adjudication, r.rationale] for r in rows))


def read_release_csv(path: str | os.PathLike[str]) -> dict[str, MueRow]:
    """MUE rows by code; DamagedStore naming the line when the stored file is not what an import writes."""
    out = {}
    for n, d in datasets.read_release_rows(path, RELEASE_COLUMNS):
        mue = _int(d["mue"])
        if mue is None or not _is_code(d["code"]) or d["adjudication_indicator"] not in ("", *ADJUDICATION):
            raise datasets.damaged_file(path, n, f"code {d['code']!r}, MUE {d['mue']!r}, "
                                                 f"indicator {d['adjudication_indicator']!r}")
        out[d["code"]] = MueRow(
            code=d["code"], mue=mue, adjudication=d["adjudication_indicator"],
            rationale=d["rationale"], source=d.get("source") or "", status=d.get("status") or "",
        )
    return out


@lru_cache(maxsize=8)
def _table_cached(path: str, stamp: tuple[int, ...]) -> dict[str, MueRow]:
    return read_release_csv(path)


def _table(release: datasets.Release) -> dict[str, MueRow]:
    return _table_cached(str(release.path), datasets.file_stamp(release.path))


def _on(dos: dt.date) -> tuple[datasets.Release, dict[str, MueRow]]:
    release = datasets.in_force("mue", dos)
    return release, _table(release)


def mue_for(code: str, dos: dt.date) -> MueRow | None:
    """The MUE row of ``code`` in the release in force on ``dos`` (imported wins over the seed).

    None when the release has no MUE for the code. Raises UnsupportedDate when
    no MUE release covers ``dos``.
    """
    if isinstance(dos, dt.datetime):
        dos = dos.date()
    return _table(datasets.in_force("mue", dos)).get(_norm_code(str(code)))


# --- the check --------------------------------------------------------------------------

def _unit_count(u: object) -> int | None:
    """Billed units as a whole number, read from whatever a line holds (2.0, "3"); None if none."""
    if u is None or isinstance(u, bool):
        return None
    try:
        return int(cast("str | SupportsInt", u))  # what int() refuses is no number of units
    except (TypeError, ValueError):
        return None


@lru_cache(maxsize=4096, typed=True)  # typed: True, 1 and 1.0 are one dict key but different text
def _visit_code(code: object) -> str:
    """A line's code as the MUE table keys it; a log repeats a few codes on thousands of visits."""
    return _norm_code(str(code))


def mue_findings(visit_lines: Sequence[CheckedLine | None], dos: dt.date) -> list[Finding]:
    """MUE findings for the lines of ONE visit (one patient, one date of service).

    Each line needs ``index``, ``code`` and ``units`` (billed; lines without
    units are left to the unit rules). A code's units are added over the visit
    and compared with its MUE; the finding goes once, on the code's first line.
    An indicator-1 (line edit) MUE is compared per line instead, on the first
    line over it. Raises UnsupportedDate when no MUE release covers ``dos``.
    ``log_mue_findings`` on one visit.
    """
    if isinstance(dos, dt.datetime):
        dos = dos.date()
    kept = [ln for ln in visit_lines if ln is not None and ln.code]
    if not kept:
        _table_on(dos)  # no line to judge; a date no release covers is still said
        return []
    found, failed = log_mue_findings([ln.index for ln in kept], [_visit_code(ln.code) for ln in kept],
                                     [getattr(ln, "units", None) for ln in kept], [None] * len(kept),
                                     [dos] * len(kept))
    if failed:
        raise failed[dos]
    return found


def _table_on(dos: dt.date) -> tuple[datasets.Release, dict[str, MueRow]]:
    return datasets.remembered(("mue-table", dos), _on, dos)  # once per date in a log


#: a date whose MUE table could not be read, as the lines of its visits report it
TableFailure = UnsupportedDate | DamagedStore


def log_mue_findings(index: Sequence[int], codes: Sequence[str], units: Sequence[object],
                     visits: Sequence[Hashable], dates: Sequence[dt.date],
                     ) -> tuple[list[Finding], dict[dt.date, TableFailure]]:
    """MUE findings of a whole log in one pass: the columns hold one entry per line.

    ``codes`` as the MUE table keys them (``_visit_code``; catalog codes are), ``units`` as
    billed (lines without are left to the unit rules), ``visits`` a key equal for the lines of
    one visit (one patient, one date of service: ``dates``), the lines of a visit in its order.
    Per visit, a code's units are added up and compared with its MUE; the finding goes once, on
    the code's first line. An indicator-1 (line edit) MUE is compared per line instead, on the
    first line over it.

    Returns (findings, date -> the UnsupportedDate or DamagedStore that reading the MUE table
    in force on it raised): the caller says so on that date's visits, the other dates are checked.
    """
    tables: dict[dt.date, tuple[datasets.Release, dict[str, MueRow]]] = {}
    failed: dict[dt.date, TableFailure] = {}
    for d in dict.fromkeys(dates):  # a log has a few hundred dates; each reads its table once
        try:
            tables[d] = _table_on(d)
        except (UnsupportedDate, DamagedStore) as e:
            failed[d] = e
    table_of: dict[dt.date, dict[str, MueRow]] = {d: t for d, (_, t) in tables.items()}
    table_of.update((d, {}) for d in failed)
    # each line's MUE row, looked up in C: most lines' codes have none and drop out here
    rows: list[MueRow | None] = list(map(dict.get, map(table_of.__getitem__, dates), codes))
    # the lines of a code with an MUE and with units, found in C: most lines drop out here
    billed = list(compress(range(len(rows)), map(is_not, rows, repeat(None))))
    counts: list[Any] = list(map(units.__getitem__, billed))
    held = set(map(type, counts))
    if held - {int, type(None)}:  # not all ClaimLine-like: read the units (2.0, "3"; True is none)
        counts = [u if type(u) is int else _unit_count(u) for u in counts]
    if held != {int}:  # lines without units are left to the unit rules
        has = list(map(is_not, counts, repeat(None)))
        billed, counts = list(compress(billed, has)), list(compress(counts, has))
    limits = list(map(_MUE, map(rows.__getitem__, billed)))
    keys = list(zip(map(visits.__getitem__, billed), map(codes.__getitem__, billed)))
    tally = Counter(keys)
    found: list[tuple[int, int, int]] = []  # (the code's first line in the visit, the finding's line, units)
    if len(tally) == len(keys):  # each code on one line of its visit (the usual): that line against the MUE
        found += ((j, j, u) for j, u in compress(zip(billed, counts), map(gt, counts, limits)))
    else:
        several: dict[tuple[Hashable, str], list[tuple[int, int]]] = {}  # (visit, code) -> [(line, units)]
        for j, u, limit, key in zip(billed, counts, limits, keys):
            if tally[key] == 1:
                if u > limit:
                    found.append((j, j, u))
            else:
                several.setdefault(key, []).append((j, u))
        for g in several.values():
            first = g[0][0]
            row = _row(rows, first)
            if row.adjudication == "1":  # a line edit: the first line over it
                over = next(((j, u) for j, u in g if u > row.mue), None)
                if over is not None:
                    found.append((first, *over))
            elif (total := sum(u for _, u in g)) > row.mue:
                found.append((first, first, total))
        found.sort()  # in the order of each code's first line, as the check of one visit gives them
    return [Finding(index[at], ERROR, "MUE", _message(codes[first], n, _row(rows, first), tables[dates[first]][0]))
            for first, at, n in found], failed


def _row(rows: list[MueRow | None], j: int) -> MueRow:
    row = rows[j]
    assert row is not None  # asked only of the lines of a code with an MUE
    return row


_MUE = attrgetter("mue")


def _message(code: str, units: int, row: MueRow, release: datasets.Release) -> str:
    if row.adjudication == "1":
        kind = "per line (line edit)"
        fix = f"bill at most {row.mue} on a line; units beyond it go on another line with 59/XU only if distinct"
    else:
        kind = {"2": "per day (policy)", "3": "per day (clinical)"}.get(row.adjudication, "per day")
        fix = f"bill at most {row.mue}"
        if row.adjudication == "3":
            fix += ", more only with documented medical necessity (appeal)"
    unverified = row.status == "unverified" or release.status == "unverified"
    value = f"MUE {row.mue} {kind}" + (" (value unverified)" if unverified else "")
    return f"{code}: {units} units billed, {value} — {fix} [{release.name}]"


# --- import -----------------------------------------------------------------------------

def import_mue(path: str | os.PathLike[str], effective_from: dt.date | None = None,
               effective_to: dt.date | None = None, *, force: bool = False) -> datasets.Release:
    """Import a CMS practitioner services MUE table as an official release in the user data folder.

    The quarter comes from ``effective_from`` if given, else from the file's
    name or title lines (``MCR_MUE_PractitionerServices_Eff_04-01-2025.csv``:
    2025Q2); the release stays in force until a newer import (``effective_to``
    to end it sooner). Every code is kept (the table is small); re-importing a
    quarter replaces it. A table lacking over 10% of the codes of the release
    it replaces (a cut-off file) is refused unless ``force``. The input file is
    only read. Nothing is downloaded.
    """
    path = Path(path)
    text = _read_text(path)
    rows, titles = _parse_mue(text)
    start, end = resolve_dates(path, titles, effective_from, effective_to)
    return datasets.store_release(
        "mue", f"ncci/mue_{start.isoformat()}.csv", lambda tmp: write_release_csv(rows, tmp), start, end,
        f"NCCI MUE {quarter_label(start)} (CMS)", "CMS NCCI practitioner services MUE table: " + path.name,
        input_path=path, force=force)
