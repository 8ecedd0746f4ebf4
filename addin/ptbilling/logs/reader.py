"""Reading a session log file for ``ptbilling check``: .xlsx/.xlsm workbooks and .csv exports.

What is read:

- In a workbook, the Excel Table named ``SessionLog`` if there is one; otherwise
  the worksheet with a header row (``logs.columns.header_score``, the same names
  ``PT_VALIDATE`` knows, plus the user's ``--column`` mappings) within its first
  30 rows: an EMR export often has title rows above it ("Charge Detail Report",
  the clinic, the run date). When several sheets have one, the sheet whose header
  has the most recognised columns (the first of equals); ``LogData.sheets_found``
  says which were considered. A CSV's header row is found the same way.
- Values as xlwings hands them to ``PT_VALIDATE``: numbers, text, dates, and
  ``None`` for empty and error cells. python-calamine reads them (fast).
- Inputs only, never cached formula results. A file written by openpyxl has no
  cached results and one saved by Excel may have stale ones, so a formula cell
  in a recognised input column (Patient, Date, Minutes...) is reported in
  ``LogData.formula_cells`` and ``ptbilling check`` gives that row an INPUT
  error ("type the value"); a formula cell in another column (a computed
  ``Units by Rule``, ``Check`` or notes column) is read as empty. Formula cells
  are found by one streaming pass of defusedxml's expat parser over the sheet's
  XML (``SheetScan``; calamine does not expose formulas), which reads rows and
  cells with or without ``r=`` attributes, inline strings and shared formulas.

Refused, each with one line naming the file and the problem (``UnusableLog``):
a missing file, a folder, an empty file, a file that is neither a workbook nor
a CSV, a damaged or truncated zip, an encrypted (password-protected) or legacy
.xls workbook, an .xlsb or .ods file, a zip bomb (judged on the sizes the zip
declares before anything is decompressed; python-calamine and zipfile both stop
at the declared size), any XML part with a document type declaration (an XML
bomb: Excel never writes one), and a workbook with no sheet carrying the headers.

Bounded time and memory: a sheet's declared size (``<dimension ref=...>``) is
never trusted. python-calamine holds a sheet as a dense block from its first to
its last non-empty cell, so a sheet with a stray value far away (say in
XFD1048576) would cost gigabytes; the scan measures the real extent first and
such a sheet is read with openpyxl's streaming reader instead (a note on stderr
says so). openpyxl also serves when python-calamine fails on a file that is
otherwise sound. Either way openpyxl parses XML through defusedxml.
"""
from __future__ import annotations

import codecs
import csv
import io
import posixpath
import re
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..rules.errors import PtBillingError
from .columns import ColumnMap, fields_named, header_key, header_score

#: a zip whose entries declare more than this in total is refused (a full
#: 1,048,576-row log is well under 1 GiB of sheet XML)
MAX_UNCOMPRESSED = 2 * 1024 ** 3
#: ... and so is any entry over BIG_ENTRY bytes, or a zip over 10 x BIG_ENTRY, that expands more
#: than this (sheet XML compresses about 10x, even a sheet of empty formatted cells; a deflate bomb 1000x)
MAX_RATIO = 100
BIG_ENTRY = 10 * 1024 ** 2
MAX_ENTRIES = 10_000
#: a sheet is read with calamine only when its dense block is at most this many cells ...
MAX_DENSE_CELLS = 40_000_000
#: ... and not much larger than what its XML could hold (a cell takes well over 8 bytes)
SPARSE_BYTES_PER_CELL = 8
#: rows of a CSV (Excel's own limit is 1,048,576 rows with the header)
MAX_CSV_ROWS = 1_048_576
EXCEL_ROWS = 1_048_576
PROLOG_LIMIT = 64 * 1024
#: what reading a member of a damaged zip raises: zlib.error (broken deflate data) is no OSError
ZIP_READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error)
CHUNK = 1 << 20

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
TABLE_NAME = "SessionLog"
#: the header row is looked for in this many rows at the top of a sheet or CSV
HEADER_SEARCH_ROWS = 30


class UnusableLog(PtBillingError, ValueError):
    """The input cannot be used; the message is one line naming the file and the problem."""


