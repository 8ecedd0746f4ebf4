"""NCCI procedure-to-procedure (PTP) edits: code pairs not paid together on one day.

References:
- CMS, "Medicare NCCI Procedure to Procedure (PTP) Edits", Practitioner PTP Edits
  (quarterly versions, effective 1 January, 1 April, 1 July, 1 October; version
  vNN.Q is year 1994+NN, quarter Q+1). Tab-delimited text (and .xlsx) after
  title and copyright lines, columns: column 1 code, column 2 code, "*" for edits
  in existence before 1996, effective date YYYYMMDD, deletion date YYYYMMDD or
  "*" for none, modifier indicator (0 not allowed, 1 allowed, 9 not applicable),
  PTP edit rationale.
- CMS, "NCCI Policy Manual for Medicare Services", chapter I: the modifier
  indicator; NCCI PTP-associated modifiers, among them 59 and its subsets XE
  (separate encounter), XS (separate structure), XP (separate practitioner) and
  XU (unusual non-overlapping service), which bypass an indicator-1 edit only on
  the column-2 code and only for a separate, distinct service.
- APTA, the therapy pairs confirmed in public sources: 97140 with a PT evaluation
  (97161-97163); 97530 or 97150 with the PT re-evaluation 97164. Shipped as the
  seed ``data/ncci/ptp_seed.csv``, status unverified.
- therapy-billing-rules.md section 8.

Which edit applies is decided by the release in force on the date of service
(:func:`datasets.in_force`): an imported CMS file wins over the seed, so the
seed's five pairs only stand in until an office imports the real edits.

Within a release, an edit row is in force on a date of service on or after its
effective date and before its deletion date. CMS deletes an edit retroactively
by giving it a deletion date equal to its effective date (and indicator 9), which
must leave no day in force, so the deletion date itself is outside the edit.

The seed's column order was not confirmed, so its pairs are "either order": a
59/X modifier on either line bypasses them. An imported file states the order,
and only the column-2 line's modifier counts.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice
from pathlib import Path
from typing import Protocol

from . import datasets
from .errors import DamagedStore, DataImportError
from .findings import ERROR, Finding

RULES = {
    "NCCI-PTP": (ERROR, "Both codes of an NCCI procedure-to-procedure edit in one visit, "
                        "not bypassed by 59/XE/XS/XP/XU on the column-2 line."),
}

#: NCCI PTP-associated modifiers that apply to therapy pairs. The manual lists
#: others (anatomic LT/RT, E1-E4, F1-FA..., and 24, 25, 57, 58, 78, 79, 91),
#: which concern surgery and E/M, not two therapy services on one day.
NCCI_MODIFIERS = ("59", "XE", "XS", "XP", "XU")

#: the open end of a release that stays in force until a newer one is imported
OPEN_END = dt.date(2099, 12, 31)

INDICATORS = ("0", "1", "9")


@dataclass(frozen=True)
class PtpEdit:
    code1: str  # column 1: paid
    code2: str  # column 2: denied unless the edit is bypassed
    effective: dt.date
    deletion: dt.date | None  # first day the edit no longer applies; None: not deleted
    modifier_indicator: str  # "0", "1" or "9"
    rationale: str
    either_order: bool = False  # seed pairs: column order unconfirmed
    source: str = ""

    def in_force(self, dos: dt.date) -> bool:
        return self.effective <= dos and (self.deletion is None or dos < self.deletion)


@dataclass(frozen=True)
class VisitLine:
    """The least a line needs for the NCCI checks; ClaimLine has the same attributes."""

    index: int
    code: str
    modifiers: tuple[str, ...] = ()
    units: int | None = None


class CheckedLine(Protocol):
    """What the NCCI checks (here and in mue.py) read of a line: ``VisitLine`` and
    ``claim_lines.ClaimLine`` have it all (claim_lines imports service_units, which imports
    per_application, which imports this module: so it is described here, not imported)."""

    @property
    def index(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def modifiers(self) -> tuple[str, ...]: ...
    @property
    def units(self) -> int | None: ...


# --- reading CMS files (shared with mue.py) ---------------------------------------------

_CODE = re.compile(r"(\d{4}[0-9A-Z]|[A-Z]\d{4})")


def _read_text(path: Path) -> str:
    """The file's text, read only (never opened for writing); a binary file is refused in one line."""
    return datasets.read_cms_text(path)


