"""Benchmark: the sheet-XML scan of ``ptbilling check`` (logs.reader.SheetScan) on a 100,000-line log.

Run: python benchmarks/bench_scan.py [--lines N] [--keep DIR] [--rounds R]

The scan finds formula cells and a sheet's real extent before python-calamine
reads it (calamine does not expose formulas and would hold a sheet with a stray
far cell as gigabytes). It runs defusedxml's expat parser with one handler per
element, unless the XML is plain (nearly every sheet), when ``_fast_scan`` finds the
same figures with bytes-level regular expressions. Named baselines, interleaved in the
same run (median and spread of ``--rounds`` runs each, garbage collection paused as in
the command):

- calamine read: ``CalamineWorkbook.from_path(f).get_sheet_by_name(s).to_python()``;
- unzip only: reading the sheet part's bytes, the floor of any scan;
- bare expat: the parser over the same bytes with no handler, the floor any
  expat-based scan has;
- SheetScan alone: the expat scan every sheet took before the fast path (and any
  sheet that is not plain still takes).

The log is bench_check.py's (same generator, same file when --keep is shared).
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "addin"))
sys.path.insert(0, str(HERE))

import bench_check  # noqa: E402


def sheet_part(path: Path) -> str:
    from ptbilling.logs.reader import _Zip

    z = _Zip(path, path.name)
    try:
        return z.worksheets(z.main_part())[0].part
    finally:
        z.close()


def scan(path: Path, part: str) -> int:
    from ptbilling.logs.reader import _Zip

    z = _Zip(path, path.name)
    try:
        return z.scan_sheet(part).max_row
    finally:
        z.close()


def unzip_only(path: Path, part: str) -> int:
    import zipfile

    with zipfile.ZipFile(path) as zf, zf.open(part) as f:
        return len(f.read())


def sheetscan_alone(path: Path, part: str) -> int:
    import zipfile

    from ptbilling.logs.reader import SheetScan

    scan = SheetScan()
    with zipfile.ZipFile(path) as zf, zf.open(part) as f:
        while chunk := f.read(1 << 20):
            scan.feed(chunk)
    scan.close()
    return scan.max_row


def bare_expat(path: Path, part: str) -> None:
    import zipfile

    from defusedxml.expatreader import DefusedExpatParser

    reader = DefusedExpatParser(forbid_dtd=True)
    reader.reset()
    parser = reader._parser
    for name in ("StartElementHandler", "EndElementHandler", "CharacterDataHandler"):
        setattr(parser, name, None)
    with zipfile.ZipFile(path) as zf, zf.open(part) as f:
        while chunk := f.read(1 << 20):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--keep", metavar="DIR", help="write (or reuse) the generated log in DIR")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ptbilling-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"log_{args.lines}.xlsx"
    if not path.exists():
        bench_check.write_log(path, args.lines)
    part = sheet_part(path)
    assert scan(path, part) == sheetscan_alone(path, part) == args.lines + 1
    runs = {"calamine read": lambda: bench_check.bare_read(path), "unzip only": lambda: unzip_only(path, part),
            "bare expat (no handler)": lambda: bare_expat(path, part),
            "SheetScan alone (expat)": lambda: sheetscan_alone(path, part),
            "scan_sheet (the check's scan)": lambda: scan(path, part)}
    times: dict[str, list[float]] = {k: [] for k in runs}
    gc.disable()
    try:
        for _ in range(args.rounds):  # interleaved: each round runs every contender once
            for name, fn in runs.items():
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
    finally:
        gc.enable()
    read = statistics.median(times["calamine read"])
    print(f"sheet-XML scan, {args.lines:,}-line log ({path.stat().st_size / 1024 ** 2:.1f} MB xlsx), "
          f"{args.rounds} interleaved rounds")
    print(f"{'':32} {'median s':>9} {'min':>6} {'max':>6} {'x read':>7}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:32} {med:9.3f} {min(ts):6.3f} {max(ts):6.3f} {med / read:7.2f}")


if __name__ == "__main__":
    main()
