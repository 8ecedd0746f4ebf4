"""Shared by the benchmark scripts: interleaved wall-clock runs, reported as median and spread."""
from __future__ import annotations

import statistics
import time


def interleaved(fns: dict, rounds: int = 9) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(wall seconds, CPU seconds) of each of ``fns`` (name -> callable) per round, the order rotating.

    Interleaving spreads a busy spell of a shared machine over every contender
    instead of charging it to whichever ran then. The CPU time of this process
    is given beside the wall time: other processes on the machine lengthen the
    wall time of a run, much less its CPU time.
    """
    names = list(fns)
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            t, c = time.perf_counter(), time.process_time()
            fns[n]()
            cpu[n].append(time.process_time() - c)
            wall[n].append(time.perf_counter() - t)
    return wall, cpu


def median_spread(xs: list[float], scale: float = 1.0, fmt: str = "{:.1f}") -> str:
    """'median (min-max)' of ``xs`` times ``scale``."""
    return (f"{fmt.format(statistics.median(xs) * scale)} "
            f"({fmt.format(min(xs) * scale)}-{fmt.format(max(xs) * scale)})")


def ratios(xs: list[float], base: list[float]) -> list[float]:
    """Per-round ratio of one contender to the baseline of the same round."""
    return [x / b for x, b in zip(xs, base)]