@dataclass
class LogData:
    """A log as read: its header and data rows, and where they are in the file."""

    path: Path
    kind: str  # "xlsx", "xlsm" or "csv"
    header: list
    #: data rows up to the last non-blank one; values as xlwings passes them, except that an
    #: empty cell outside the Date column may be '' (the coercion reads '' as blank)
    rows: list
    first_row: int  # sheet row number (1-based, as Excel shows it) of rows[0]
    sheet: str | None = None  # None for a CSV
    table: str | None = None  # "SessionLog" when read from that Table
    reader: str = "calamine"  # "calamine", "openpyxl" or "csv"
    #: data-row index -> header positions of cells that hold a formula
    formula_cells: dict[int, list[int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # said on stderr (fallbacks, encodings)
    #: sheets with a header row, (name, recognised columns), the one read first; [] for a Table or CSV
    sheets_found: list[tuple[str, int]] = field(default_factory=list)

    def row_number(self, i: int) -> int:
        return self.first_row + i

    @property
    def where(self) -> str:
        if self.sheet is None:
            return self.path.name
        place = f"table {self.table} on sheet '{self.sheet}'" if self.table else f"sheet '{self.sheet}'"
        return f"{self.path.name}, {place}"


def read_log(path: str | Path, mapping: ColumnMap | None = None, alongside: Callable[[], object] | None = None) -> LogData:
    """Read a session log; raises UnusableLog with one line saying what is wrong.

    ``mapping`` (``--column``/``--columns``) counts when looking for the header row.
    ``alongside`` (the command's own imports) is run at most once, on this thread, while
    python-calamine parses a sheet in a worker thread (``_parse_alongside``); it is not run
    when no sheet is parsed by calamine (a CSV, openpyxl), so the caller runs it again itself
    if it must have run (it must then do nothing the second time).
    """
    once = _Once(alongside) if alongside is not None else None
    p = Path(path)
    name = str(path)
    try:
        if not p.exists():
            raise UnusableLog(f"{name}: no such file")
        if p.is_dir():
            raise UnusableLog(f"{name}: is a folder, not a file — give the log's file name")
        if not p.is_file():
            raise UnusableLog(f"{name}: is not a regular file")
        size = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(8)
    except PermissionError:
        raise UnusableLog(f"{name}: cannot be read (permission denied)") from None
    except OSError as e:
        raise UnusableLog(f"{name}: cannot be read ({e.strerror or e})") from None
    if size == 0:
        raise UnusableLog(f"{name}: is empty (0 bytes)")
    suffix = p.suffix.lower()
    if head.startswith(CFB_MAGIC):
        raise UnusableLog(f"{name}: {_cfb_kind(p)}")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _read_workbook(p, name, mapping, once)
    if suffix in CSV_SUFFIXES:
        return _read_csv(p, name, mapping)
    if suffix in WORKBOOK_SUFFIXES:
        raise UnusableLog(f"{name}: is not a workbook — an {suffix} file is a zip archive and this one "
                          "is not (a renamed CSV or web page?); save it from Excel as .xlsx")
    if suffix == ".xls":
        raise UnusableLog(f"{name}: is not a workbook ptbilling can read — save it from Excel as .xlsx")
    raise UnusableLog(f"{name}: is not a workbook or CSV file — give an .xlsx, .xlsm or .csv log")


# --- OLE2 (CFB) containers: encrypted workbooks and legacy .xls ------------------------------

def _utf16(s: str) -> bytes:
    return s.encode("utf-16-le")


def _cfb_kind(p: Path) -> str:
    """Why an OLE2 compound file is refused. Its directory stores stream names in UTF-16."""
    found: set[str] = set()
    wanted = {"EncryptionInfo": _utf16("EncryptionInfo"), "EncryptedPackage": _utf16("EncryptedPackage"),
              "Workbook": _utf16("Workbook\x00"), "Book": _utf16("Book\x00")}
    tail = b""
    with open(p, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            buf = tail + chunk
            found.update(k for k, v in wanted.items() if v in buf)
            if "EncryptionInfo" in found or "EncryptedPackage" in found:
                break
            tail = buf[-64:]
    if "EncryptionInfo" in found or "EncryptedPackage" in found:
        return ("is an encrypted (password-protected) workbook — open it in Excel, remove the password "
                "(File > Info > Protect Workbook), save a copy as .xlsx and check that")
    if "Workbook" in found or "Book" in found:
        return "is a legacy Excel 97-2003 (.xls) workbook — save it from Excel as .xlsx"
    return "is an OLE2 compound file, not an .xlsx workbook — save the log from Excel as .xlsx"


# --- workbooks ---------------------------------------------------------------------------------

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Z]{1,3})\$?([0-9]{1,7}))?$")


def col_index(letters: str | bytes) -> int:
    """'A' -> 0, 'Z' -> 25, 'AA' -> 26."""
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _parse_ref(ref: str) -> tuple[int, int, int, int]:
    """'A1:J501' -> (first row, first col, last row, last col): rows 1-based, columns 0-based."""
    m = _REF.match(ref.strip().upper())
    if not m:
        raise ValueError(ref)
    r1, c1 = int(m.group(2)), col_index(m.group(1))
    r2, c2 = (int(m.group(4)), col_index(m.group(3))) if m.group(3) else (r1, c1)
    return r1, c1, r2, c2


@dataclass
class _Sheet:
    name: str
    part: str  # zip member of its XML


@dataclass
class _Scan:
    """What one pass over a sheet's XML found (python-calamine does not expose formulas)."""

    #: cell ranges holding formulas, (first row, first col, last row, last col), rows 1-based and
    #: columns 0-based (an array or shared formula covers its whole ref=)
    formulas: list[tuple[int, int, int, int]]
    max_row: int
    max_col: int
    size: int  # bytes of XML


#: The worksheet elements that follow <sheetData> (ECMA-376 CT_Worksheet's sequence). Nothing in
#: or after them is a cell, and one of them holds an <f> that is no cell's formula: Excel saves a
#: dropdown whose list is on another sheet as <x14:dataValidation><x14:formula1><xm:f> in
#: <extLst>. Read as a cell's, it marked the log's last cell "holds a formula". The scan stops at
#: the first of them (and so also reads no further, which costs nothing).
AFTER_CELLS = frozenset((
    "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
    "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
    "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
    "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
    "webPublishItems", "tableParts", "extLst",
))