#: the header must start within this many lines (titles and copyright run to a few dozen)
_HEAD_ROWS = 5000


def _rows(text: str) -> tuple[list[list[str]], Iterator[list[str]]]:
    """(the first lines, an iterator over the rest) of a tab-delimited text, or a CSV
    when there are no tabs. Streamed: the full PTP files run to millions of rows."""
    delimiter = "\t" if "\t" in text[:200_000] else ","
    csv.field_size_limit(max(csv.field_size_limit(), 10_000_000))  # long copyright cells
    rows = ([c.strip() for c in r] for r in csv.reader(io.StringIO(text), delimiter=delimiter))
    return list(islice(rows, _HEAD_ROWS)), rows


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().upper()


@lru_cache(maxsize=8192)  # called for every line of every visit: codes repeat
def _norm_code(cell: str) -> str:
    """'97140', ' g0283 ', Excel's '100' for 00100 -> the five-character code."""
    c = cell.strip().upper()
    if c.endswith(".0") and c[:-2].isdigit():
        c = c[:-2]
    if c.isdigit() and len(c) in (3, 4):
        c = c.zfill(5)  # a spreadsheet dropped the leading zeros (00100-09999 only)
    return c


def _is_code(cell: str) -> bool:
    return _CODE.fullmatch(_norm_code(cell)) is not None


def _parse_date(cell: str) -> dt.date | None:
    """YYYYMMDD (CMS), or the forms a spreadsheet turns it into; None if not a date."""
    c = cell.strip()
    if c.endswith(".0"):
        c = c[:-2]
    for pattern, order in ((r"(\d{4})(\d{2})(\d{2})", "ymd"),
                           (r"(\d{4})-(\d{1,2})-(\d{1,2})(?: 00:00:00)?", "ymd"),
                           (r"(\d{1,2})/(\d{1,2})/(\d{4})", "mdy")):
        m = re.fullmatch(pattern, c)
        if m:
            a, b, d = (int(x) for x in m.groups())
            y, mo, day = (a, b, d) if order == "ymd" else (d, a, b)
            if not 1900 <= y <= 2100:
                return None
            try:
                return dt.date(y, mo, day)
            except ValueError:
                return None
    return None


def _stacked(block: list[list[str]]) -> list[str]:
    """Per column, the header words stacked over the block's lines."""
    width = max(len(r) for r in block)
    return [_words(" ".join(r[j] for r in block if j < len(r) and r[j])) for j in range(width)]


def _wrapped(block: list[list[str]]) -> list[str]:
    """The header as one row whose cells broke over lines (a cell with a line break
    written raw): the last cell of one line continues in the first of the next."""
    cells = list(block[0])
    for r in block[1:]:
        if r:
            cells[-1] = f"{cells[-1]} {r[0]}"
            cells += r[1:]
    return [_words(c) for c in cells]


#: column name -> whether a header (its words, upper case) names that column
ColumnTests = Mapping[str, Callable[[str], bool]]


def _map_columns(headers: list[str], tests: ColumnTests, required: tuple[str, ...]) -> dict[str, int] | None:
    """column name -> index, or None if a required column is missing or two required
    columns share one header (the sign of a header read the wrong way, stacked or
    wrapped). An optional column whose header is already taken is left out."""
    cols: dict[str, int] = {}
    for name in sorted(tests, key=lambda n: n not in required):
        hits = [j for j, h in enumerate(headers) if h and tests[name](h)]
        if hits:
            cols[name] = hits[0]
    if any(n not in cols for n in required) or len({cols[n] for n in required}) != len(required):
        return None
    taken = {cols[n] for n in required}
    return {n: j for n, j in cols.items() if n in required or j not in taken}


