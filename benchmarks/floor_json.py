"""A named baseline for bench_check.py: read the sheet and write a JSON document shaped like the check's, with no rules.

Run: python benchmarks/floor_json.py LOG.xlsx > out.json

What any pure-Python ``ptbilling check --format json`` must do besides the
rules: read the sheet with python-calamine (the bare read), take its columns,
and write one JSON object per row (row number, patient, date, payer, provider,
code, modifiers, units, findings). It writes them as fast as plain Python can:
each distinct cell value encoded once, the pieces joined in one
``str.join`` over ``itertools.chain`` (C loops, no per-row dict), one write.
It checks nothing and coerces nothing (the units are copied as billed, the
modifiers split on spaces, no finding), so its time is a floor under the
check's, not a competitor: the gap between it and the read is what the
document alone costs.

The benchmark's log is clean enough for this (every row has all cells,
dates are dates, codes and units are numbers); it is not a reader for other
files.
"""
from __future__ import annotations

import datetime as dt
import gc
import json
import sys
from itertools import chain, repeat

from python_calamine import CalamineWorkbook


def encoded(column, to_text=lambda v: v) -> list[str]:
    """Each cell's JSON text, each distinct value encoded once."""
    memo: dict = {}
    out = []
    for v in column:
        got = memo.get(v)
        if got is None:
            got = memo[v] = json.dumps(to_text(v), ensure_ascii=False)
        out.append(got)
    return out


def main(path: str) -> None:
    gc.disable()  # as the check does while it builds its document: nothing here holds a cycle
    rows = CalamineWorkbook.from_path(path).get_sheet_by_name("Session Log").to_python()
    header, data = rows[0], rows[1:]
    col = {name: j for j, name in enumerate(header)}
    columns = list(zip(*data))

    def c(name):
        return columns[col[name]]

    dates = encoded(c("Date"), lambda d: (d.date() if isinstance(d, dt.datetime) else d).isoformat())
    codes = encoded(c("Code"), lambda v: str(int(v)) if isinstance(v, float) else str(v))
    mods = encoded(c("Modifiers"), lambda v: str(v).split())
    units = [str(int(u)) for u in c("Units")]
    pieces = zip(repeat('{"row": '), map(str, range(2, len(data) + 2)), repeat(', "patient": '),
                 encoded(c("Patient")), repeat(', "date": '), dates, repeat(', "payer": '), encoded(c("Payer")),
                 repeat(', "provider": '), encoded(c("Provider")), repeat(', "code": '), codes,
                 repeat(', "modifiers": '), mods, repeat(', "units": '), units, repeat(', "findings": []}'),
                 repeat(", "))
    text = '{"summary": {}, "lines": [' + "".join(chain.from_iterable(pieces))[:-2] + "]}\n"
    sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1])
