"""Benchmark: `ptbilling check` on a 100,000-line log as a whole process, against the bare calamine read.

Run: python benchmarks/bench_check.py [--lines N] [--rounds R] [--keep DIR] [--stages] [--other-tree DIR]

Each round runs, as fresh processes and in a rotating order (interleaved, so a
busy spell of this shared machine hits every contender alike):

- read: ``python -c`` importing python-calamine and reading the sheet
  (``CalamineWorkbook.from_path(f).get_sheet_by_name(s).to_python()``): the floor;
- json: ``python -m ptbilling check FILE --format json`` with stdout to a file;
- text: ``python -m ptbilling check FILE`` (the text summary) with stdout to a file;
- floor: ``benchmarks/floor_json.py FILE``: the same read, then a JSON document shaped like the
  check's written as fast as plain Python can, with no rule and no coercion (a floor under any
  pure-Python check, not a competitor).

``--other-tree DIR`` adds a fourth contender: the JSON check of another source
tree (e.g. ``git archive main | tar -x -C DIR``), for a before/after in one run.
Every contender runs once untimed first (the bytecode cache, the page cache).

Reported: per contender the median wall time and its spread (min-max over the
rounds), and the median and spread of the per-round ratio to that round's read
(the ratio of one round is less disturbed than either time alone). Peak memory
is each process's own ru_maxrss (``os.wait4``). Also: a one-visit ``PT_UNITS``
call (median per call), where the check's time goes in-process (``--stages``),
and the sha256 of the JSON output, so a change can be shown to keep it
byte-identical. Targets: json <= 1.5x read, peak < 500 MB.

The log looks like a clinic's: visits of 2-4 lines, Medicare, Medicare
Advantage and commercial payers, PTs and PTAs, billed units by the rule with a
few mistakes, a SessionLog Table, shared strings as Excel writes them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ADDIN = HERE.parent / "addin"
sys.path.insert(0, str(ADDIN))
sys.path.insert(0, str(Path(__file__).resolve().parent))

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


READ_SCRIPT = ("import sys\nfrom python_calamine import CalamineWorkbook\n"
               "CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_name('Session Log').to_python()\n")


def commands(path: Path, other: Path | None = None) -> dict[str, list[str]]:
    """The contenders, each a whole process as a user would start it."""
    py = sys.executable
    out = {
        "read": [py, "-c", READ_SCRIPT, str(path)],
        "json": [py, "-m", "ptbilling", "check", str(path), "--format", "json"],
        "text": [py, "-m", "ptbilling", "check", str(path)],
        "floor": [py, str(HERE / "floor_json.py"), str(path)],
    }
    if other is not None:  # sys.path[0] is the -c script's folder, so this tree's addin comes first
        out["other"] = [py, "-c", f"import sys; sys.path.insert(0, {str(other / 'addin')!r}); "
                        "from ptbilling.cli.main import main; sys.exit(main())",
                        "check", str(path), "--format", "json"]
    return out


def process_env(scratch: Path) -> dict[str, str]:
    """The children's environment: ptbilling from this tree, byte-compiled as an installed package runs.

    pip compiles a wheel's modules when it installs them; a process started with
    PYTHONDONTWRITEBYTECODE (as on some CI machines) would instead compile
    ptbilling's source on every run, which is no part of the check. The bytecode
    goes to a cache in the scratch folder (the warm-up round writes it), never
    into the source tree.
    """
    env = dict(os.environ, PYTHONPATH=str(ADDIN), PYTHONPYCACHEPREFIX=str(scratch / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_process(cmd: list[str], out_path: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak MB, exit code) of that process alone; stdout goes to ``out_path``."""
    with open(out_path, "wb") as out:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        secs = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss  # KiB on Linux, bytes on macOS
    cpu = usage.ru_utime + usage.ru_stime
    return secs, cpu, (rss / 1024 ** 2 if sys.platform == "darwin" else rss / 1024), p.returncode


def interleaved(path: Path, rounds: int, scratch: Path, other: Path | None = None) -> dict[str, dict[str, list[float]]]:
    """Every contender once per round, the order rotating from round to round."""
    cmds = commands(path, other)
    names = list(cmds)
    env = process_env(scratch)
    for n in names:  # warm-up, not timed: the bytecode cache, the file in the page cache
        run_process(cmds[n], scratch / f"{n}.out", env)
    got = {n: {"secs": [], "cpu": [], "mb": []} for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            secs, cpu, mb, code = run_process(cmds[n], scratch / f"{n}.out", env)
            if code not in (0, 1):  # 1: findings, as expected of this log
                raise SystemExit(f"{n} exited with {code}: {' '.join(cmds[n])}")
            got[n]["secs"].append(secs)
            got[n]["cpu"].append(cpu)
            got[n]["mb"].append(mb)
        print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{n} {got[n]['secs'][-1]:.2f} s" for n in names),
              flush=True)
    return got