def _find_layout(rows: Sequence[list[str]], is_data: Callable[[list[str]], bool], tests: ColumnTests,
                 required: tuple[str, ...], fits: Callable[[list[str], dict[str, int]], bool],
                 what: str) -> tuple[dict[str, int] | None, int | None, str]:
    """(column map, index of the first data row, title text above the header); (None, None, "")
    when no line is a data row.

    The header is the one to four non-blank lines just above the first data row,
    stacked per column or wrapped; the fewest lines that name every required
    column (and read the first data row correctly) win, so title lines above
    the header never leak into it.
    """
    first = next((i for i, r in enumerate(rows) if is_data(r)), None)
    if first is None:
        return None, None, ""
    above = [i for i in range(first) if any(rows[i])]
    seen: list[str] = []
    for k in range(1, min(4, len(above)) + 1):
        block = [rows[i] for i in above[-k:]]
        for headers in (_stacked(block), _wrapped(block)):
            cols = _map_columns(headers, tests, required)
            if cols is not None and fits(rows[first], cols):
                titles = " ".join(" ".join(rows[i]) for i in above[:-k])
                return cols, first, titles
        if k <= 2:
            seen = _stacked(block)
    missing = [n for n in required if not any(tests[n](h) for h in seen if h)]
    raise DataImportError(
        f"{what} lacks column(s) {', '.join(missing) or '(ambiguous headers)'}; headers seen: {seen}")


def _cell(r: list[str], cols: dict[str, int], name: str) -> str:
    j = cols.get(name)
    return r[j] if j is not None and j < len(r) else ""


# --- the PTP file -----------------------------------------------------------------------

_PTP_COLUMNS: dict[str, Callable[[str], bool]] = {
    "code1": lambda h: re.search(r"COLUMN\s*(1|ONE)\b", h) is not None,
    "code2": lambda h: re.search(r"COLUMN\s*(2|TWO)\b", h) is not None,
    "prior_1996": lambda h: "1996" in h,
    "effective": lambda h: "EFFECTIVE" in h,
    "deletion": lambda h: "DELETION" in h,
    "modifier": lambda h: "MODIFIER" in h,
    "rationale": lambda h: "RATIONALE" in h,
}
_PTP_REQUIRED = ("code1", "code2", "effective", "deletion", "modifier")


def _ptp_data_row(r: list[str]) -> bool:
    """Two five-character codes (no header or title line has them), or, for codes a
    spreadsheet shortened ("100" for 00100), two code-like cells and a date."""
    if sum(1 for c in r if _CODE.fullmatch(c.upper())) >= 2:
        return True
    return sum(1 for c in r if c and _is_code(c)) >= 2 and any(_parse_date(c) for c in r if len(c) >= 8)


def _ptp_fits(r: list[str], cols: dict[str, int]) -> bool:
    # only the codes: a bad date on the first row is reported by the row parser, by line
    return _is_code(_cell(r, cols, "code1")) and _is_code(_cell(r, cols, "code2"))


def _indicator(text: str) -> str | None:
    t = text.strip()
    if t.endswith(".0"):
        t = t[:-2]
    return t if t in INDICATORS else None


def _ptp_layout(text: str) -> tuple[list[list[str]], Iterator[list[str]], dict[str, int], int, str]:
    head, rest = _rows(text)
    cols, first, titles = _find_layout(head, _ptp_data_row, _PTP_COLUMNS, _PTP_REQUIRED, _ptp_fits,
                                       "PTP edit file")
    if cols is None:
        if any(_PTP_COLUMNS["code1"](_words(c)) for r in head for c in r):
            raise DataImportError("PTP edit file has a header but no edit rows "
                                  "(two codes and an effective date YYYYMMDD)")
        raise DataImportError("no header naming Column 1 and Column 2 and no edit rows: "
                              "not a CMS practitioner PTP edit file")
    assert first is not None  # _find_layout gives a column map only with the data row it fits
    return head, rest, cols, first, titles


