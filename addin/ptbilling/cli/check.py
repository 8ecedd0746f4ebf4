"""``ptbilling check FILE``: the headless checker for filled session logs and EMR exports.

It reads the log (``logs.reader``), runs the very core of ``PT_UNITS`` and
``PT_VALIDATE`` over it (``logs.check.check_log``) and prints a summary (text or
JSON); ``--out`` also writes a report workbook. Exit status: 0 no ERROR finding
(warnings allowed), 1 at least one ERROR, 2 the input (or --out) cannot be used.
The input file is only ever opened for reading.
"""
from __future__ import annotations

import contextlib
import gc
import json
import sys
from pathlib import Path

from ..logs.check import LogCheck, check_log
from ..logs.reader import LogData, UnusableLog, read_log
from ..rules.errors import BadValue
from ..rules.service_units import METHODS
from ..workbooks.report import check_out_path, dropped_note, write_report
from .exit_codes import EXIT_FINDINGS, EXIT_OK

PROGRESS_MIN_ROWS = 10_000  # a progress bar for logs over this many rows (on a terminal)
FIRST_FINDINGS = 20  # findings listed in the text summary

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
    source = Path(args.file)
    out = check_out_path(args.out, source, args.force) if args.out else None
    with gc_paused():
        log = read_log(source)
        for note in log.notes:
            print(f"ptbilling: note: {note}", file=sys.stderr)
        with _progress(len(log.rows)) as progress:
            result = run_check(log, args.payer, args.method, progress)
            if out is not None:
                write_report(out, log, result, args.payer, args.method, progress, force=args.force)
    if out is not None and dropped_note(log):
        print(f"ptbilling: note: {dropped_note(log)}", file=sys.stderr)
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
