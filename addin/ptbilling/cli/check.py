"""``ptbilling check FILE``: the headless checker for filled session logs and EMR exports.

It reads the log (``logs.reader``), runs the very core of ``PT_UNITS`` and
``PT_VALIDATE`` over it (``logs.check.check_log``) and prints a summary (text or
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
from pathlib import Path
from typing import TYPE_CHECKING

from ..logs.columns import ColumnMap, load_column_file, parse_column_option
from ..logs.reader import LogData, UnusableLog, read_log
from ..rules.errors import BadValue
from ..rules.service_units import METHODS
from .exit_codes import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    # rich is imported where it is used (a run without a terminal never loads it); these name its types
    from rich.console import JustifyMethod
    from rich.progress import Progress

    # imported by check_modules, while python-calamine parses
    from ..logs.check import LogCheck

PROGRESS_MIN_ROWS = 10_000  # a progress bar for logs over this many rows (on a terminal)
FIRST_FINDINGS = 20  # findings listed in the text summary

def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "check",
        help="Check a filled session log or EMR export (.xlsx, .xlsm, .csv) with the PT_VALIDATE rules.",
        description="Check every line of a session log or EMR charge export: units by the rule (as PT_UNITS) "
        "and findings (as PT_VALIDATE). Reads the Table named SessionLog, else the sheet with a header row "
        "(Patient, Date, Payer, Provider, Code, Modifiers, Minutes, Units, or the names EMR exports use: DOS, "
        "CPT, Modifier 1-4, Rendering Provider...) in its first 30 rows. Exit status: 0 no errors "
        "(warnings allowed), 1 errors found, 2 the file cannot be used.",
    )
    p.add_argument("file", metavar="FILE", help="the log: .xlsx, .xlsm or .csv")
    p.add_argument("--out", metavar="REPORT.xlsx",
                   help="also write a report workbook: the lines with units and check (coloured), each Medicare "
                   "patient's yearly KX totals, and a summary of what was read and the count per rule")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text: a summary (default); json: one document with every row")
    p.add_argument("--payer", metavar="P", help="payer for rows without one (e.g. Medicare), as PT_VALIDATE's payer")
    p.add_argument("--method", type=str.upper, choices=METHODS,
                   help="unit method for non-Medicare payers (default AMA; traditional Medicare is always CMS)")
    p.add_argument("--column", action="append", default=[], metavar="HEADER=FIELD",
                   help="read column HEADER as FIELD (Patient, Date, Payer, Provider, Code, Modifiers, Minutes, "
                   "Units, Assistant Minutes, Prior Allowed, or ignore), e.g. --column \"Ins Plan=Payer\"; repeatable")
    p.add_argument("--columns", metavar="OFFICE.toml",
                   help="a mapping file: a [columns] table (\"Ins Plan\" = \"Payer\") and a [payers] table "
                   "(\"BCBS Medicare Adv\" = \"Medicare Advantage\"); --column options add to it")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=cmd_check)


def column_map(args) -> ColumnMap | None:
    """The user's mappings: --columns FILE first, then each --column (a later one wins)."""
    mapping = ColumnMap()
    if getattr(args, "columns", None):
        load_column_file(args.columns, mapping)
    for text in getattr(args, "column", None) or []:
        parse_column_option(text, mapping)
    return mapping if mapping else None


def check_modules() -> None:
    """Import what checking a log needs beyond reading it (logs.check and the rules it runs).

    ``read_log`` runs this while python-calamine parses the sheet in a worker thread, where
    it costs nothing (about 16 ms otherwise); ``cmd_check`` runs it again after the read for
    a log calamine did not parse (a second import is a dict look-up).
    """
    from ..logs import check  # noqa: F401 - imported for its cost, now


def _note(text: str) -> None:
    """A note on stderr. A reader of stderr that left (`2>&1 >out | head`) only loses the notes:
    the check still writes its output and ends with its status (a BrokenPipeError here reached
    main, which ends 0 with nothing written, even for a log with errors)."""
    try:
        print(f"ptbilling: note: {text}", file=sys.stderr)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stderr.fileno())  # no second error at exit