def parse_ptp_file(text: str) -> list[PtpEdit]:
    """Parse a CMS practitioner PTP edit file (tab-delimited text or CSV, as text).

    Title, copyright and footer lines are skipped; a line whose code columns hold
    codes but whose dates or indicator cannot be read is refused (dropping it
    would hide an edit). Raises DataImportError naming the line and the value.
    """
    return _parse_ptp(text)[0]


def _parse_ptp(text: str, keep: Callable[[PtpEdit], bool] | None = None) -> tuple[list[PtpEdit], str, set[str], int]:
    """(edits ``keep`` accepts, title text above the header, every column-1 code, edits read)."""
    head, rest, cols, first, titles = _ptp_layout(text)
    out: list[PtpEdit] = []
    code1s: set[str] = set()
    count = 0
    line_of: dict[tuple[str, str, dt.date], tuple[int, PtpEdit]] = {}  # a pair's row per effective date
    for i, r in enumerate(chain(head[first:], rest), start=first):
        c1, c2 = _cell(r, cols, "code1"), _cell(r, cols, "code2")
        if not (_is_code(c1) and _is_code(c2)):
            continue  # blank lines, repeated headers, footnotes
        where = f"line {i + 1} ({_norm_code(c1)}/{_norm_code(c2)})"
        eff_text, del_text = _cell(r, cols, "effective"), _cell(r, cols, "deletion")
        effective = _parse_date(eff_text)
        if effective is None:
            raise DataImportError(f"{where}: effective date {eff_text!r} is not a date YYYYMMDD")
        if del_text in ("", "*"):
            deletion = None
        else:
            deletion = _parse_date(del_text)
            if deletion is None:
                raise DataImportError(f"{where}: deletion date {del_text!r} is not a date YYYYMMDD or *")
        mod_text = _cell(r, cols, "modifier")
        indicator = _indicator(mod_text)
        if indicator is None:
            raise DataImportError(f"{where}: modifier indicator {mod_text!r} is not 0, 1 or 9")
        edit = PtpEdit(
            code1=_norm_code(c1), code2=_norm_code(c2), effective=effective, deletion=deletion,
            modifier_indicator=indicator, rationale=_cell(r, cols, "rationale"),
        )
        key = (edit.code1, edit.code2, edit.effective)
        if key in line_of:
            first_line, earlier = line_of[key]
            if earlier != edit:
                raise DataImportError(
                    f"{edit.code1}/{edit.code2} effective {edit.effective} is listed twice with different "
                    f"values, on lines {first_line} and {i + 1}; keep the right one")
            continue  # the same row twice: kept once
        line_of[key] = (i + 1, edit)
        count += 1
        code1s.add(edit.code1)
        if keep is None or keep(edit):
            out.append(edit)
    if not count:
        raise DataImportError("PTP edit file has a header but no edit rows")
    return out, titles, code1s, count


# --- which quarter a file is for --------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(
    ("JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST", "SEPTEMBER",
     "OCTOBER", "NOVEMBER", "DECEMBER"), start=1)}


def _date_or_none(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d) if 1990 <= y <= 2100 else None
    except ValueError:
        return None


