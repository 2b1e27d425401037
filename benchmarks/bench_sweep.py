"""Benchmark: one sweep run serially, on the local engine and on Dask.

What is measured
    The wall time of a 48-run sweep of the paper's linear regression
    (``scenarios/paper_linear_regression.toml``: m = 100, N = 100 000, d = 10, gmom,
    sign_flip) with ``rounds`` = 120: the grid q ∈ {0, 1, 2, 5, 8, 10} × k ∈ {10, 20, 25, 50}
    × 2 seeds. A run takes ~0.2–0.9 s (q = 10, k = 10 is the slow one: the geometric
    median works hardest there).

    * **serial** — a plain in-process loop calling :func:`bgdsim.sweep.run_cell` (the
      engines' worker function) for every cell and seed, after one untimed warm-up run;
      numpy's BLAS uses its default thread count (one per core).
    * **serial, 1 BLAS thread** — the same inside ``threadpoolctl.threadpool_limits(1)``,
      as the engines' workers run (loky and the Dask nanny give each worker one thread).
    * **local** — ``run_sweep(engine="local", jobs=2)`` end to end: checking every cell,
      forking 2 worker processes from the sweep's process (what a run needs is already
      imported there), the runs, writing results.csv, stopping the workers.
    * **local, fresh interpreters (loky)** — the same with the engine's fallback (used
      when another thread is alive, or where fork does not exist): 2 joblib loky worker
      processes, each a new interpreter that imports bgdsim before its first run.
      (In this process Dask's offload thread outlives the first Dask sweep, which would
      make the engine fall back to loky for the rest; the benchmark therefore chooses
      the engine's start method itself, as a fresh ``bgdsim sweep`` process would.)
    * **dask** — ``run_sweep(engine="dask", jobs=2)`` end to end: the same with a new
      ``LocalCluster`` of 2 single-threaded worker processes, started and closed inside.

    "Σ run s" adds up the runs' own ``wall_seconds`` (measured in the workers for the
    engines). "overhead s" is the rest of the wall time — wall − Σ run for the serial
    loops, wall − Σ run / 2 for the engines (starting and stopping workers, checking the
    cells, dispatch, results.csv) — so a speed-up below 2 splits into engine overhead and
    runs that are slower side by side (two busy cores share caches and memory bandwidth).

    Dask's per-task cost is measured separately on a warm 2-worker LocalCluster: the wall
    time of ``--empty`` no-op tasks (submitted at once, gathered with ``as_completed``)
    divided by their number, and the time to start and close that cluster.

Method
    The contenders alternate (order rotated each repeat); medians over ``--repeats``. Each
    engine writes to a fresh folder, so nothing is resumed. All contenders must give
    identical numbers (every column but ``wall_seconds``).

Target
    local ≥ 1.8× faster than serial (default threads) on 2 cores.

``--quick``: 12 runs of 20 rounds, one repeat.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import machine_rows, rotated, table
from threadpoolctl import threadpool_limits

from bgdsim.sweep import _engines, load_sweep, read_results, run_cell, run_sweep

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "paper_linear_regression.toml"
FULL = {"q": [0, 1, 2, 5, 8, 10], "k": [10, 20, 25, 50], "seeds": 2, "rounds": 120, "repeats": 3}
QUICK = {"q": [0, 5, 10], "k": [10, 25], "seeds": 2, "rounds": 20, "repeats": 1}
JOBS = 2
SERIAL, SERIAL_1 = "serial", "serial, 1 BLAS thread"
LOKY = "local, fresh interpreters (loky)"


def write_sweep(folder: Path, cfg: dict[str, Any]) -> Path:
    path = folder / "bench.toml"
    path.write_text(
        f"scenario = {str(SCENARIO)!r}\n"
        f"seeds = {cfg['seeds']}\n"
        "[grid]\n"
        f"cluster.byzantine = {cfg['q']}\n"
        f"server.aggregator.batches = {cfg['k']}\n"
        f"rounds = [{cfg['rounds']}]\n",
        encoding="utf-8",
    )
    return path


def _noop(i: int) -> int:
    return i


def dask_empty_tasks(n: int) -> tuple[float, float]:
    """(seconds per no-op task on a warm 2-worker LocalCluster, cluster start + close s)."""
    from distributed import Client, LocalCluster, as_completed

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=JOBS,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )
    client = Client(cluster, set_as_default=False)
    client.wait_for_workers(JOBS)
    start = time.perf_counter() - t0
    client.gather(client.map(_noop, range(20), pure=False))  # warm-up
    t0 = time.perf_counter()
    futures = [client.submit(_noop, i, pure=False) for i in range(n)]
    for future in as_completed(futures, loop=client.loop):
        future.result()
    per_task = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    client.close()
    cluster.close()
    return per_task, start + time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="12 short runs, one repeat")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--empty", type=int, default=500, help="no-op Dask tasks to time")
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    repeats = args.repeats or cfg["repeats"]

    load_start = os.getloadavg()
    # per contender and repeat: (wall s, Σ run s); per contender: its rows, sans wall time
    times: dict[str, list[tuple[float, float]]] = {}
    numbers: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_sweep(folder, cfg)
        spec = load_sweep(path)
        runs = [(c, s) for c in spec.cells() for s in spec.seeds]
        scenario = str(spec.scenario_file)
        run_cell(scenario, runs[0][0].overrides, runs[0][1])  # warm-up: imports, caches

        def serial(name: str, threads: int | None) -> Callable[[int], tuple[float, float]]:
            def go(i: int) -> tuple[float, float]:
                with threadpool_limits(threads):
                    t0 = time.perf_counter()
                    rows = [run_cell(scenario, c.overrides, s) for c, s in runs]
                    elapsed = time.perf_counter() - t0
                numbers[name] = [
                    {"cell": c.id, **c.overrides, "seed": s, **r}
                    for (c, s), r in zip(runs, rows, strict=True)
                ]
                return elapsed, sum(r["wall_seconds"] for r in rows)

            return go

        def engine(name: str, fork: bool = True) -> Callable[[int], tuple[float, float]]:
            key = name if fork else LOKY

            def go(i: int) -> tuple[float, float]:
                out = folder / f"{name}-{fork}-{i}"
                real = _engines.can_fork
                # Dask's offload thread outlives its first sweep in this process: the
                # engine would then never fork here, as it does in a fresh `bgdsim sweep`
                _engines.can_fork = lambda: fork
                try:
                    t0 = time.perf_counter()
                    run_sweep(path, engine=name, jobs=JOBS, out=out, progress=False)  # type: ignore[arg-type]
                    elapsed = time.perf_counter() - t0
                finally:
                    _engines.can_fork = real
                numbers[key] = read_results(out)
                shutil.rmtree(out)
                return elapsed, sum(r["wall_seconds"] for r in numbers[key])

            return go

        contenders = [
            (SERIAL, serial(SERIAL, None)),
            (SERIAL_1, serial(SERIAL_1, 1)),
            ("local", engine("local")),
            (LOKY, engine("local", fork=False)),
            ("dask", engine("dask")),
        ]
        for i, (name, fn) in rotated(contenders, repeats):
            times.setdefault(name, []).append(fn(i))
        per_task, cluster_s = dask_empty_tasks(args.empty)

    n = len(runs)

    def strip(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "wall_seconds"} for r in rows]

    same = {name: strip(rows) == strip(numbers[SERIAL]) for name, rows in numbers.items()}
    wall = {name: statistics.median(t for t, _ in ts) for name, ts in times.items()}
    run_sum = {name: statistics.median(r for _, r in ts) for name, ts in times.items()}
    one_run = [r["wall_seconds"] for r in numbers[SERIAL]]

    quick = " (quick)" if args.quick else ""
    print(f"# bench_sweep: a {n}-run sweep, serial vs the local engine vs Dask{quick}\n")
    load = " → ".join(", ".join(f"{x:.2f}" for x in v) for v in (load_start, os.getloadavg()))
    print(table(("machine", ""), [*machine_rows(), ("load average 1/5/15 min, start → end", load)]))
    print()
    print(
        table(
            ("setup", ""),
            [
                ("scenario", "paper_linear_regression.toml: m=100, N=100000, d=10, gmom"),
                (
                    "grid",
                    f"q ∈ {cfg['q']} × k ∈ {cfg['k']} × {cfg['seeds']} seeds, "
                    f"rounds = {cfg['rounds']}: {n} runs",
                ),
                (
                    "one run (serial, last repeat)",
                    f"median {statistics.median(one_run):.3f} s, "
                    f"min {min(one_run):.3f} s, max {max(one_run):.3f} s",
                ),
                ("engines", f"jobs = {JOBS}: {JOBS} worker processes, 1 thread each"),
                ("repeats", f"{repeats}, alternated, order rotated; medians"),
            ],
        )
    )
    print()
    rows = []
    for name, ts in times.items():
        par = name not in (SERIAL, SERIAL_1)
        overhead = wall[name] - run_sum[name] / (JOBS if par else 1)
        rows.append(
            (
                name,
                f"{wall[name]:.2f}",
                f"{min(t for t, _ in ts):.2f}",
                f"{max(t for t, _ in ts):.2f}",
                f"{run_sum[name]:.2f}",
                f"{overhead:.2f}",
                f"{wall[SERIAL] / wall[name]:.2f}",
                f"{wall[SERIAL_1] / wall[name]:.2f}",
                "yes" if same[name] else "**NO**",
            )
        )
    header = (
        "contender",
        "median s",
        "min s",
        "max s",
        "Σ run s",
        "overhead s",
        "× serial",
        "× serial 1 thread",
        "same numbers",
    )
    print(table(header, rows))
    print()
    ratio = wall[SERIAL] / wall["local"]
    verdict = "met" if ratio >= 1.8 else "MISSED"
    dask_over = (wall["dask"] - run_sum["dask"] / JOBS) / n
    print(
        table(
            ("summary", ""),
            [
                ("local speed-up vs serial", f"**{ratio:.2f}×** (target >= 1.8: {verdict})"),
                (
                    "local speed-up vs serial, 1 BLAS thread",
                    f"{wall[SERIAL_1] / wall['local']:.2f}×",
                ),
                ("dask speed-up vs serial", f"{wall[SERIAL] / wall['dask']:.2f}×"),
                (
                    "runs side by side vs alone (Σ run local / Σ run serial 1 thread)",
                    f"{run_sum['local'] / run_sum[SERIAL_1]:.2f}",
                ),
                ("dask overhead per run in this sweep", f"{1e3 * dask_over:.0f} ms"),
                (
                    f"dask, warm cluster: {args.empty} no-op tasks",
                    f"{1e3 * per_task:.2f} ms per task (2 workers)",
                ),
                ("dask LocalCluster(2) start + close", f"{cluster_s:.2f} s"),
            ],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