def cmd_check(args) -> int:
    source = Path(args.file)
    mapping = column_map(args)
    if args.out:
        from ..workbooks.report import check_out_path

        out = check_out_path(args.out, source, args.force)
    else:
        out = None
    with gc_paused():
        log = read_log(source, mapping, alongside=check_modules)
        check_modules()
        for note in log.notes:
            _note(note)
        with _progress(len(log.rows)) as progress:
            result = run_check(log, args.payer, args.method, progress, mapping)
            if out is not None:
                from ..workbooks.report import write_report

                write_report(out, log, result, args.payer, args.method, progress, force=args.force)
    if out is not None:
        from ..workbooks.report import dropped_note

        dropped = dropped_note(log, result)
        if dropped:
            _note(dropped)
    status = EXIT_FINDINGS if result.summary["errors"] else EXIT_OK
    _encodable_stdout(args.format)
    try:
        if args.format == "json":
            write_json(log, result, args.payer, args.method, sys.stdout)
        else:
            print_text(log, result, out)
        sys.stdout.flush()
    except BrokenPipeError:
        # `ptbilling check log.csv | head`: the reader left early. The status still says what the
        # check found (0 for a clean log), never "errors found" because a pipe closed.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
    from . import main

    if main.EXIT_FAST:  # the process ends next: it drops the log and the check whole (main.exit_process)
        main.AT_EXIT.append((log, result))
    return status


def _encodable_stdout(fmt: str) -> None:
    """Let stdout take any character of a log, whatever the locale gives it.

    Redirected output on Windows, or PYTHONIOENCODING=ascii, gives a stdout that cannot write
    "Médicare" or an emoji in a Notes cell: the check would end with an internal error. JSON is
    UTF-8 by its standard (RFC 8259 section 8.1), so it is written as UTF-8; the text summary is
    for reading, so a character the terminal cannot show becomes "?".
    """
    stream = sys.stdout
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    reconfigure = getattr(stream, "reconfigure", None)
    if encoding == "utf8" or reconfigure is None:
        return
    if fmt == "json":
        reconfigure(encoding="utf-8")
    else:
        reconfigure(errors="replace")


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


def check_path(path, payer=None, method=None, mapping: ColumnMap | None = None) -> tuple[LogData, LogCheck]:
    """Read and check a log file, as ``ptbilling check`` does without output (the benchmark's unit)."""
    with gc_paused():
        log = read_log(path, mapping)
        return log, run_check(log, payer, method, mapping=mapping)


def run_check(log: LogData, payer, method, progress=None, mapping: ColumnMap | None = None) -> LogCheck:
    from ..logs.check import check_log

    try:
        return check_log(log.header, log.rows, payer, method, formula_cells=log.formula_cells, progress=progress,
                         mapping=mapping)
    except BadValue as e:  # a missing column: name the file and the option
        text = str(e).replace("(or give the payer argument)", "(or give --payer, or map a column with "
                              "--column \"Header=Payer\")")
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
        self.bar: Progress | None = None

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
        assert self.bar is not None  # __enter__ hands out update only once it has started the bar
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
        "header_row": log.first_row - 1, "sheets_found": [{"sheet": n, "recognised_columns": k}
                                                          for n, k in log.sheets_found],
        "columns": s.get("columns", {}), "payers": s.get("payers", []),
        "missing_data": s.get("missing_data", []),
    }


def json_document(log: LogData, result: LogCheck, payer=None, method=None) -> dict:
    first = log.first_row
    read = result.read or [None] * len(result.units)
    # with what was read (r), so a finding can be matched to the export's line; one dict display
    # per row (100,000 of them), not a dict grown by update()
    lines = [{"row": first + i, "units": u, "findings": [str(f) for f in fs]} if r is None else
             {"row": first + i, **r, "units": u, "findings": [str(f) for f in fs]}
             for i, (u, fs, r) in enumerate(zip(result.units, result.findings, read))]
    return {"summary": summary_document(log, result, payer, method), "lines": lines}


