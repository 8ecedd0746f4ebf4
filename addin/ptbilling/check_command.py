"""``ptbilling check FILE``: the headless checker for filled session logs and EMR exports.

It reads the log (``log_reader``), runs the very core of ``PT_UNITS`` and
``PT_VALIDATE`` over it (``log_check.check_log``) and prints a summary (text or
JSON); ``--out`` also writes a report workbook. Exit status: 0 no ERROR finding
(warnings allowed), 1 at least one ERROR, 2 the input (or --out) cannot be used.
The input file is only ever opened for reading.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import os
import sys
import tempfile
from pathlib import Path

from .log_check import LogCheck, check_log, rule_table
from .log_reader import LogData, UnusableLog, read_log
from .rules.errors import BadValue, PtBillingError
from .rules.service_units import METHODS
from .rules.validate import check_text

PROGRESS_MIN_ROWS = 10_000  # a progress bar for logs over this many rows (on a terminal)
FIRST_FINDINGS = 20  # findings listed in the text summary
RISKY_START = ("=", "+", "-", "@", "\t", "\r", "\n")  # a spreadsheet may take these for a formula
MAX_CELL_CHARS = 32_767  # Excel's limit for one cell


class ReportError(PtBillingError, ValueError):
    """The --out report cannot be written where asked."""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "check",
        help="Check a filled session log or EMR export (.xlsx, .xlsm, .csv) with the PT_VALIDATE rules.",
        description="Check every line of a session log: units by the rule (as PT_UNITS) and findings "
        "(as PT_VALIDATE). Reads the Table named SessionLog, else the first sheet whose first row has the "
        "headers (Patient, Date, Payer, Provider, Code, Modifiers, Minutes, Units). Exit status: 0 no errors "
        "(warnings allowed), 1 errors found, 2 the file cannot be used.",
    )
    p.add_argument("file", metavar="FILE", help="the log: .xlsx, .xlsm or .csv")
    p.add_argument("--out", metavar="REPORT.xlsx",
                   help="also write a report workbook: the lines with units and check, and a per-rule summary")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text: a summary (default); json: one document with every row")
    p.add_argument("--payer", metavar="P", help="payer for rows without one (e.g. Medicare), as PT_VALIDATE's payer")
    p.add_argument("--method", type=str.upper, choices=METHODS,
                   help="unit method for non-Medicare payers (default AMA; traditional Medicare is always CMS)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=cmd_check)


def cmd_check(args) -> int:
    from .cli import EXIT_FINDINGS, EXIT_OK

    source = Path(args.file)
    out = check_out_path(args.out, source, args.force) if args.out else None
    with gc_paused():
        log = read_log(source)
        for note in log.notes:
            print(f"ptbilling: note: {note}", file=sys.stderr)
        with _progress(len(log.rows)) as progress:
            result = run_check(log, args.payer, args.method, progress)
            if out is not None:
                write_report(out, log, result, args.payer, args.method, progress)
    if args.format == "json":
        json.dump(json_document(log, result, args.payer, args.method), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_text(log, result, out)
    return EXIT_FINDINGS if result.summary["errors"] else EXIT_OK


@contextlib.contextmanager
def gc_paused():
    """No cyclic garbage collection while a log is read and checked.

    Reading and checking create millions of small objects and no reference
    cycles; Python's collector would walk them all again and again (about a
    tenth of the time of a million-row log). Reference counting still frees
    everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_path(path, payer=None, method=None) -> tuple[LogData, LogCheck]:
    """Read and check a log file, as ``ptbilling check`` does without output (the benchmark's unit)."""
    with gc_paused():
        log = read_log(path)
        return log, run_check(log, payer, method)


def run_check(log: LogData, payer, method, progress=None) -> LogCheck:
    try:
        return check_log(log.header, log.rows, payer, method, formula_cells=log.formula_cells, progress=progress)
    except BadValue as e:  # a missing column: name the file and the option
        text = str(e).replace("(or give the payer argument)", "(or give --payer)")
        raise UnusableLog(f"{log.where}: {text}") from None


# --- progress ------------------------------------------------------------------------------

def want_progress(n_rows: int, stream=None) -> bool:
    """A progress bar only for logs over 10,000 rows, and only when stderr is a terminal."""
    stream = sys.stderr if stream is None else stream
    if n_rows <= PROGRESS_MIN_ROWS:
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class _progress:
    """Context manager giving a progress callback (stage, rows done), or None."""

    STAGES = {"rows": "Reading rows", "rules": "Checking rules", "units": "Units by rule", "report": "Writing report"}

    def __init__(self, n_rows: int):
        self.n = n_rows
        self.bar = None

    def __enter__(self):
        if not want_progress(self.n):
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description:<15}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True)
        self.bar.start()
        self.task = self.bar.add_task(self.STAGES["rows"], total=self.n)
        return self.update

    def update(self, stage: str, done: int) -> None:
        self.bar.update(self.task, description=self.STAGES.get(stage, stage), completed=done)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


# --- output ------------------------------------------------------------------------------