class SheetScan:
    """What a sheet's XML says beyond its values, read by a streaming XML parser.

    defusedxml's expat parser (DTDs, entities and external references refused) calls one
    handler per element start; nothing is built or kept but three figures:

    - ``formulas``: the cells holding a formula (an ``<f>`` child), as ranges (r1, c1, r2,
      c2); an array or shared formula's ``ref=`` covers its whole range;
    - ``max_row``: the last row with a cell holding anything (a value, text or formula);
    - ``max_col``: the rightmost cell of any kind (0-based).

    Rows and cells without ``r=`` (allowed by OOXML, written by some exporters) follow the
    one before, as Excel, python-calamine and openpyxl read them. Element names may carry
    a namespace prefix (``<x:c>``), which is ignored.

    The handler is a closure over local variables, the cheapest Python call there is: it
    runs for every element (about 1.7 million for a 100,000-line log). Attributes come as
    a list (``ordered_attributes``: no dict per element) and element names as the very
    strings the handler compares with (the parser's intern table), which about halves it.
    """

    def __init__(self):
        from defusedxml.expatreader import DefusedExpatParser

        names = {"row": "row", "c": "c", "v": "v", "is": "is", "f": "f"}
        ROW, C, V, IS, F = names.values()  # noqa: N806
        reader = DefusedExpatParser(forbid_dtd=True)
        reader._interning = names  # the parser hands these very strings: `is` compares them
        reader.reset()
        parser = self._parser = reader._parser  # the defused pyexpat parser; only our handler on it
        parser.CharacterDataHandler = None
        parser.ProcessingInstructionHandler = None
        parser.EndElementHandler = None
        parser.StartNamespaceDeclHandler = None
        parser.EndNamespaceDeclHandler = None
        parser.ordered_attributes = True
        formulas: list[tuple[int, int, int, int]] = []
        state = [0, 0]  # max_row, max_col: read back by the properties
        local: dict[str, str | None] = {}  # a prefixed name (x:c) -> the name it stands for
        letters_of: dict[str, int] = {}  # column letters -> index
        row = 0  # the current row (1-based) and cell (0-based)
        col = -1
        max_row = max_col = 0

        def start(tag, attrs):
            nonlocal row, col, max_row, max_col
            if tag is V:  # the cell holds a value
                if row > max_row:
                    max_row = state[0] = row
                return
            if tag is C:
                ref = attrs[1] if attrs and attrs[0] == "r" else _attr(attrs, "r")
                if ref is None:
                    col += 1
                else:
                    letters = ref.rstrip("0123456789")
                    c = letters_of.get(letters)
                    if c is None:
                        c = letters_of[letters] = _letters_index(letters, ref)
                    col = c
                if col > max_col:
                    max_col = state[1] = col
                return
            if tag is ROW:
                r = attrs[1] if attrs and attrs[0] == "r" else _attr(attrs, "r")
                row = row + 1 if r is None else _row_index(r)
                col = -1
                return
            if tag is IS:  # an inline string: a value
                if row > max_row:
                    max_row = state[0] = row
                return
            if tag is F:  # a formula (its cached result, if any, is not an input)
                if row > max_row:
                    max_row = state[0] = row
                spans = _attr(attrs, "ref")
                cell = (row, col, row, col)
                if spans:
                    try:
                        cell = _parse_ref(spans)
                    except ValueError:
                        pass
                formulas.append(cell)
                return
            if tag in AFTER_CELLS:  # the cells are over; see AFTER_CELLS
                parser.StartElementHandler = None
                return
            if ":" in tag:  # <x:c> and the like: handled as the name it stands for
                name = local.get(tag, "")
                if name == "":
                    bare = tag.rpartition(":")[2]
                    name = local[tag] = bare if bare in AFTER_CELLS else names.get(bare)
                if name is not None:
                    start(name, attrs)

        parser.StartElementHandler = start
        self.formulas = formulas
        self._state = state

    @property
    def max_row(self) -> int:
        return self._state[0]

    @property
    def max_col(self) -> int:
        return self._state[1]

    def feed(self, data: bytes) -> None:
        self._parser.Parse(data, False)

    def close(self) -> None:
        self._parser.Parse(b"", True)


def _attr(attrs: list, name: str) -> str | None:
    """An attribute's value from expat's ordered list [name, value, name, value ...]."""
    for k in range(0, len(attrs) - 1, 2):
        if attrs[k] == name:
            return attrs[k + 1]
    return None


def _letters_index(letters: str, ref: str) -> int:
    if not letters or len(letters) > 3 or not letters.isascii() or not letters.isalpha():
        raise ValueError(f"cell reference {ref[:20]!r} is not valid")
    return col_index(letters.upper())


def _row_index(r: str) -> int:
    try:
        n = int(r)
    except ValueError:
        raise ValueError(f"row number {r[:20]!r} is not valid") from None
    if not 1 <= n <= EXCEL_ROWS:
        raise ValueError(f"row number {n} is outside Excel's 1..{EXCEL_ROWS:,}")
    return n


# --- the fast path of the sheet scan: bytes-level regular expressions on plain XML -----------------
#
# SheetScan runs a Python handler for every element (about 1.7 million for a 100,000-line log): about
# 10x the time of the old regular-expression scan. Almost every sheet is "plain" XML as Excel,
# XlsxWriter, openpyxl and calamine write it, and on plain XML a few C-speed passes over the bytes can
# find exactly what SheetScan's handler finds. _fast_scan first proves the XML is plain in ways that make
# every regex below see the very start tags expat sees, with the very attribute values expat hands over;
# when any proof fails it returns None and the caller runs SheetScan (which also refuses DTDs and
# entities, and reports damaged XML). What it must reproduce, element by element in document order:
#   <row r=N> sets the row to N (no r=: the one before + 1) and the column to -1;
#   <c r=LETTERSdigits> sets the column (no r=: the one before + 1); max_col is the largest column seen;
#   <v>, <is>, <f> raise max_row to the current row; <f> adds a formula range (its ref=, else the cell);
#   the same for any prefixed name (x:c, xm:f ...), which the fast path never accepts.

#: sheets larger than this are streamed through SheetScan (the fast path holds the whole part in memory)
FAST_SCAN_MAX = 128 * 1024 ** 2
_FAST_DECL = re.compile(rb"<\?xml[^?<>]*\?>")
_FAST_ENCODING = re.compile(rb"""\bencoding\s*=\s*["']([A-Za-z0-9._-]*)["']""")
#: a start tag of one of the five names the handler acts on, without a prefix
_FAST_TARGET = re.compile(rb"<(?:row|c|v|is|f)[\s/>]")
#: ... or with one (x:c, xm:f, a:b:c): expat without namespace processing hands "x:c", the handler reads
#: it as "c". A colon before one of the names also matches in text ("10:is here"): that only costs the
#: fast path, never a wrong figure.
_FAST_PREFIXED = re.compile(rb":(?:row|c|v|is|f)[\s/>]")
#: a row start tag whose first attribute is a plain r= row number (1..9,999,999; checked <= EXCEL_ROWS)
_FAST_ROW = re.compile(rb'<row r="([1-9][0-9]{0,6})"[\s/>]')
#: a cell start tag whose first attribute is a plain r= reference (upper-case letters, digits)
_FAST_CELL = re.compile(rb'<c r="([A-Z]{1,3})[0-9]{1,7}"[\s/>]')
_FAST_VALUED = re.compile(rb"<(?:v|is|f)[\s/>]")
_FAST_FORMULA = re.compile(rb"<f(?=[\s/>])")
_FAST_ATTR = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')""")
_FAST_TAG_END = re.compile(rb"\s*/?>")
_FAST_WINDOW = 1 << 16
#: at most this many times the widest column may grow during the cell pass (each costs a new regex)
_FAST_WIDENINGS = 32


