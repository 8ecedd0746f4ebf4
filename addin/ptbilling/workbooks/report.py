"""The ``ptbilling check --out`` report workbook, one that stands alone: the export's own columns
with the computed units and check (coloured as the template colours them), each Medicare
patient's yearly totals per KX bucket, and a summary (what was read, which columns and payers,
the count per rule), written atomically and never as formulas.

It is written with XlsxWriter in constant-memory mode, row by row, so a million-row log
does not hold the whole workbook in memory.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from ..logs.check import LogCheck, rule_table
from ..logs.reader import LogData
from ..rules.errors import PtBillingError
from ..rules.validate import check_text
from .styles import check_colour_rules

RISKY_START = ("=", "+", "-", "@", "\t", "\r", "\n")  # a spreadsheet may take these for a formula
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell


class ReportError(PtBillingError, ValueError):
    """The --out report cannot be written where asked."""


def check_out_path(out: str, source: Path, force: bool) -> Path:
    """Where the report may go; refuses the input file itself, and an existing file without --force."""
    o = Path(out)
    if o.suffix.lower() != ".xlsx":
        raise ReportError(f"--out {out}: the report is a workbook; give a name ending in .xlsx")
    if _same_file(o, source):
        raise ReportError(f"--out {out}: that is the input file — ptbilling never writes its input; choose another name")
    if o.is_dir():
        raise ReportError(f"--out {out}: is a folder")
    if o.exists() or o.is_symlink():
        if not force:
            raise ReportError(f"--out {out}: exists — add --force to replace it")
    elif not o.parent.is_dir():
        raise ReportError(f"--out {out}: folder {o.parent} does not exist")
    return o


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists() and os.path.samefile(a, b):
            return True
    except OSError:
        pass
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


_ILLEGAL = None


def safe_cell_text(value: str) -> str:
    """Text fit for a cell: no control characters XML cannot hold, at most Excel's 32,767 characters."""
    global _ILLEGAL
    if _ILLEGAL is None:
        import re

        _ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("\ufffd", value)
    return value[:MAX_CELL_CHARS]


class _Sheet:
    """One report sheet written row by row with XlsxWriter (constant memory), every value typed.

    Text is always written as text (``write_string``), never through XlsxWriter's
    guessing ``write``: a CSV export's "=HYPERLINK(...)" or "+1" stays text
    (CSV injection). Text starting with = + - @, tab or a line break also gets
    Excel's quote prefix, so it stays text when someone edits the cell.
    """

    def __init__(self, wb, name: str, formats: dict):
        self.ws = wb.add_worksheet(name)
        self.f = formats
        self.row = 0

    def append(self, values, bold: bool = False) -> None:
        ws, f, r = self.ws, self.f, self.row
        for c, v in enumerate(values):
            t = type(v)
            if v is None or (t is str and not v):
                if bold:
                    ws.write_blank(r, c, None, f["bold"])
                continue
            if t is str:
                v = safe_cell_text(v)
                fmt = f["bold"] if bold else (f["text"] if v.startswith(RISKY_START) else None)
                ws.write_string(r, c, v, fmt)
            elif t is bool:
                ws.write_boolean(r, c, v)
            elif t is int or t is float:
                if v != v or v in (float("inf"), float("-inf")):
                    ws.write_string(r, c, str(v))
                else:
                    ws.write_number(r, c, v, f["bold"] if bold else None)
            elif isinstance(v, dt.datetime):
                ws.write_datetime(r, c, v, f["date"] if v.time() == dt.time() else f["datetime"])
            elif isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), f["date"])
            else:  # times, durations and anything else: as text
                ws.write_string(r, c, safe_cell_text(str(v)), f["text"] if str(v).startswith(RISKY_START) else None)
        self.row += 1


