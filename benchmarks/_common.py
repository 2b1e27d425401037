"""Helpers shared by the benchmark scripts.

Timing (one call after a garbage collection), the rotating order in which contenders
alternate, the machine table, Markdown tables, cProfile summaries, and a cached
``bgdsim.problems.build`` that keeps data generation out of the timed runs.

The scripts are run as ``python benchmarks/<script>.py``: Python puts the script's folder
first on ``sys.path``, so they import this module as ``_common`` from any working directory.
"""

from __future__ import annotations

import contextlib
import cProfile
import datetime as _dt
import gc
import io
import os
import platform
import pstats
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import simpy

import bgdsim
import bgdsim.problems

T = TypeVar("T")


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes, after a garbage collection (not timed)."""
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def rotated(items: Sequence[T], repeats: int) -> Iterator[tuple[int, T]]:
    """``(i, item)`` for every item in each repeat i, the order rotated by one each repeat.

    With two items they simply alternate which goes first.
    """
    for i in range(repeats):
        shift = i % len(items)
        for item in [*items[shift:], *items[:shift]]:
            yield i, item


@contextlib.contextmanager
def cached_build(problem: Any, scenario: bgdsim.Scenario) -> Iterator[list[int]]:
    """Make ``bgdsim.problems.build`` return ``problem``; yields a one-item call counter."""
    real = bgdsim.problems.build
    calls = [0]

    def build(config: Any, workers: int, rng: np.random.Generator, setup: Any = None) -> Any:
        if config != scenario.problem or workers != scenario.cluster.workers:
            raise AssertionError("cached build called with a different problem config")
        calls[0] += 1
        return problem

    bgdsim.problems.build = build
    try:
        yield calls
    finally:
        bgdsim.problems.build = real


# --------------------------------------------------------------------------- report


def cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_rows() -> list[tuple[str, str]]:
    return [
        ("date", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("platform", platform.platform()),
        ("cpu", f"{cpu_model()}, {os.cpu_count()} logical CPUs"),
        ("python", platform.python_version()),
        ("numpy", np.__version__),
        ("simpy", simpy.__version__),
        ("bgdsim", bgdsim.__version__),
    ]


def table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def stats_body(text: str) -> str:
    """pstats output without its blank lines and "List reduced" chatter."""
    keep = [ln for ln in text.strip().splitlines() if ln.strip() and "List reduced" not in ln]
    return "\n".join(keep)


def profile(fn: Callable[[], object], cumulative: str) -> tuple[str, str]:
    """cProfile one call of ``fn``: the top 10 functions by tottime, and the functions
    matching the regular expression ``cumulative`` by cumulative time."""
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(10)
    top = stats_body(buf.getvalue())
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("cumulative")
    stats.print_stats(cumulative)
    return top, stats_body(buf.getvalue())