def _letters(j: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA' (the inverse of col_index)."""
    out, j = "", j + 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _cells_beyond(k: int):
    """A regex finding the first "<c" that is not a plain cell start tag in columns 0..k.

    Column letters compare as (length, then alphabetically), so "at most L" is: any shorter run of
    letters, or as many letters and alphabetically at most L, spelled out letter by letter.
    """
    top = _letters(k)
    n = len(top)
    alts = [f"[A-Z]{{1,{n - 1}}}"] if n > 1 else []
    for i, ch in enumerate(top):
        if ch > "A":
            alts.append(top[:i] + f"[A-{chr(ord(ch) - 1)}]" + (f"[A-Z]{{{n - i - 1}}}" if n - i - 1 else ""))
    alts.append(top)
    return re.compile(rb'<c(?! r="(?:' + "|".join(alts).encode() + rb')[0-9]{1,7}"[\s/>])')


def _fast_scan(data: bytes) -> tuple[list[tuple[int, int, int, int]], int, int] | None:
    """(formulas, max_row, max_col) exactly as SheetScan finds them, or None when the XML is not plain.

    Plain means (each proved by a pass in C over the bytes, before anything is counted):
    - UTF-8 (no UTF-16 byte order mark; an XML declaration, if any, names UTF-8 or nothing), so
      tags are ASCII bytes and attribute values decode as expat decodes them;
    - no "<!" (comments, CDATA sections, DOCTYPE and ENTITY declarations) and no "<?" after the XML
      declaration (processing instructions): then, in well-formed XML, every "<" opens a tag, since
      text and attribute values cannot hold a "<". A DTD therefore never takes this path;
    - no prefixed row/c/v/is/f start tag anywhere, and none unprefixed outside <sheetData>;
    - inside <sheetData>, every "<row" is a row start tag whose first attribute is r="N" and every "<c"
      a cell start tag whose first attribute is r="LETTERSdigits", upper case, with no entity or
      white space to decode: so each cell's column and each row's number are their own r=, as the
      handler reads them, with no counting;
    - row numbers never decrease, so the largest row holding a value is the row of the last <v>,
      <is> or <f>;
    - each <f>'s attributes parse, and a ref= holds no entity or white space (expat would decode them).
    Well-formedness is not proved here (that is what costs expat its time): python-calamine parses the
    sheet next, and openpyxl through defusedxml when calamine cannot.
    """
    body = 0
    if data.startswith(codecs.BOM_UTF8):
        body = 3
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"\x00", b"<\x00")):
        return None
    decl = _FAST_DECL.match(data, body)
    if decl:
        enc = _FAST_ENCODING.search(decl.group())
        if enc and enc.group(1).lower() not in (b"utf-8", b"utf8"):
            return None
        body = decl.end()
    # "!" and "?" are rare in sheet XML: a memchr-speed find first, the two-byte search only if needed
    if data.find(b"!", body) >= 0 and data.find(b"<!", body) >= 0:
        return None
    if data.find(b"?", body) >= 0 and data.find(b"<?", body) >= 0:
        return None
    if _FAST_PREFIXED.search(data, body):
        return None
    s = data.find(b"<sheetData>", body)
    e = data.find(b"</sheetData>", s) if s >= 0 else -1
    if e < 0 or _FAST_TARGET.search(data, body, s) or _FAST_TARGET.search(data, e):
        return None
    # rows: all plain (as many "<row" as plain row tags), numbers never decreasing, within Excel's rows
    numbers = _FAST_ROW.findall(data, s, e)
    if len(numbers) != data.count(b"<row", s, e):
        return None
    rows = list(map(int, numbers))
    if rows and (rows[-1] > EXCEL_ROWS or rows != sorted(rows)):
        return None
    # cells (SheetScan's max_col starts at 0 and only cells raise it): the widest column of the first cells is a guess; one pass then finds any "<c" that is not a
    # plain cell within it, which is either a wider plain cell (the guess grows and the pass goes on from
    # there) or no plain cell at all (not plain XML)
    max_col = max((col_index(m) for m in _FAST_CELL.findall(data, s, min(e, s + _FAST_WINDOW))), default=0)
    pos = s
    for _ in range(_FAST_WIDENINGS):
        m = _cells_beyond(max_col).search(data, pos, e)
        if m is None:
            break
        cell = _FAST_CELL.match(data, m.start(), e)
        if cell is None:
            return None
        max_col = col_index(cell.group(1))
        pos = m.start() + 1
    else:
        return None
    # max_row: the row in force at the last <v>, <is> or <f> (rows never decrease)
    max_row = 0
    hi = e
    while hi > s:
        lo = max(s, hi - _FAST_WINDOW)
        last = None
        for m in _FAST_VALUED.finditer(data, lo, min(e, hi + 8)):  # +8: a tag across the window edge
            last = m
        if last is not None:
            max_row = _fast_row_at(data, s, last.start())
            break
        hi = lo
    formulas: list[tuple[int, int, int, int]] = []
    if data.find(b"f", s, e) >= 0 and data.find(b"<f", s, e) >= 0:  # memchr first: "f" is rare in cells
        for m in _FAST_FORMULA.finditer(data, s, e):
            got = _fast_formula(data, s, m.end())
            if got is None:
                return None
            formulas.append(got(_fast_row_at(data, s, m.start()), _fast_col_at(data, s, m.start())))
    return formulas, max_row, max_col


def _fast_row_at(data: bytes, s: int, pos: int) -> int:
    """The row in force at ``pos``: the r= of the last <row> before it (0 before the first)."""
    k = data.rfind(b'<row r="', s, pos)
    return 0 if k < 0 else int(data[k + 8:data.index(b'"', k + 8)])


def _fast_col_at(data: bytes, s: int, pos: int) -> int:
    """The column in force at ``pos``: the last cell's since the last <row> (-1 before its first cell)."""
    k = data.rfind(b'<c r="', s, pos)
    if k < 0 or data.rfind(b'<row r="', k, pos) >= 0:
        return -1
    m = _FAST_CELL.match(data, k)
    assert m is not None, "the fast path's pre-check proved every <c starts <c r=\"LETTERSdigits\""
    return col_index(m.group(1))