def infer_effective(file_name: str, title_text: str = "") -> dt.date | None:
    """The date a CMS NCCI file takes effect, from its name or title lines; None if unclear.

    Names: the NCCI version (``ccipra-v312r0-f1.txt`` is v31.2: 1 July 2025),
    ``..._Eff_04-01-2025.csv``, ``2025-04-01``, ``2025Q2``/``Q2_2025``. Title
    lines: only a date right after "effective" (other dates there are posting
    or copyright dates).
    """
    name = file_name.upper()
    m = re.search(r"V(\d{2})(\d)R\d", name)
    if m and int(m.group(2)) <= 3:
        return dt.date(1994 + int(m.group(1)), 3 * int(m.group(2)) + 1, 1)
    for pattern, order in ((r"(?<!\d)(\d{2})[-_.](\d{2})[-_.](\d{4})(?!\d)", "mdy"),
                           (r"(?<!\d)(\d{4})[-_.](\d{2})[-_.](\d{2})(?!\d)", "ymd"),
                           (r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)", "ymd")):
        for g in re.findall(pattern, name):
            a, b, c = (int(x) for x in g)
            d = _date_or_none(a, b, c) if order == "ymd" else _date_or_none(c, a, b)
            if d:
                return d
    m = re.search(r"(?<!\d)(20\d{2})[-_ ]?Q([1-4])(?![0-9])", name) or \
        re.search(r"(?<![A-Z])Q([1-4])[-_ ]?(20\d{2})(?!\d)", name)
    if m:
        a, b = (int(x) for x in m.groups())
        year, q = (a, b) if a > 4 else (b, a)
        return dt.date(year, 3 * q - 2, 1)
    text = _words(title_text)
    for m in re.finditer(r"\bEFF(?:ECTIVE)?\b[^0-9A-Z]{0,3}(?:DATE\b[^0-9A-Z]{0,3})?"
                         r"(?:(\d{1,2})/(\d{1,2})/(\d{4})|(\d{4})(\d{2})(\d{2})|([A-Z]+) (\d{1,2}),? (\d{4}))",
                         text):
        g = m.groups()
        if g[0]:
            d = _date_or_none(int(g[2]), int(g[0]), int(g[1]))
        elif g[3]:
            d = _date_or_none(int(g[3]), int(g[4]), int(g[5]))
        else:
            d = _date_or_none(int(g[8]), _MONTHS.get(g[6], 0), int(g[7]))
        if d:
            return d
    return None


def quarter_label(d: dt.date) -> str:
    """2025-07-01 -> '2025Q3'; a date that does not start a quarter is written out."""
    if d.day == 1 and d.month in (1, 4, 7, 10):
        return f"{d.year}Q{(d.month - 1) // 3 + 1}"
    return d.isoformat()


# --- the normalised release -------------------------------------------------------------

# One header line, one row per edit row of the CMS file (a pair may have several
# rows: deleted, then added again). The seed adds either_order, source, status.
RELEASE_COLUMNS = ("code1", "code2", "effective", "deletion", "modifier_indicator", "rationale")


def write_release_csv(edits: Iterable[PtpEdit], path: str | os.PathLike[str]) -> None:
    datasets.write_release_csv(path, RELEASE_COLUMNS, (
        [e.code1, e.code2, e.effective.isoformat(), e.deletion.isoformat() if e.deletion else "",
         e.modifier_indicator, e.rationale] for e in edits))


def read_release_csv(path: str | os.PathLike[str]) -> list[PtpEdit]:
    """The edit rows of a normalised release; DamagedStore naming the line when the stored file is
    not what an import writes (the fragment a torn write leaves has an empty date, say)."""
    out = []
    for n, d in datasets.read_release_rows(path, RELEASE_COLUMNS):
        try:
            edit = PtpEdit(
                code1=d["code1"], code2=d["code2"],
                effective=dt.date.fromisoformat(d["effective"]),
                deletion=dt.date.fromisoformat(d["deletion"]) if d["deletion"] else None,
                modifier_indicator=d["modifier_indicator"], rationale=d["rationale"],
                either_order=d.get("either_order", "") in ("1", "yes", "true"),
                source=d.get("source") or "",
            )
        except ValueError as e:
            raise datasets.damaged_file(path, n, e) from None
        if not (_CODE.fullmatch(edit.code1) and _CODE.fullmatch(edit.code2)) or edit.modifier_indicator not in INDICATORS:
            raise datasets.damaged_file(path, n, f"codes {edit.code1!r}/{edit.code2!r}, "
                                                 f"indicator {edit.modifier_indicator!r}")
        out.append(edit)
    return out


#: (column-1 code, column-2 code) -> the release's rows of that pair
PairIndex = dict[tuple[str, str], tuple[PtpEdit, ...]]


@lru_cache(maxsize=8)
def _index_cached(path: str, stamp: tuple[int, ...]) -> PairIndex:
    index: dict[tuple[str, str], list[PtpEdit]] = {}
    for e in read_release_csv(path):
        index.setdefault((e.code1, e.code2), []).append(e)
    return {k: tuple(v) for k, v in index.items()}


def _index(release: datasets.Release) -> PairIndex:
    return _index_cached(str(release.path), datasets.file_stamp(release.path))


@lru_cache(maxsize=8)
def _paired_cached(path: str, stamp: tuple[int, ...]) -> frozenset[str]:
    return frozenset(c for pair in _index_cached(path, stamp) for c in pair)


def _paired_codes(release: datasets.Release) -> frozenset[str]:
    """Every code in some pair of the release: a visit needs two of them for an edit to apply."""
    return _paired_cached(str(release.path), datasets.file_stamp(release.path))


def _on(dos: dt.date) -> tuple[datasets.Release, PairIndex, frozenset[str]]:
    release = datasets.in_force("ptp", dos)
    return release, _index(release), _paired_codes(release)


def _in_force_on(dos: dt.date) -> tuple[datasets.Release, PairIndex, frozenset[str]]:
    """The PTP release in force on ``dos``, its pair index and its paired codes (once per date in a log)."""
    return datasets.remembered(("ptp-index", dos), _on, dos)


def paired_codes_on(dos: dt.date) -> frozenset[str]:
    """Every code in some pair of the PTP release in force on ``dos``: a visit with fewer than two of
    them has no PTP finding (``ptp_findings`` would return []). Raises UnsupportedDate as it does."""
    return _in_force_on(dos)[2]


@lru_cache(maxsize=8)
def _partners_cached(path: str, stamp: tuple[int, ...]) -> dict[str, frozenset[str]]:
    partners: dict[str, set[str]] = {}
    for c1, c2 in _index_cached(path, stamp):
        if c1 != c2:  # a code is never its own pair on two lines (``ptp_findings`` skips it)
            partners.setdefault(c1, set()).add(c2)
            partners.setdefault(c2, set()).add(c1)
    return {c: frozenset(p) for c, p in partners.items()}


def partners_on(dos: dt.date) -> dict[str, frozenset[str]]:
    """Each code in some pair of the PTP release in force on ``dos`` -> the codes it is paired with
    (either column, in force on ``dos`` or not): a visit has a PTP finding only with two codes that
    are each other's partners. Raises UnsupportedDate as ``ptp_findings`` does."""
    release = _in_force_on(dos)[0]
    return _partners_cached(str(release.path), datasets.file_stamp(release.path))


def pair_among_on(dos: dt.date, codes: Collection[str]) -> bool:
    """Whether the PTP release in force on ``dos`` has rows for two of ``codes`` (either column, in force
    on ``dos`` or not): a visit whose codes have none has no PTP finding (``ptp_findings`` would return
    []). Raises UnsupportedDate as it does."""
    index = _in_force_on(dos)[1]
    return any((c1, c2) in index for c1 in codes for c2 in codes if c1 != c2)


def find_edit(edits: Iterable[PtpEdit], code1: str, code2: str, dos: dt.date) -> PtpEdit | None:
    """The row of the pair (code1 in column 1, code2 in column 2) in force on ``dos``, or None.

    Should two rows of a pair overlap, the one that took effect last wins.
    """
    hits = [e for e in edits if e.code1 == code1 and e.code2 == code2 and e.in_force(dos)]
    return max(hits, key=lambda e: e.effective) if hits else None


def edit_for(code1: str, code2: str, dos: dt.date) -> PtpEdit | None:
    """The edit with ``code1`` in column 1 and ``code2`` in column 2 in force on ``dos``.

    Uses the release in force on ``dos`` (imported wins over the seed). An edit
    with indicator 9 is returned as it is; it means "no edit".
    Raises UnsupportedDate when no PTP release covers ``dos``.
    """
    if isinstance(dos, dt.datetime):
        dos = dos.date()
    release = datasets.in_force("ptp", dos)
    return find_edit(_index(release).get((code1, code2), ()), code1, code2, dos)


# --- the check --------------------------------------------------------------------------

def _modifiers(ln: CheckedLine) -> set[str]:
    return {str(m).strip().upper() for m in (getattr(ln, "modifiers", None) or ())}


def _bypassed(ln: CheckedLine) -> bool:
    return bool(_modifiers(ln) & set(NCCI_MODIFIERS))


def _pair_findings(edit: PtpEdit, col1: list[CheckedLine], col2: list[CheckedLine],
                   release: datasets.Release) -> list[Finding]:
    c1, c2 = edit.code1, edit.code2
    where = f"[{release.name}]"
    out = []
    if edit.modifier_indicator == "0":
        for ln in col2:
            tried = sorted(_modifiers(ln) & set(NCCI_MODIFIERS))
            note = f", {'/'.join(tried)} does not bypass it" if tried else ""
            out.append(Finding(ln.index, ERROR, "NCCI-PTP",
                               f"{c2} with {c1}: NCCI pair, modifier indicator 0{note} — "
                               f"{c2} is not payable with {c1}, bill {c1} only {where}"))
    elif edit.modifier_indicator == "1":
        if edit.either_order and any(_bypassed(ln) for ln in col1 + col2):
            return []
        also = f" (or {c1}: column order unconfirmed)" if edit.either_order else ""
        for ln in col2:
            if _bypassed(ln):
                continue
            out.append(Finding(ln.index, ERROR, "NCCI-PTP",
                               f"{c2} with {c1}: NCCI pair, modifier indicator 1, no 59/X — "
                               f"append 59 or XU to {c2}{also} if a separate, distinct service "
                               f"{where}"))
    return out


def ptp_findings(visit_lines: Sequence[CheckedLine | None], dos: dt.date) -> list[Finding]:
    """NCCI-PTP findings for the lines of ONE visit (one patient, one date of service).

    Each line needs ``index``, ``code`` and ``modifiers`` (ClaimLine and
    VisitLine have them). For every pair of codes in the visit with an edit in
    force on ``dos``: indicator 0 flags each column-2 line whatever its
    modifiers; indicator 1 flags each column-2 line without 59/XE/XS/XP/XU (for
    a seed "either order" pair, such a modifier on either code's lines clears
    the pair); indicator 9 is no edit. Raises UnsupportedDate when no PTP
    release covers ``dos``.
    """
    if isinstance(dos, dt.datetime):
        dos = dos.date()
    by_code: dict[str, list[CheckedLine]] = {}
    for ln in visit_lines:
        if ln is not None and ln.code:
            by_code.setdefault(_norm_code(str(ln.code)), []).append(ln)
    if len(by_code) < 2:
        return []
    release, index, paired = _in_force_on(dos)
    codes = [c for c in by_code if c in paired]
    out: list[Finding] = []
    for c1 in codes:
        for c2 in codes:
            if c1 == c2 or (c1, c2) not in index:
                continue
            edit = find_edit(index[(c1, c2)], c1, c2, dos)
            if edit is not None:
                out += _pair_findings(edit, by_code[c1], by_code[c2], release)
    return out


# --- import -----------------------------------------------------------------------------

def _therapy_codes() -> set[str]:
    from .code_catalog import catalog_for  # late: the catalog reads the RVU release

    return {c.code for c in catalog_for(None)}


def resolve_dates(path: Path, titles: str, effective_from: dt.date | None,
                  effective_to: dt.date | None) -> tuple[dt.date, dt.date]:
    """(first, last day in force): the date given, else the one the file's name or titles state.

    A date given that contradicts the file's own (``v312`` is 2025-07-01, say)
    is refused naming both, as a year that contradicts a PPRRVU title is: one
    of them is a mistake, and the wrong quarter would be checked silently.
    """
    if isinstance(effective_from, dt.datetime):
        effective_from = effective_from.date()
    stated = infer_effective(path.name, titles)
    if effective_from is not None and stated is not None and stated != effective_from:
        raise DataImportError(
            f"{path.name} is for {quarter_label(stated)} (from {stated}), not {effective_from}; "
            "give the date the file states, or leave it out")
    start = effective_from or stated
    if start is None:
        raise DataImportError(
            f"cannot tell which quarter {path.name} is for (no NCCI version, Eff date or 2025Q1 "
            "in its name or title); give the date it takes effect, e.g. 2025-04-01")
    end = effective_to or OPEN_END
    if isinstance(end, dt.datetime):
        end = end.date()
    if end < start:
        raise DataImportError(f"effective_to {end} is before effective_from {start}")
    return start, end


_PTP_SOURCE = "CMS NCCI practitioner PTP edits: "


def _earlier_files(release: datasets.Release | None) -> list[str]:
    """The CMS files already imported into this quarter's release, from its source."""
    if release is not None and release.source.startswith(_PTP_SOURCE):
        return release.source[len(_PTP_SOURCE):].split(", ")
    return []


def import_ptp(path: str | os.PathLike[str], effective_from: dt.date | None = None,
               effective_to: dt.date | None = None, *, force: bool = False) -> datasets.Release:
    """Import a CMS practitioner PTP edit file as an official release in the user data folder.

    The quarter comes from ``effective_from`` if given, else from the file's name
    or title lines (``ccipra-v312r0-f1.txt``: 2025Q3); the release stays in
    force until a newer import (``effective_to`` to end it sooner).

    Only edits with a catalog code on either side are kept: the full files run
    to millions of rows, and the rules never see other codes. CMS splits the
    practitioner edits over several files by column-1 code range, so importing
    a second file of the same quarter adds to that quarter's release; its rows
    replace earlier rows of the same column-1 codes (re-importing or a revised
    file does not duplicate). The read of the quarter's release, the merge and
    the store happen under the data folder's lock, so two files of one quarter
    imported at once both end up in it. A stored quarter found damaged is
    replaced by this file alone, and the message says which files to import
    again. The input file is only read. Nothing is downloaded.
    """
    path = Path(path)
    text = _read_text(path)
    codes = _therapy_codes()
    kept, titles, owned, count = _parse_ptp(text, lambda e: e.code1 in codes or e.code2 in codes)
    start, end = resolve_dates(path, titles, effective_from, effective_to)
    if not kept:
        raise DataImportError(
            f"{path.name}: none of its {count} edits involves a therapy code in the catalog "
            "(97xxx are in the file whose column-1 range covers them); nothing imported")
    file_name = f"ncci/ptp_{start.isoformat()}.csv"
    with datasets.store_lock():
        earlier = datasets.stored_release(file_name)
        files = [path.name]
        lost: list[str] = []
        if earlier is not None and earlier.path.resolve() != path.resolve():
            try:
                kept = [e for e in read_release_csv(earlier.path) if e.code1 not in owned] + kept
                files = _earlier_files(earlier) + files
            except DamagedStore:  # re-importing repairs: the damaged rows are not merged in
                lost = [f for f in _earlier_files(earlier) if f != path.name]
        source = _PTP_SOURCE + ", ".join(dict.fromkeys(files))
        release = datasets.store_release(
            "ptp", file_name, lambda tmp: write_release_csv(kept, tmp), start, end,
            f"NCCI PTP {quarter_label(start)} (CMS)", source, input_path=path, force=force,
            # CMS splits a quarter over files by column-1 range: the first file of a
            # quarter is rightly smaller than the last quarter's whole release
            same_key_only=True)
    if lost:
        # stored, but the quarter is incomplete until the user acts: an error, so scripts notice
        raise DataImportError(
            f"imported {path.name}, but the stored {quarter_label(start)} PTP release was damaged and now "
            f"holds this file's edits only: import {', '.join(lost)} again")
    return release
