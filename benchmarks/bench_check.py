"""Benchmark: `ptbilling check` on a 100,000-line log, against merely reading it with python-calamine.

Run: python benchmarks/bench_check.py [--lines N] [--keep DIR]

- read: ``CalamineWorkbook.from_path(f).get_sheet_by_name(s).to_python()``, the bare
  value read of the same file, in the same run;
- check: ``check_command.check_path`` -- what ``ptbilling check FILE`` does before
  printing: the safety checks and formula scan, the read, the coercion, every
  rule (``validate_lines``), units by the rule (``log_units``), the summary --
  plus rendering the text summary.
Times are the best of 3 in this process. Peak memory (ru_maxrss) is measured in
a fresh subprocess for each. Targets: check <= 1.5x read, peak < 500 MB.

The log looks like a clinic's: visits of 2-4 lines, Medicare, Medicare
Advantage and commercial payers, PTs and PTAs, billed units by the rule with a
few mistakes, a SessionLog Table, shared strings as Excel writes them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ADDIN = HERE.parent / "addin"
sys.path.insert(0, str(ADDIN))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import best_of  # noqa: E402

HEADER = ["Patient", "Date", "Payer", "Provider", "Code", "Modifiers", "Minutes", "Units", "Assistant Minutes", "Notes"]
TIMED = ["97110", "97112", "97140", "97530", "97116", "97535", "97035", "97032"]
PAYERS = ["Medicare", "Medicare", "Medicare Advantage", "Aetna", "BCBS"]


def make_rows(n_lines: int, seed: int = 7) -> list[list]:
    from ptbilling.rules.claim_lines import unit_method
    from ptbilling.rules.service_units import code_units

    rnd = random.Random(seed)
    rows: list[list] = []
    visit = 0
    while len(rows) < n_lines:
        visit += 1
        patient = f"P{visit % 2500:04d}"
        day = dt.datetime(2025, 1, 2) + dt.timedelta(days=(visit // 2500) % 350)
        payer = rnd.choice(PAYERS)
        provider = "PTA" if rnd.random() < 0.2 else "PT"
        mods = "GP CQ" if provider == "PTA" and "Medicare" in payer else "GP"
        codes = rnd.sample(TIMED, rnd.randint(2, 4))
        minutes = {c: rnd.randint(8, 38) for c in codes}
        units = code_units(dict(minutes), unit_method(payer))
        for c in codes:
            billed = units[c] + (1 if rnd.random() < 0.02 else 0)  # a few billing mistakes
            rows.append([patient, day, payer, provider, int(c), mods, minutes[c], billed, None,
                         "late cancel of prior visit" if rnd.random() < 0.01 else None])
    return rows[:n_lines]


def write_log(path: Path, n_lines: int) -> None:
    import xlsxwriter

    rows = make_rows(n_lines)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Session Log")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for i, r in enumerate(rows, start=1):
        for j, v in enumerate(r):
            if v is None:
                continue
            if j == 1:
                ws.write_datetime(i, j, v, date_fmt)
            else:
                ws.write(i, j, v)
    ws.add_table(0, 0, len(rows), len(HEADER) - 1,
                 {"name": "SessionLog", "columns": [{"header": h} for h in HEADER]})
    wb.close()


def bare_read(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    return len(CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Session Log").to_python())


def full_check(path: Path) -> dict:
    from ptbilling.cli import check as check_command

    log, result = check_command.check_path(path)
    check_command.print_text(log, result, file=io.StringIO())
    return result.summary


def stages(path: Path) -> dict[str, float]:
    """Where the check's time goes (one pass, garbage collection paused as in the command)."""
    from ptbilling.cli import check as check_command
    from ptbilling.logs import check as log_check
    from ptbilling.logs.reader import read_log
    from ptbilling.rules.validate import validate_lines
    from ptbilling.logs.cells import read_rows
    from ptbilling.logs.columns import map_headers

    out = {}
    with check_command.gc_paused():
        t = time.perf_counter()
        log = read_log(path)
        out["read_log (checks, formula scan, calamine)"] = time.perf_counter() - t
        cols = map_headers(log.header)
        t = time.perf_counter()
        parsed = read_rows(log.rows, cols)
        out["coerce rows (read_rows)"] = time.perf_counter() - t
        t = time.perf_counter()
        validate_lines(parsed.lines, None, parsed.problems, {})  # with the KX totals, as the check asks
        out["rules (validate_lines, KX totals)"] = time.perf_counter() - t
        t = time.perf_counter()
        log_check.rule_units(log.rows, cols, parsed, None, None)
        out["units by rule (log_units)"] = time.perf_counter() - t
    return out


PROBE = """
import resource, sys
sys.path.insert(0, {bench!r})
import bench_check
bench_check.{fn}(bench_check.Path({path!r}))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mb(fn: str, path: Path) -> float:
    """ru_maxrss of a fresh interpreter doing only ``fn`` (KiB on Linux, bytes on macOS)."""
    p = subprocess.run([sys.executable, "-c", PROBE.format(bench=str(HERE), fn=fn, path=str(path))],
                       capture_output=True, text=True, check=True)
    rss = int(p.stdout.split()[-1])
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--keep", metavar="DIR", help="write (or reuse) the generated log in DIR")
    args = ap.parse_args(argv)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ptbilling-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"log_{args.lines}.xlsx"
    if not path.exists():
        t = time.perf_counter()
        write_log(path, args.lines)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s")

    assert bare_read(path) == args.lines + 1
    summary = full_check(path)  # warm-up, and a sanity check
    assert summary["lines"] == args.lines, summary
    t_read = best_of(lambda: bare_read(path))
    t_check = best_of(lambda: full_check(path))
    parts = stages(path)
    m_read, m_check = peak_mb("bare_read", path), peak_mb("full_check", path)

    size = path.stat().st_size / 1024 ** 2
    print(f"\nptbilling check, {args.lines:,}-line log ({size:.1f} MB xlsx): "
          f"{summary['visits']:,} visits, {summary['errors']:,} errors, {summary['warnings']:,} warnings")
    print(f"{'':44} {'seconds':>8} {'x read':>7} {'peak MB':>8}")
    print(f"{'python-calamine read only':44} {t_read:8.2f} {1:7.2f} {m_read:8.0f}")
    print(f"{'ptbilling check (read + rules, no --out)':44} {t_check:8.2f} {t_check / t_read:7.2f} {m_check:8.0f}")
    for name, secs in parts.items():
        print(f"{'  ' + name:44} {secs:8.2f} {secs / t_read:7.2f}")
    ratio_ok, mem_ok = t_check <= 1.5 * t_read, m_check < 500
    print(f"\ntarget check <= 1.5x read: {'met' if ratio_ok else 'NOT met'} ({t_check / t_read:.2f}x); "
          f"peak < 500 MB: {'met' if mem_ok else 'NOT met'} ({m_check:.0f} MB)")


if __name__ == "__main__":
    main()