def _fast_formula(data: bytes, s: int, pos: int):
    """For the <f> whose name ends at ``pos``: a function (row, col) -> its range as SheetScan gives it;
    None when its attributes are not plain."""
    ref = None
    while True:
        end = _FAST_TAG_END.match(data, pos)
        if end is not None:
            break
        a = _FAST_ATTR.match(data, pos)
        if a is None:
            return None
        value = a.group(2) if a.group(2) is not None else a.group(3)
        if a.group(1) == b"ref" and ref is None:
            if any(ch in value for ch in (b"&", b"\t", b"\n", b"\r")):
                return None  # expat decodes entities and turns these into spaces: leave it to expat
            try:
                ref = value.decode("utf-8")
            except UnicodeDecodeError:
                return None
        pos = a.end()

    def cell_range(row: int, col: int) -> tuple[int, int, int, int]:
        if ref:
            try:
                return _parse_ref(ref)
            except ValueError:
                pass
        return row, col, row, col

    return cell_range


def zip_bomb(infos: list[zipfile.ZipInfo], limit: int = MAX_UNCOMPRESSED) -> str | None:
    """Why a zip is refused as a zip bomb, judged on the sizes its entries declare; None if it is not.

    Nothing is decompressed to judge it, and zipfile stops reading an entry at
    its declared size, so the declared sizes bound what is read. Shared by the
    log reader and ``ptbilling data import`` (CMS's yearly zip).
    """
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > BIG_ENTRY and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return (f"refused as a zip bomb — {info.filename} would expand {info.compress_size:,} bytes "
                    f"to {info.file_size:,} (over {MAX_RATIO}x)")
    packed = sum(i.compress_size for i in infos)
    if total > 10 * BIG_ENTRY and total > MAX_RATIO * max(packed, 1):
        return (f"refused as a zip bomb — its {len(infos)} entries would expand {packed:,} bytes "
                f"to {total:,} (over {MAX_RATIO}x)")
    if total > limit:
        return f"refused as a zip bomb — it would expand to {total / 1024 ** 3:.1f} GiB (limit {limit / 1024 ** 3:g} GiB)"
    return None