def one_visit_units_us(reps: int = 2000, rounds: int = 15) -> tuple[float, float, float]:
    """A one-visit PT_UNITS call (six lines, as xlwings hands a range): median, min, max microseconds per call."""
    from ptbilling import udfs

    six_m = [[24.0], [23.0], [10.0], [8.0], [15.0], [12.0]]
    six_c = [[97112.0], [97110.0], [97010.0], [97035.0], [97140.0], [97530.0]]
    per = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps):
            udfs.PT_UNITS(six_m, six_c)
        per.append((time.perf_counter() - t) / reps * 1e6)
    return statistics.median(per), min(per), max(per)


def bare_read(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    return len(CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Session Log").to_python())


def stages(path: Path) -> dict[str, float]:
    """Where the check's time goes, in-process (one pass, garbage collection paused as in the command)."""
    from ptbilling.cli import check as check_command
    from ptbilling.logs import check as log_check
    from ptbilling.logs.cells import read_rows
    from ptbilling.logs.columns import map_headers
    from ptbilling.logs.reader import read_log
    from ptbilling.rules.validate import validate_lines

    out = {}
    t = time.perf_counter()
    bare_read(path)
    out["bare calamine read (in-process)"] = time.perf_counter() - t
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
        out["units by rule (rule_units)"] = time.perf_counter() - t
        t = time.perf_counter()
        log, result = check_command.check_path(path)
        out["whole check_path"] = time.perf_counter() - t
    t = time.perf_counter()
    check_command.write_json(log, result, None, None, io.StringIO())
    out["JSON document and text"] = time.perf_counter() - t
    t = time.perf_counter()
    check_command.print_text(log, result, file=io.StringIO())
    out["text summary"] = time.perf_counter() - t
    return out


def spread(xs: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(statistics.median(xs))} ({fmt.format(min(xs))}-{fmt.format(max(xs))})"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=9, help="interleaved rounds (at least 5)")
    ap.add_argument("--keep", metavar="DIR", help="write (or reuse) the generated log in DIR")
    ap.add_argument("--stages", action="store_true", help="also time the check's stages in-process")
    ap.add_argument("--other-tree", metavar="DIR", type=Path, help="also time the JSON check of this source tree")
    ap.add_argument("--write-log", metavar="PATH", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rounds < 5:
        ap.error("--rounds: at least 5, for a median and a spread worth the name")
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ptbilling-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"log_{args.lines}.xlsx"
    if args.write_log:  # the child of the step below
        write_log(Path(args.write_log), args.lines)
        return
    if not path.exists():
        # In a child: a forked process starts with its parent's peak memory (ru_maxrss), so this
        # process stays small until every timed process has run.
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--lines", str(args.lines), "--write-log", str(path)], check=True)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s")

    scratch = Path(tempfile.mkdtemp(prefix="ptbilling-bench-out-"))
    size = path.stat().st_size / 1024 ** 2
    print(f"ptbilling check, {args.lines:,}-line log ({size:.1f} MB xlsx), {args.rounds} interleaved rounds:")
    got = interleaved(path, args.rounds, scratch, args.other_tree)
    import json

    doc = (scratch / "json.out").read_bytes()
    summary = json.loads(doc)["summary"]
    assert summary["lines"] == args.lines, summary
    digest = hashlib.sha256(doc).hexdigest()
    reads = got["read"]["secs"]
    print(f"\n{summary['visits']:,} visits, {summary['errors']:,} errors, {summary['warnings']:,} warnings; "
          f"JSON sha256 {digest}")
    print("median (min-max) over the rounds; a ratio is to the read of the same round; CPU = user + system")
    print(f"{'':31} {'wall s':>16} {'x read':>16} {'CPU s':>16} {'x read (CPU)':>16} {'peak MB':>8}")
    ratios = {}
    rows = [("read", "python-calamine read (process)"), ("json", "check --format json"), ("text", "check (text)"),
            ("floor", "floor: read + JSON, no rules")]
    if args.other_tree:
        rows.append(("other", f"json, {args.other_tree.name}"))
        same = (scratch / "other.out").read_bytes() == doc
        print(f"JSON of {args.other_tree}: {'byte-identical' if same else 'DIFFERENT'}")
    for n, label in rows:
        secs, cpu = got[n]["secs"], got[n]["cpu"]
        ratios[n] = [s / r for s, r in zip(secs, reads)]
        cpu_ratio = [s / r for s, r in zip(cpu, got["read"]["cpu"])]
        print(f"{label:31} {spread(secs):>16} {spread(ratios[n]):>16} {spread(cpu):>16} {spread(cpu_ratio):>16} "
              f"{max(got[n]['mb']):8.0f}")
    med, lo, hi = one_visit_units_us()
    print(f"\nPT_UNITS, one 6-line visit, per call: {med:.1f} µs median ({lo:.1f}-{hi:.1f}); target < 1 ms")
    if args.stages:
        print("\nin-process stages (one pass):")
        for name, secs in stages(path).items():
            print(f"  {name:44} {secs:6.2f} s")
    r_json = statistics.median(ratios["json"])
    mem = max(got["json"]["mb"] + got["text"]["mb"])
    print(f"\ntarget json <= 1.5x read: {'met' if r_json <= 1.5 else 'NOT met'} ({r_json:.2f}x median); "
          f"peak < 500 MB: {'met' if mem < 500 else 'NOT met'} ({mem:.0f} MB)")


if __name__ == "__main__":
    main()