def reading_lines(log: LogData, result: LogCheck) -> list[str]:
    """What was read and how: the sheet (and why that one), the columns used and not used, the payers.

    Nothing an export holds is dropped without a line here: every column not read
    is named, with a note when it looks like modifiers, codes, minutes or units.
    """
    s = result.summary
    out = []
    if log.sheets_found and len(log.sheets_found) > 1:
        chosen, others = log.sheets_found[0], log.sheets_found[1:]
        out.append(f"Read sheet '{chosen[0]}': its header has the most recognised columns ({chosen[1]}); "
                   "also had a header: " + ", ".join(f"'{n}' ({k})" for n, k in others) + ".")
    if log.first_row > 2 and not log.table:
        out.append(f"Header row found on {'sheet ' if log.sheet else 'CSV '}row {log.first_row - 1} "
                   f"(rows above it are titles, not read).")
    cols = s.get("columns") or {}
    if cols.get("used"):
        out.append("Columns used: " + ", ".join(
            c["column"] if c["column"] == c["field"] else f"{c['column']} -> {c['field']}" for c in cols["used"]) + ".")
    if cols.get("ignored"):
        out.append("Columns not used: " + ", ".join(c["column"] for c in cols["ignored"]) + ".")
    for note in cols.get("notes", []):
        out.append(f"  note: {note}")
    payers = s.get("payers") or []
    if payers:
        parts = []
        for p in payers:
            n = f"{p['lines']:,} line{'s' if p['lines'] != 1 else ''}"
            if p.get("mapped_from"):
                n += ", mapped from " + ", ".join(repr(x) for x in p["mapped_from"])
            if p["kind"] == "other":
                parts.append(f"{p['payer']} (not recognised as Medicare: {p['method']} unit method, {n})")
            else:
                parts.append(f"{p['payer']} ({p['kind']}, {p['method']}, {n})")
        out.append("Payers: " + "; ".join(parts) + ".")
    return out


def write_json(log: LogData, result: LogCheck, payer=None, method=None, stream=None) -> None:
    """The JSON document and a newline, in one write: ``json_text``, the bytes of
    ``json.dumps(json_document(...), ensure_ascii=False)`` (tests/test_equivalence_json.py)."""
    out = stream or sys.stdout
    for part in _json_parts(log, result, payer, method):  # not joined: that would copy the whole text again
        out.write(part)
    out.write("\n")


class _Encoded(dict):
    """value -> its JSON text after a fixed prefix, encoded once per distinct value (a log's
    patients, dates, payers, codes and modifier lists repeat). Keys of one column share one type
    (``_line_columns`` checks), so no two keys are equal but encode differently (1 and 1.0)."""

    def __init__(self, prefix: str, convert=None):
        super().__init__()
        self.prefix, self.convert = prefix, convert

    def __missing__(self, value):
        v = value if self.convert is None else self.convert(value)
        text = self[value] = self.prefix + json.dumps(v, ensure_ascii=False)
        return text


_NO_LINE = object()  # the placeholder of a row without a ClaimLine in the per-column passes
#: the fields of ``LogCheck.read`` in its order, with their ClaimLine position and the type read_rows gives
_READ_FIELDS = (("patient", 1, str), ("date", 2, None), ("payer", 3, str), ("provider", 4, str),
                ("code", 5, str), ("modifiers", 6, tuple))


def json_text(log: LogData, result: LogCheck, payer=None, method=None) -> str:
    """``json.dumps(json_document(log, result, payer, method), ensure_ascii=False)``, the lines
    written without building their 100,000 dicts.

    ``json.dumps`` of the document builds a dict per row and encodes every cell again; here
    each distinct value of a column is encoded once (``_Encoded``, by ``json.dumps`` itself, so
    the escaping is its own) and the lines array is one join of the pieces, row by row in the
    document's key order. Anything the pieces cannot stand for exactly (a units value that is
    not an int, a ClaimLine field of an unexpected type) takes ``json.dumps`` of the document.
    """
    return "".join(_json_parts(log, result, payer, method))


def _json_parts(log: LogData, result: LogCheck, payer=None, method=None) -> list[str]:
    """``json_text`` in parts whose concatenation is the text.

    The collector is paused: the pieces' hundreds of thousands of tuples (and the fallback
    document's dicts) hold no cycles, and one full collection over a checked log's millions
    of objects would take longer than the writing (0.36 s instead of 0.09 for 100,000 lines).
    """
    with gc_paused():
        pieces = _line_pieces(log, result)
        if pieces is None:
            return [json.dumps(json_document(log, result, payer, method), ensure_ascii=False)]
        summary = json.dumps(summary_document(log, result, payer, method), ensure_ascii=False)
    return ['{"summary": ', summary, ', "lines": [', pieces, "]}"]