class _Zip:
    """The workbook's zip, checked before anything is decompressed."""

    def __init__(self, p: Path, name: str):
        self.name = name
        try:
            self.zf = zipfile.ZipFile(p)
            infos = self.zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as e:
            raise UnusableLog(f"{name}: is damaged or truncated — not a readable workbook (zip: {_one_line(e)})") from None
        if len(infos) > MAX_ENTRIES:
            raise UnusableLog(f"{name}: has {len(infos):,} zip entries — not a workbook ptbilling will read")
        for info in infos:
            if info.flag_bits & 0x1:
                raise UnusableLog(f"{name}: has encrypted zip entries — save an unencrypted copy as .xlsx")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise UnusableLog(f"{name}: uses a zip compression Excel does not write — save it again from Excel")
        bomb = zip_bomb(infos)
        if bomb:
            raise UnusableLog(f"{name}: {bomb}")
        self.names = {i.filename for i in infos}
        self.infos = infos

    def close(self):
        self.zf.close()

    def read_small(self, member: str, limit: int = 64 * 1024 ** 2) -> bytes:
        info = self.zf.getinfo(member)
        if info.file_size > limit:
            raise UnusableLog(f"{self.name}: {member} is implausibly large ({info.file_size:,} bytes)")
        try:
            return self.zf.read(member)
        except ZIP_READ_ERRORS as e:
            raise UnusableLog(f"{self.name}: is damaged — {member} cannot be read ({_one_line(e)})") from None

    def check_xml_prologs(self):
        """Refuse any XML part with a DTD (entity declarations: the XML bomb). Reads only each prolog."""
        for info in self.infos:
            if not info.filename.lower().endswith((".xml", ".rels", ".vml")) or info.file_size == 0:
                continue
            try:
                with self.zf.open(info) as f:
                    head = f.read(PROLOG_LIMIT)
            except ZIP_READ_ERRORS as e:
                raise UnusableLog(f"{self.name}: is damaged — {info.filename} cannot be read ({_one_line(e)})") from None
            problem = _prolog_problem(head, complete=info.file_size <= PROLOG_LIMIT)
            if problem:
                raise UnusableLog(f"{self.name}: {info.filename} {problem}")

    def xml(self, member: str):
        from defusedxml import ElementTree as DET  # noqa: N812
        from defusedxml.common import DefusedXmlException

        try:
            return DET.fromstring(self.read_small(member))
        except DefusedXmlException:
            raise UnusableLog(f"{self.name}: {member} declares XML entities — refused as a possible XML bomb") from None
        except Exception as e:  # noqa: BLE001 - any parse error of a user's file is "damaged"
            raise UnusableLog(f"{self.name}: is damaged — {member} is not valid XML ({_one_line(e)})") from None

    def scan_sheet(self, part: str) -> _Scan:
        """Scan a sheet's XML once: formula cells, the real extent of its cells, its size. Plain XML up
        to FAST_SCAN_MAX bytes by ``_fast_scan``; anything else, and anything larger (streamed), through
        defusedxml's expat parser (``SheetScan``), which gives the same figures and refuses DTDs.

        zipfile checks the CRC and stops at the declared size, so a lying entry is refused too.
        """
        from pyexpat import ExpatError

        from defusedxml.common import DefusedXmlException

        size = 0
        try:
            with self.zf.open(part) as f:
                scan = None
                if self.zf.getinfo(part).file_size <= FAST_SCAN_MAX:
                    # plain XML (nearly every sheet) is scanned at C speed; anything else by the parser
                    data = f.read()
                    size = len(data)
                    fast = _fast_scan(data)
                    if fast is not None:
                        return _Scan(*fast, size)
                    scan = SheetScan()  # only now: its parser's imports (xml.sax, urllib...) take 15 ms
                    scan.feed(data)
                    del data
                if scan is None:
                    scan = SheetScan()
                while True:
                    chunk = f.read(CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    scan.feed(chunk)
            scan.close()
        except DefusedXmlException:
            raise UnusableLog(f"{self.name}: {part} declares XML entities or a DTD — refused as a possible "
                              "XML bomb") from None
        except ExpatError as e:
            raise UnusableLog(f"{self.name}: is damaged — {part} is not valid XML ({_one_line(e)})") from None
        except (*ZIP_READ_ERRORS, RuntimeError) as e:
            raise UnusableLog(f"{self.name}: is damaged — {part} cannot be read ({_one_line(e)})") from None
        return _Scan(scan.formulas, scan.max_row, scan.max_col, size)

    # -- structure: sheets and tables ------------------------------------------------------

    def main_part(self) -> str:
        target = "xl/workbook.xml"
        if "_rels/.rels" in self.names:
            for rel in self.xml("_rels/.rels"):
                if rel.get("Type", "").endswith("/officeDocument"):
                    target = rel.get("Target", target).lstrip("/")
                    break
        if target not in self.names:
            if "mimetype" in self.names and "content.xml" in self.names:
                raise UnusableLog(f"{self.name}: is an OpenDocument spreadsheet (.ods) — save it as .xlsx")
            raise UnusableLog(f"{self.name}: is a zip file but not an Excel workbook (no {target})")
        if target.endswith(".bin"):
            raise UnusableLog(f"{self.name}: is a binary workbook (.xlsb) — save it from Excel as .xlsx")
        return target

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship Id -> (type, target part) of a part."""
        folder, base = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", base + ".rels")
        if rels_part not in self.names:
            return {}
        out = {}
        for rel in self.xml(rels_part):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out[rel.get("Id", "")] = (rel.get("Type", ""), target)
        return out

    def worksheets(self, wb_part: str) -> list[_Sheet]:
        rels = self.rels(wb_part)
        sheets = []
        for el in self.xml(wb_part).iter():
            if _local(el.tag) != "sheet":
                continue
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
            kind, target = rels.get(rid, ("", ""))
            if kind.endswith("/worksheet") and target in self.names:
                sheets.append(_Sheet(el.get("name", "?"), target))
        return sheets

    def find_table(self, sheets: list[_Sheet]):
        """(sheet, table element) of the Table named SessionLog, or None."""
        for sh in sheets:
            for kind, target in self.rels(sh.part).values():
                if not kind.endswith("/table") or target not in self.names:
                    continue
                t = self.xml(target)
                names = {t.get("name", "").lower(), t.get("displayName", "").lower()}
                if TABLE_NAME.lower() in names:
                    return sh, t
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:160]


def _prolog_problem(head: bytes, complete: bool) -> str | None:
    """None when an XML part's prolog is harmless; else why it is refused."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head[: len(head) // 2 * 2].decode("utf-16", errors="replace").encode("utf-8", errors="replace")
    elif head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    i, n = 0, len(head)
    while True:
        while i < n and head[i] in b" \t\r\n":
            i += 1
        if i >= n:
            return "is not XML (it has no element)" if complete else "has an over-long XML prolog — refused"
        if head.startswith(b"<?", i):
            j, close = head.find(b"?>", i + 2), 2
        elif head.startswith(b"<!--", i):
            j, close = head.find(b"-->", i + 4), 3
        elif head.startswith(b"<!", i):
            return ("has an XML document type declaration (DTD) — Excel never writes one; refused as a "
                    "possible XML bomb")
        elif head.startswith(b"<", i):
            return None
        else:
            return "is not XML — the workbook is damaged"
        if j < 0:
            return "has an over-long XML prolog — refused" if not complete else "is not valid XML"
        i = j + close


def _read_workbook(p: Path, name: str, mapping: ColumnMap | None = None, alongside: _Once | None = None) -> LogData:
    z = _Zip(p, name)
    try:
        z.check_xml_prologs()
        wb_part = z.main_part()
        sheets = z.worksheets(wb_part)
        if not sheets:
            raise UnusableLog(f"{name}: has no worksheets")
        kind = "xlsm" if p.suffix.lower() == ".xlsm" else "xlsx"
        found = z.find_table(sheets)
        if found is not None:
            sh, table = found
            return _read_table(p, name, z, kind, sh, table, alongside)
        best: LogData | None = None
        best_score = 0
        scored: list[tuple[str, int]] = []
        misses: list[str] = []
        for sh in sheets:
            data, score, miss = _read_sheet(p, name, z, kind, sh, mapping, alongside)
            if data is None:
                misses.append(miss)
                continue
            scored.append((sh.name, score))
            if score > best_score:  # the most recognised columns; the first of equals
                best, best_score = data, score
            del data
        if best is None:
            raise UnusableLog(
                f"{name}: no sheet has a session-log header row (Date, Code, Minutes and the rest) in its first "
                f"{HEADER_SEARCH_ROWS} rows, and there is no Table named {TABLE_NAME}; {'; '.join(misses)}"[:400])
        best.sheets_found = sorted(scored, key=lambda t: t[0] != best.sheet)
        return best
    finally:
        z.close()


def find_header(rows, mapping: ColumnMap | None = None, limit: int = HEADER_SEARCH_ROWS) -> tuple[int, int] | None:
    """(index, recognised columns) of the first header row among ``rows[:limit]``; None when there is none.

    A row of cell values is a header row when it names at least Date, Code and
    Minutes (``columns.header_score``); title rows above it are passed over.
    """
    for r, row in enumerate(rows[:limit]):
        if row:
            score = header_score([_clean(v) for v in row], mapping)
            if score:
                return r, score
    return None


def header_miss(rows, mapping: ColumnMap | None = None, limit: int = HEADER_SEARCH_ROWS) -> str:
    """Why ``rows`` have no header row, for the refusal: the nearest row, what it names and lacks."""
    best: int | None = None
    best_named: list[str] = []
    for r, row in enumerate(rows[:limit]):
        named = fields_named([_clean(v) for v in row], mapping) if row else []
        if len(named) > len(best_named):
            best, best_named = r, named
    if best is None:
        filled = next(([str(v).strip() for v in row if _clean(v) is not None] for row in rows[:limit]
                       if row and any(_clean(v) is not None for v in row)), None)
        if filled is None:
            return "it is empty"
        return f"no row names a known column; first row: {', '.join(filled)}"
    lacking = [f for f in ("Date", "Code", "Minutes") if f not in best_named]
    return (f"row {best + 1} names {', '.join(best_named)} but no {' or '.join(lacking)} "
            "(map a column with --column \"Header=Field\")")


class _Grid:
    """A sheet's values, rows[0] being sheet row 1 and each row starting at column A."""

    def __init__(self, rows: list, reader: str, note: str | None = None):
        self.rows = rows  # rows[0] is sheet row 1; each row from column A
        self.reader = reader
        self.note = note


class _Once:
    """A function run at most once (``read_log``'s ``alongside``); a no-op without one."""

    def __init__(self, fn: Callable[[], object] | None):
        self.fn = fn

    def __call__(self) -> None:
        fn, self.fn = self.fn, None
        if fn is not None:
            fn()

    def __bool__(self) -> bool:  # still to run
        return self.fn is not None


def _parse_alongside(parse: Callable[[], list], alongside: Callable[[], None] | None) -> tuple[list | None, BaseException | None]:
    """(``parse()``, None), or (None, the exception it raised), ``parse`` running on a worker thread
    while ``alongside()`` runs on this one.

    python-calamine releases the GIL while it parses (most of a big sheet's read), so the
    command's own imports run meanwhile at no cost. The worker is joined before this returns
    or raises, whatever goes wrong on either side; an exception of ``alongside`` is raised as it
    is (it is not calamine's), the parse thrown away. One exception: Ctrl+C while waiting in
    the join raises KeyboardInterrupt at once, and the worker (a daemon: it never holds the
    process) runs on until its parse ends, as no running parse can be stopped; waiting for it
    would make Ctrl+C on a big sheet wait the whole parse.
    """
    got: list = []
    failed: list[BaseException] = []

    def work() -> None:
        try:
            got.append(parse())
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread, which judges it
            failed.append(e)

    if not alongside:  # nothing to run meanwhile: no thread
        work()
    else:
        worker = threading.Thread(target=work, name="ptbilling-calamine", daemon=True)
        try:
            worker.start()
        except RuntimeError:  # no thread to be had (a process limit): one after the other, as before
            work()
            alongside()
        else:
            try:
                alongside()
            finally:
                worker.join()
    return (None, failed[0]) if failed else (got[0], None)


def _load_grid(p: Path, name: str, sh: _Sheet, scan: _Scan, row_limit: tuple[int, int] | None,
               alongside: _Once | None = None) -> _Grid:
    """All of a sheet's values, dense from A1, through calamine when that is safe, else openpyxl.

    The scan has run and judged the sheet's real extent before calamine starts: calamine holds
    a sheet as one dense block, so a parse started any earlier could take gigabytes for a stray
    cell far away (and no running parse can be stopped).
    """
    dense = scan.max_row * (scan.max_col + 1)
    why = None
    if dense > MAX_DENSE_CELLS or dense * SPARSE_BYTES_PER_CELL > scan.size + 8_000_000:
        why = (f"sheet '{sh.name}' has cells as far as row {scan.max_row:,} but is mostly empty; "
               "read with openpyxl (streaming) instead of python-calamine")
    else:
        rows: list | None
        error: BaseException | None
        try:
            from python_calamine import CalamineWorkbook

            def parse() -> list:
                return CalamineWorkbook.from_path(str(p)).get_sheet_by_name(sh.name).to_python(skip_empty_area=False)
        except BaseException as e:  # noqa: BLE001 - judged below, as a failed parse
            rows, error = None, e
        else:
            rows, error = _parse_alongside(parse, alongside)
        if rows is not None:
            return _Grid(rows, "calamine")
        assert error is not None  # _parse_alongside gives the rows or the exception
        if isinstance(error, MemoryError):
            raise UnusableLog(f"{name}: sheet '{sh.name}' is too large to read in memory") from None
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise error
        # calamine errors (and a Rust panic) mean: try openpyxl
        why = f"python-calamine could not read sheet '{sh.name}' ({_one_line(error)}); read with openpyxl instead"
    return _Grid(_openpyxl_rows(p, name, sh.name, row_limit), "openpyxl", why)


_FORMULA_MARK = object()


def _openpyxl_rows(p: Path, name: str, sheet: str, row_limit: tuple[int, int] | None) -> list:
    """Stream a sheet with openpyxl (read-only: bounded memory, defusedxml parsing).

    Formula cells come back as the _FORMULA_MARK-tagged tuple (mark, formula text)
    so the caller can tell them from values. Rows after the last non-empty one
    are not kept; ``row_limit`` (first, last) bounds the rows kept for a table.
    """
    import openpyxl

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=False)
    except Exception as e:  # noqa: BLE001
        raise UnusableLog(f"{name}: cannot be read ({_one_line(e)})") from None
    try:
        ws = wb[sheet]
        ws.reset_dimensions()  # never trust <dimension>: rows come as they are in the file
        rows: list = []
        pending = 0  # blank rows not yet kept (kept only if a non-blank row follows)
        r = 0
        for cells in ws.iter_rows():
            r += 1
            if row_limit and r > row_limit[1]:
                break
            if row_limit and r < row_limit[0]:
                rows.append([])
                continue
            values = []
            for c in cells:
                v = c.value
                dt_ = getattr(c, "data_type", "n")
                if dt_ == "f":
                    v = (_FORMULA_MARK, getattr(v, "ref", None))  # an ArrayFormula covers its ref
                elif dt_ == "e":
                    v = None
                values.append(v)
            while values and values[-1] is None:
                values.pop()
            if not values:
                pending += 1
                continue
            rows.extend([] for _ in range(pending))
            pending = 0
            rows.append(values)
        return rows
    except UnusableLog:
        raise
    except Exception as e:  # noqa: BLE001
        raise UnusableLog(f"{name}: sheet '{sheet}' cannot be read ({_one_line(e)})") from None
    finally:
        wb.close()


