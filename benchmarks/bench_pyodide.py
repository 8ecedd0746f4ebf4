"""Benchmark: Pyodide (the Python of xlwings Lite) start-up and first call, against CPython.

Run: python benchmarks/bench_pyodide.py [ROUNDS]  (after .ci/run installed tests/pyodide; numbers go in the README)

Each round, interleaved:

- Pyodide: ``node tests/pyodide/run_lite.mjs`` in a new process, as the CI test runs it:
  Pyodide's start-up (``loadPyodide``), installing micropip and the project's wheel offline,
  ``import ptbilling.excel_functions`` and the first ``PT_UNITS`` call (a 2-line visit);
- baseline: a new CPython process doing the same import and the same first call.

Prints the median and the spread (min-max) of each.
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYODIDE = ROOT / "tests" / "pyodide"

CPYTHON_FIRST_CALL = """
import time
t = time.perf_counter()
import ptbilling.excel_functions as f
t_import = time.perf_counter() - t
t = time.perf_counter()
f.PT_UNITS([[24], [23]], [['97112'], ['97110']])
print(t_import * 1000, (time.perf_counter() - t) * 1000)
"""


def main(rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    wheels = tmp / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True)
    for w in (PYODIDE / "wheels").glob("micropip-*.whl"):
        shutil.copy(w, wheels)
    cases = tmp / "cases.json"
    cases.write_text("[]", encoding="utf-8")
    pyodide, cpython = [], []
    for _ in range(rounds):
        got = subprocess.run(["node", str(PYODIDE / "run_lite.mjs"), str(wheels), str(cases),
                              str(ROOT / "tests" / "lite_harness.py")],
                             capture_output=True, text=True, check=True, cwd=PYODIDE)
        pyodide.append(json.loads(got.stdout.strip().splitlines()[-1])["timings_ms"])
        got = subprocess.run([sys.executable, "-c", CPYTHON_FIRST_CALL], capture_output=True, text=True, check=True)
        imp, first = map(float, got.stdout.split())
        cpython.append({"import": imp, "first_call": first})
    shutil.rmtree(tmp)

    def show(name, runs, key, unit="ms"):
        vals = sorted(r[key] for r in runs)
        scale = 1000 if unit == "s" else 1
        print(f"{name:<32} median {statistics.median(vals) / scale:8.2f} {unit}   "
              f"spread {vals[0] / scale:.2f}-{vals[-1] / scale:.2f} {unit}")

    print(f"{rounds} interleaved rounds")
    show("Pyodide start-up", pyodide, "start_up", "s")
    show("Pyodide install (micropip+wheel)", pyodide, "install", "s")
    show("Pyodide import", pyodide, "import")
    show("CPython import (baseline)", cpython, "import")
    show("Pyodide first PT_UNITS call", pyodide, "first_call")
    show("CPython first PT_UNITS call", cpython, "first_call")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