def _line_pieces(log: LogData, result: LogCheck) -> str | None:
    """The text between the brackets of the document's "lines", or None (see ``json_text``)."""
    import itertools
    from operator import itemgetter

    units, findings = result.units, result.findings
    n = len(units)
    if len(findings) != n or not set(map(type, units)) <= {int, type(None)}:
        return None
    if result.lines is None or result.rows is None or result.cols is None:
        lines: list = [None] * n
        unread: list[int] = []
    else:
        lines, blank = result.lines, result.blank
        if len(lines) != n:
            return None
        unread = [i for i, ln in enumerate(lines) if ln is None and not blank[i]]
    empty = (_NO_LINE,) * 7
    # the six fields of every row in one pass over the lines (scattered in memory), then transposed
    fields = list(zip(*map(itemgetter(1, 2, 3, 4, 5, 6), [empty if ln is None else ln for ln in lines])))
    if not fields:
        fields = [()] * 6
    columns = []
    for (name, _, kind), values in zip(_READ_FIELDS, fields):
        if kind is None:
            enc = _Encoded(f', "{name}": ', dt.date.isoformat)
        elif kind is tuple:
            enc = _Encoded(f', "{name}": ', list)
        else:
            enc = _Encoded(f', "{name}": ')
        enc[_NO_LINE] = ""  # a row without a line has no such key
        pieces = list(map(enc.__getitem__, values))
        # the types of the distinct values, judged from the keys: a value only ever finds the entry
        # of an equal key, and no str, date or tuple of str equals a value of another type
        # (datetime(...) != date(...); (1,) == (1.0,) but neither holds a str)
        keys = [k for k in enc if k is not _NO_LINE]
        if kind is None:
            if not all(type(k) is dt.date for k in keys):  # read_rows gives dates, never a datetime
                return None
        elif kind is tuple:
            if not all(type(k) is tuple and all(type(m) is str for m in k) for k in keys):
                return None
        elif not all(type(k) is kind for k in keys):
            return None
        for i in unread:  # its cells as text (LogCheck.unread), encoded as json.dumps would
            v = result.unread(i)[name]
            pieces[i] = f', "{name}": ' + json.dumps(v, ensure_ascii=False)
        columns.append(pieces)
    first = log.first_row
    # 8 pieces a row: a join's cost is mostly per piece, so the constant texts ride on their neighbours
    row_text = list(map('{{"row": {}'.format, range(first, first + n)))
    units_only = _Encoded(', "units": ')
    no_findings = {u: text + ', "findings": []}, ' for u, text in ((u, units_only[u]) for u in set(units))}
    tail = [no_findings[u] if not fs else
            units_only[u] + ', "findings": ' + json.dumps([str(f) for f in fs], ensure_ascii=False) + "}, "
            for u, fs in zip(units, findings)]
    if tail:
        tail[-1] = tail[-1][:-2]  # no separator after the last line
    return "".join(itertools.chain.from_iterable(zip(row_text, *columns, tail)))


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

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich's own handler exits with status 1, which reads as "errors found" (`check | head`
            # on a clean log); cmd_check keeps the status of the check instead
            self.quiet = True
            raise BrokenPipeError

    console = _Console(file=file or sys.stdout, highlight=False)
    s = result.summary
    console.print(Text(f"ptbilling check: {log.where}"), soft_wrap=True)
    head = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("visits", "lines", "units", "errors", "warnings"):
        head.add_column(name.capitalize() if name != "units" else "Units (rule)", justify="right")
    head.add_row(*(f"{s[k]:,}" for k in ("visits", "lines", "units", "errors", "warnings")))
    console.print(head)
    for line in reading_lines(log, result):
        console.print(Text(line), soft_wrap=True)
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
        top = sorted(totals, key=lambda t: -t["allowed"])[:FIRST_FINDINGS]
        kx_table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        kx_columns: tuple[tuple[str, JustifyMethod], ...] = (
            ("Patient", "left"), ("Year", "right"), ("Bucket", "left"),
            ("Medicare allowed", "right"), ("KX threshold", "right"), ("", "left"))
        for name, justify in kx_columns:
            kx_table.add_column(name, justify=justify)
        for t in top:
            flag = "past review ($3,000)" if t["past_review"] else ("needs KX" if t["past_kx"] else "")
            kx_table.add_row(t["patient"], str(t["year"]), t["bucket"], f"${t['allowed']:,.2f}",
                             f"${t['kx_threshold']:,.0f}", Text(flag, style="yellow" if flag else ""))
        more = f"; the {len(top)} highest of {len(totals):,}, all in --format json" if len(totals) > len(top) else ""
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