def _clean(v):
    """A cell as xlwings would hand it: '' (calamine's empty or error cell) and formulas -> None."""
    if type(v) is str:
        return None if v == "" else v
    if type(v) is tuple:  # (_FORMULA_MARK, text) from openpyxl
        return None
    return v


def _slice(grid: _Grid, r1: int, r2: int, c1: int, c2: int, date_col: int | None) -> list[list]:
    """Rows r1..r2 (1-based, inclusive), columns c1..c2 (0-based, inclusive).

    From openpyxl every cell is cleaned (formulas and errors -> None). From
    calamine, whose empty and error cells are '', only the Date column is
    cleaned: the coercion reads '' as blank everywhere else, and skipping a
    pass over every cell of a 100,000-row log saves a good part of the read.
    """
    rows = grid.rows[max(r1, 1) - 1:min(r2, len(grid.rows))]
    if grid.reader == "openpyxl":
        return [[_clean(v) for v in row[c1:c2 + 1]] for row in rows]
    if rows and not (c1 == 0 and len(rows[0]) == c2 + 1):
        rows = [row[c1:c2 + 1] for row in rows]
    if date_col is not None:
        for row in rows:
            if date_col < len(row) and row[date_col] == "":
                row[date_col] = None
    return rows


def _trim(rows: list) -> list:
    """Drop trailing blank rows (a Table's ready rows, a sheet's formatted-but-empty rows)."""
    end = len(rows)
    while end and all(v is None or (type(v) is str and not v.strip()) for v in rows[end - 1]):
        end -= 1
    del rows[end:]
    return rows


