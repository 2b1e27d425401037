"""Running a sweep: :func:`run_cell` (one cell for one seed, the worker function of every
engine) and :func:`run_sweep` (every missing run of a sweep file into its folder)."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bgdsim import registry
from bgdsim.config import load_scenario
from bgdsim.sweep._engines import _dask, _local, _Outcome, _Task
from bgdsim.sweep.columns import _COUNTS, _csv_line
from bgdsim.sweep.errors import SweepError, SweepRunError
from bgdsim.sweep.results import _base_of, _columns, _existing, _manifest, _write
from bgdsim.sweep.spec import SweepSpec, load_sweep
from bgdsim.vector import run_vector

__all__ = ["run_cell", "run_sweep"]


def run_cell(
    scenario: str | Path,
    overrides: Mapping[str, Any],
    seed: int,
    log_path: str | Path | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Run one cell for one seed: the worker function of every engine.

    The scenario is loaded here (in the worker), so files it names resolve against it.
    It runs on the vector runtime: the SimPy runtime's log and result, byte for byte, with
    each round resolved in closed form. ``overwrite`` replaces an existing log at
    ``log_path`` (a sweep re-runs a cell without a row on purpose: its log may be left
    from a killed or failed attempt).

    Returns:
        The measured columns (:data:`COLUMNS`) of the cell's row.
    """
    sc = load_scenario(scenario, dict(overrides), seed=seed)
    result = run_vector(sc, log_path=log_path, overwrite=overwrite)
    errors = np.asarray(result.errors, dtype=np.float64)
    hits = np.flatnonzero(errors <= 2 * result.floor)
    row: dict[str, Any] = {
        "final_error": result.final_error,
        "min_error": float(errors.min()),
        "rounds_to_floor": int(hits[0]) if hits.size else None,
        "floor": result.floor,
        "k": result.k,
        "rounds_done": result.rounds,
        "status": result.status,
        # the final held-out metrics (empty cells without a test split)
        "test_loss": _final(result.metrics.get("test_loss")),
        "test_accuracy": _final(result.metrics.get("test_accuracy")),
    }
    row.update({key: int(result.counts.get(key, 0)) for key in _COUNTS})
    row["sim_time"] = result.sim_time
    row["wall_seconds"] = result.wall_seconds
    return row


def _final(values: np.ndarray | None) -> float | None:
    return None if values is None else float(values[-1])


def _run_task(
    index: int,
    scenario: str,
    overrides: dict[str, Any],
    seed: int,
    log: str | None,
    components: list[tuple[str, str, str, Any]] | None = None,
) -> _Outcome:
    """:func:`run_cell`, with a failure returned as its traceback instead of raised,
    after registering the sweep process's own ``components`` (a worker started afresh
    knows only the built-ins and the plugins).

    Defined next to :func:`run_cell`, which it looks up in this module when it runs.
    """
    try:
        registry.install(components or [])
        if log is None:
            return index, run_cell(scenario, overrides, seed), None
        # a run without a row is re-run on purpose: a killed attempt's log is replaced
        return index, run_cell(scenario, overrides, seed, log, overwrite=True), None
    except Exception:
        return index, None, traceback.format_exc()


def run_sweep(
    spec_path: str | Path,
    *,
    engine: Literal["local", "dask"] = "local",
    jobs: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    logs: bool = False,
    progress: bool = True,
    timeout: float = 10.0,
    plan: Callable[[int, int], None] | None = None,
) -> Path:
    """Run every cell × seed of a sweep file not yet in ``OUT/results.csv``.

    One sweep at a time per output folder: two writing to one ``results.csv`` would run
    cells twice.

    Args:
        spec_path: the sweep TOML file.
        engine: ``"local"`` (processes on this machine) or ``"dask"`` (a Dask cluster).
        jobs: worker processes (default: the CPU count); with a ``scheduler``, unused.
        scheduler: a Dask scheduler address (``tcp://host:8786``); default: a new
            LocalCluster of ``jobs`` processes.
        out: the output folder (default: ``results/<sweep file stem>``).
        logs: write each run's event log to ``OUT/logs/<cell>-seed<seed>.jsonl``.
        progress: show a progress bar on stderr.
        timeout: seconds to wait for a Dask scheduler (and its first worker) to answer.
        plan: called once, before any run starts, with the number of runs already in
            ``results.csv`` and the number left to run.

    Returns:
        The path of ``results.csv``.

    Raises:
        SweepError: bad sweep or scenario, bad arguments, results in ``out`` that do not
            belong to this sweep, a Dask scheduler that does not answer.
        SweepRunError: some runs raised (every other run's row is written).
    """
    _check_engine(engine, jobs, scheduler)
    spec = load_sweep(spec_path)
    out = Path(out) if out is not None else Path("results") / Path(spec_path).stem
    return _execute(spec, out, Path(spec_path).stem, engine, jobs, scheduler, logs, progress,
                    timeout, plan)  # fmt: skip


def _check_engine(engine: str, jobs: int | None, scheduler: str | None) -> None:
    if engine not in ("local", "dask"):
        raise SweepError(f"engine: must be 'local' or 'dask', got {engine!r}")
    if scheduler is not None and engine != "dask":
        raise SweepError("scheduler: only with engine 'dask'")
    if jobs is not None and jobs < 1:
        raise SweepError(f"jobs: must be >= 1, got {jobs}")


def _execute(
    spec: SweepSpec,
    out: Path,
    name: str,
    engine: Literal["local", "dask"],
    jobs: int | None,
    scheduler: str | None,
    logs: bool,
    progress: bool,
    timeout: float,
    plan: Callable[[int, int], None] | None,
) -> Path:
    """Run a checked sweep's missing runs into ``out`` (see :func:`run_sweep`)."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "results.csv"
    cells = spec.cells()
    columns = _columns(spec)
    base = _base_of(out, spec)  # a folder of another sweep: refused untouched
    done = _existing(csv_path, columns)
    _manifest(out, spec, cells, base)
    log_dir = out.resolve() / "logs"
    if logs:
        log_dir.mkdir(exist_ok=True)
    n_runs = len(cells) * len(spec.seeds)
    runs = [(cell, seed) for cell in cells for seed in spec.seeds if (cell.id, seed) not in done]
    if plan is not None:
        plan(n_runs - len(runs), len(runs))
    own = registry.local_components()  # what a fresh worker would not know
    tasks: list[_Task] = [
        (
            i,
            str(spec.scenario_file),
            cell.overrides,
            seed,
            str(log_dir / f"{cell.id}-seed{seed}.jsonl") if logs else None,
            own,
        )
        for i, (cell, seed) in enumerate(runs)
    ]
    if not tasks:
        if not csv_path.exists() or csv_path.stat().st_size == 0:
            csv_path.write_text(_csv_line(columns), encoding="utf-8")
        return csv_path
    n = min(jobs or os.cpu_count() or 1, len(tasks))
    pool = (
        _local(_run_task, tasks, n)
        if engine == "local"
        else _dask(_run_task, tasks, n, scheduler, timeout)
    )
    with pool as outcomes:
        failed = _write(csv_path, columns, runs, outcomes, n_runs - len(runs), progress, name)
    if failed:
        (cell, seed), tb = failed[0]
        raise SweepRunError(
            f"{len(failed)} of {len(tasks)} runs failed (not written; a rerun retries them); "
            f"first: cell {cell.id} {cell.overrides} seed {seed}:\n{tb}"
        )
    return csv_path