def summary_document(log: LogData, result: LogCheck, payer, method) -> dict:
    s = dict(result.summary)
    severity = s.pop("rule_severity")
    return {
        "file": str(log.path), "sheet": log.sheet, "table": log.table, "reader": log.reader,
        "first_row": log.first_row, "payer": payer, "method": method,
        "rows": len(log.rows), **{k: s[k] for k in ("visits", "lines", "units", "errors", "warnings",
                                                     "rows_with_errors")},
        "rules": {r: {"severity": severity[r], "count": n} for r, n in s["rules"].items()},
        "medicare_totals": s.get("medicare_totals", []),
        "missing_data": s.get("missing_data", []),
    }


def json_document(log: LogData, result: LogCheck, payer=None, method=None) -> dict:
    first = log.first_row
    return {
        "summary": summary_document(log, result, payer, method),
        "lines": [{"row": first + i, "units": u, "findings": [str(f) for f in fs]}
                  for i, (u, fs) in enumerate(zip(result.units, result.findings))],
    }


def first_findings(log: LogData, result: LogCheck, limit: int = FIRST_FINDINGS) -> list[tuple[int, str]]:
    out = []
    for i, fs in enumerate(result.findings):
        for f in fs:
            out.append((log.row_number(i), str(f)))
            if len(out) >= limit:
                return out
    return out


def print_text(log: LogData, result: LogCheck, out: Path | None = None, file=None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=file or sys.stdout, highlight=False)
    s = result.summary
    console.print(Text(f"ptbilling check: {log.where}"), soft_wrap=True)
    head = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("visits", "lines", "units", "errors", "warnings"):
        head.add_column(name.capitalize() if name != "units" else "Units (rule)", justify="right")
    head.add_row(*(f"{s[k]:,}" for k in ("visits", "lines", "units", "errors", "warnings")))
    console.print(head)
    if s["rules"]:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=None)
        table.add_column("Rule")
        table.add_column("Severity")
        table.add_column("Count", justify="right")
        for rule, n in s["rules"].items():
            sev = s["rule_severity"][rule]
            table.add_row(rule, Text(sev, style="red" if sev == "ERROR" else "yellow"), f"{n:,}")
        console.print(table)
        total = s["errors"] + s["warnings"]
        shown = first_findings(log, result)
        console.print(Text(f"First findings ({len(shown)} of {total:,}), by sheet row:"
                           if log.sheet else f"First findings ({len(shown)} of {total:,}), by CSV row:"))
        for row, text in shown:
            console.print(Text(f"  row {row}: {text}"), soft_wrap=True)
    totals = s.get("medicare_totals") or []
    if totals:
        # Those nearest the thresholds first; every patient is in --format json and --out.
        shown = sorted(totals, key=lambda t: -t["allowed"])[:FIRST_FINDINGS]
        kx_table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for name, justify in (("Patient", "left"), ("Year", "right"), ("Bucket", "left"),
                              ("Medicare allowed", "right"), ("KX threshold", "right"), ("", "left")):
            kx_table.add_column(name, justify=justify)
        for t in shown:
            flag = "past review ($3,000)" if t["past_review"] else ("needs KX" if t["past_kx"] else "")
            kx_table.add_row(t["patient"], str(t["year"]), t["bucket"], f"${t['allowed']:,.2f}",
                             f"${t['kx_threshold']:,.0f}", Text(flag, style="yellow" if flag else ""))
        more = f"; the {len(shown)} highest of {len(totals):,}, all in --format json" if len(totals) > len(shown) else ""
        console.print(Text(f"Medicare allowed per patient and year (national amounts, Prior Allowed included{more}):"),
                      soft_wrap=True)
        console.print(kx_table)
    for note in s.get("missing_data") or []:
        console.print(Text(note, style="yellow"), soft_wrap=True)
    if out is not None:
        console.print(Text(f"Report written to {out}"), soft_wrap=True)
    if s["errors"]:
        console.print(Text(f"{s['errors']:,} error{'s' if s['errors'] != 1 else ''} on {s['rows_with_errors']:,} "
                           f"row{'s' if s['rows_with_errors'] != 1 else ''}: fix them before billing.", style="bold red"))
    elif s["warnings"]:
        console.print(Text(f"No errors; {s['warnings']:,} warning{'s' if s['warnings'] != 1 else ''} to review.",
                           style="yellow"))
    else:
        console.print(Text("OK: no findings.", style="green"))


# --- the report workbook -----------------------------------------------------------------

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

    sm = _Sheet(wb, "Summary", formats)
    for col, w in enumerate((24, 10, 10, 100)):
        sm.ws.set_column(col, col, w)
    s = result.summary
    sm.append(["ptbilling check", log.where], bold=True)
    for label, v in (("Reader", log.reader), ("Payer (--payer)", payer or ""), ("Method (--method)", method or ""),
                     ("Visits", s["visits"]), ("Lines", s["lines"]), ("Units (rule)", s["units"]),
                     ("Errors", s["errors"]), ("Warnings", s["warnings"]),
                     ("Rows with errors", s["rows_with_errors"])):
        sm.append([label, v])
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