def _finish(p: Path, name: str, kind: str, sh: _Sheet, scan: _Scan, grid: _Grid, header: list,
            first_row: int, c1: int, c2: int, r_last: int, table: str | None) -> LogData:
    """The LogData for data rows first_row..r_last in columns c1..c2 under ``header``."""
    width = c2 - c1 + 1
    header = [_clean(v) for v in header[:width]] + [None] * max(0, width - len(header))
    date_col = next((j for j, h in enumerate(header) if header_key(h) == "date"), None)
    rows = _trim(_slice(grid, first_row, r_last, c1, c2, date_col))
    formula_cells: dict[int, list[int]] = {}
    for fr1, fc1, fr2, fc2 in scan.formulas:
        cols = [c - c1 for c in range(max(fc1, c1), min(fc2, c2) + 1)]
        if cols:
            for i in range(max(fr1 - first_row, 0), min(fr2 - first_row, len(rows) - 1) + 1):
                formula_cells.setdefault(i, []).extend(cols)
    notes = [grid.note] if grid.note else []
    return LogData(p, kind, header, rows, first_row, sh.name, table, grid.reader, formula_cells, notes)


def _read_table(p: Path, name: str, z: _Zip, kind: str, sh: _Sheet, table, alongside: _Once | None = None) -> LogData:
    try:
        r1, c1, r2, c2 = _parse_ref(table.get("ref", ""))
        header_rows = int(table.get("headerRowCount", "1"))
        totals = int(table.get("totalsRowCount", "0"))
    except ValueError:
        raise UnusableLog(f"{name}: the {TABLE_NAME} table's range {table.get('ref')!r} is not valid") from None
    scan = z.scan_sheet(sh.part)
    grid = _load_grid(p, name, sh, scan, (r1, r2), alongside)
    if header_rows == 0:  # a table without a header row: its column names are the headers
        header = [el.get("name") for el in table.iter() if _local(el.tag) == "tableColumn"]
        first_row = r1
    else:
        header = list(grid.rows[r1 - 1][c1:c2 + 1]) if r1 - 1 < len(grid.rows) else []
        first_row = r1 + 1
    return _finish(p, name, kind, sh, scan, grid, header, first_row, c1, c2, r2 - totals, TABLE_NAME)


def _read_sheet(p: Path, name: str, z: _Zip, kind: str, sh: _Sheet, mapping: ColumnMap | None = None,
                alongside: _Once | None = None) -> tuple[LogData | None, int, str]:
    """(the log on this sheet, its header's recognised columns, '') when a header row is within its
    first 30 rows; else (None, 0, why not)."""
    scan = z.scan_sheet(sh.part)
    if scan.max_row == 0:
        return None, 0, f"sheet '{sh.name}': it is empty"
    grid = _load_grid(p, name, sh, scan, None, alongside)
    hit = find_header(grid.rows, mapping)
    if hit is None:
        return None, 0, f"sheet '{sh.name}': {header_miss(grid.rows, mapping)}"
    r, score = hit
    vals = [_clean(v) for v in grid.rows[r]]
    filled = [j for j, v in enumerate(vals) if v is not None and not (type(v) is str and not v.strip())]
    c1, c2 = filled[0], filled[-1]
    data = _finish(p, name, kind, sh, scan, grid, vals[c1:c2 + 1], r + 2, c1, c2, len(grid.rows), None)
    return data, score, ""


# --- CSV -------------------------------------------------------------------------------------

def _read_csv(p: Path, name: str, mapping: ColumnMap | None = None) -> LogData:
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise UnusableLog(f"{name}: cannot be read ({e.strerror or e})") from None
    notes = []
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        if b"\x00" in raw[:65536]:
            raise UnusableLog(f"{name}: is not a workbook or a text CSV file (it has binary content)")
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        notes.append(f"{p.name} is not UTF-8; read it as Windows-1252")
    del raw
    first_line = next((ln for ln in text[:65536].splitlines() if ln.strip()), "")
    delimiter = max((",", ";", "\t"), key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=False)
    header: list | None = None
    first_row = 0
    rows: list[list] = []
    pending = 0
    intern: dict = {}  # one object per distinct value: a 1,048,576-row log stays small
    recno = 0  # records, as Excel shows them one per row (a quoted field may span lines)
    top: list[list] = []  # the records above the header (title rows), for the refusal message
    try:
        for rec in reader:
            recno += 1
            if header is None:
                if not header_score([v.strip() or None for v in rec], mapping):
                    top.append([v.strip() or None for v in rec])
                    if recno >= HEADER_SEARCH_ROWS:
                        break
                    continue
                header = [v.strip() or None for v in rec]
                first_row = recno + 1
                continue
            if not any(v.strip() for v in rec):
                pending += 1
                continue
            if pending:
                rows.extend([] for _ in range(pending))
                pending = 0
            rows.append([intern.setdefault(v, v) if v else None for v in rec])
            if len(rows) > MAX_CSV_ROWS:
                raise UnusableLog(f"{name}: has more than {MAX_CSV_ROWS:,} rows (Excel's limit) — split the log")
    except csv.Error as e:
        raise UnusableLog(f"{name}: is not a readable CSV file (line {reader.line_num}: {_one_line(e)})") from None
    if header is None:
        if not any(any(v is not None for v in rec) for rec in top):
            raise UnusableLog(f"{name}: has no rows — it is empty")
        raise UnusableLog(f"{name}: no session-log header row (Date, Code, Minutes and the rest) in its first "
                          f"{HEADER_SEARCH_ROWS} rows; {header_miss(top, mapping)}"[:400])
    return LogData(p, "csv", header, rows, first_row, None, None, "csv", {}, notes)