def _report_formats(wb) -> dict:
    return {
        "bold": wb.add_format({"bold": True}),
        "text": wb.add_format({"quote_prefix": True}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "money": wb.add_format({"num_format": "$#,##0.00"}),
    }


def build_report(path: Path, log: LogData, result: LogCheck, payer=None, method=None, progress=None) -> None:
    """Write the report workbook to ``path``: sheet Lines and sheet Summary."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    formats = _report_formats(wb)
    lines = _Sheet(wb, "Lines", formats)
    headers = ["Row"] + [h if h is not None else "" for h in log.header] + ["Units (rule)", "Check"]
    widths = [7] + [max(9, min(30, len(str(h)) + 2)) for h in log.header] + [12, 80]
    for j, w in enumerate(widths):
        lines.ws.set_column(j, j, w)
    lines.ws.freeze_panes(1, 1)
    n = len(log.rows)
    lines.ws.autofilter(0, 0, n, len(headers) - 1)
    check_colour_rules(lines.ws, wb, 1, len(headers) - 1, max(n, 1))
    lines.append(headers, bold=True)
    width = len(log.header)
    first = log.first_row
    for i, row in enumerate(log.rows):
        check = "" if result.blank[i] else check_text(result.findings[i])
        cells = [first + i]
        cells += row[:width]
        if len(row) < width:
            cells += [None] * (width - len(row))
        cells.append(result.units[i])
        cells.append(check)
        lines.append(cells)
        if progress and i % 4096 == 4095:
            progress("report", i + 1)

    s = result.summary
    kx = _Sheet(wb, "Medicare totals", formats)
    for col, w in enumerate((24, 8, 10, 18, 14, 12, 14)):
        kx.ws.set_column(col, col, w, formats["money"] if col in (3, 4) else None)
    kx.append(["Patient", "Year", "KX bucket", "Medicare allowed", "KX threshold", "Needs KX", "Past review ($3,000)"],
              bold=True)
    totals = s.get("medicare_totals") or []
    for t in totals:
        kx.append([t["patient"], t["year"], t["bucket"], t["allowed"], t["kx_threshold"], t["past_kx"],
                   t["past_review"]])
    kx.append([])
    kx.append(["National fee schedule amounts (the log does not say the locality), Prior Allowed included: the "
               "figures the KX rule (KX-MISSING) uses." if totals else "No Medicare lines in this log."])

    sm = _Sheet(wb, "Summary", formats)
    for col, w in enumerate((24, 10, 10, 100)):
        sm.ws.set_column(col, col, w)
    sm.append(["ptbilling check", log.where], bold=True)
    for label, v in (("Reader", log.reader), ("Header row", log.first_row - 1),
                     ("Payer (--payer)", payer or ""), ("Method (--method)", method or ""),
                     ("Visits", s["visits"]), ("Lines", s["lines"]), ("Units (rule)", s["units"]),
                     ("Errors", s["errors"]), ("Warnings", s["warnings"]),
                     ("Rows with errors", s["rows_with_errors"])):
        sm.append([label, v])
    if len(log.sheets_found) > 1:
        sm.append(["Sheets with a header", ", ".join(f"{n} ({k} recognised columns)" for n, k in log.sheets_found),
                   None, "the first, with the most recognised columns, was read"])
    cols = s.get("columns") or {}
    sm.append([])
    sm.append(["Column", "Read as", None, "Note"], bold=True)
    for c in cols.get("used", []):
        sm.append([c["column"], c["field"]])
    for c in cols.get("ignored", []):
        sm.append([c["column"], "(not used)", None, c["note"]])
    for note in cols.get("notes", []):
        if note.startswith("no Modifiers column"):
            sm.append(["(Modifiers)", "(no column)", None, note])
    sm.append([])
    sm.append(["Payer", "Unit method", "Lines", "Recognised as"], bold=True)
    for p in s.get("payers", []):
        kind = p["kind"] if p["kind"] != "other" else "not recognised as Medicare (map it in --columns [payers])"
        if p.get("mapped_from"):
            kind += "; mapped from " + ", ".join(p["mapped_from"])
        sm.append([p["payer"], p["method"], p["lines"], kind])
    sm.append([])
    sm.append(["Rule", "Severity", "Count", "What it checks"], bold=True)
    for rule, severity, what in rule_table():
        sm.append([rule, severity, s["rules"].get(rule, 0), what])
    wb.close()


def write_report(out: Path, log: LogData, result: LogCheck, payer=None, method=None, progress=None) -> None:
    """Write the report atomically: a temporary file in the same folder, then os.replace."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        try:
            build_report(Path(tmp), log, result, payer, method, progress)
        except OSError:
            raise
        except Exception as e:  # noqa: BLE001 - XlsxWriter's file errors are not OSErrors
            if type(e).__module__.startswith("xlsxwriter"):
                raise OSError(str(e)) from None
            raise
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise ReportError(f"--out {out}: cannot be written ({e.strerror or e})") from None
        raise
