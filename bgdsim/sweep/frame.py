"""Sweeps from Python, for notebooks: :func:`sweep` takes a dict and returns a DataFrame."""

from __future__ import annotations

import contextlib
import csv
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from bgdsim.sweep.errors import SweepError
from bgdsim.sweep.results import read_results
from bgdsim.sweep.runner import _check_engine, _execute, run_sweep
from bgdsim.sweep.spec import check_sweep

__all__ = ["results_frame", "sweep"]

#: the file a scenario given as a table is written to, in the output folder
SCENARIO_FILE = "scenario.toml"


def results_frame(out: str | Path) -> Any:
    """``OUT/results.csv`` as a pandas DataFrame: its columns in its order, its rows as
    :func:`~bgdsim.sweep.read_results` reads them (cell order, then seed)."""
    import pandas as pd

    out = Path(out)
    csv_path = out if out.is_file() else out / "results.csv"
    with open(csv_path, newline="", encoding="utf-8") as f:
        columns = next(csv.reader(f), [])
    return pd.DataFrame(read_results(csv_path), columns=columns)


@contextlib.contextmanager
def _folder(out: str | Path | None) -> Iterator[Path]:
    if out is not None:
        yield Path(out)
        return
    with tempfile.TemporaryDirectory(prefix="bgdsim-sweep-") as tmp:
        yield Path(tmp)


def sweep(
    spec: Mapping[str, Any] | str | Path,
    *,
    out: str | Path | None = None,
    engine: Literal["local", "dask"] = "local",
    jobs: int | None = None,
    scheduler: str | None = None,
    logs: bool = False,
    progress: bool = False,
    plan: Callable[[int, int], None] | None = None,
) -> Any:
    """Run a sweep and return its results as a pandas DataFrame (the columns of
    ``results.csv``: ``cell``, the swept keys, ``seed``, ``final_error``, …).

    >>> df = bgdsim.sweep({"scenario": "scenarios/paper_linear_regression.toml",
    ...                    "seeds": 2, "grid": {"cluster.byzantine": [0, 5]}})  # doctest: +SKIP

    Args:
        spec: a sweep file's structure as a dict — ``scenario`` (a path, relative to the
            working directory, or a scenario table), ``seeds``, ``grid``, ``zip`` (a list of
            dicts) — or the path of a sweep file.
        out: a folder to keep ``results.csv`` (and a table scenario as
            ``scenario.toml``) in; a rerun into it skips the runs already there. Default:
            a temporary folder, removed afterwards.
        engine, jobs, scheduler, plan: as for :func:`~bgdsim.sweep.run_sweep`.
        logs: write each run's event log under ``OUT/logs/`` (needs ``out``).
        progress: show a progress bar on stderr.

    Raises:
        SweepError: a bad spec or scenario (naming the key), bad arguments, results in
            ``out`` that belong to another sweep.
        SweepRunError: some runs raised.
    """
    _check_engine(engine, jobs, scheduler)
    if logs and out is None:
        raise SweepError("logs: the logs need a folder to stay in: pass out=...")
    if isinstance(spec, str | Path):
        path = run_sweep(spec, engine=engine, jobs=jobs, scheduler=scheduler, out=out,
                         logs=logs, progress=progress, plan=plan)  # fmt: skip
        return results_frame(path)
    if not isinstance(spec, Mapping):
        raise SweepError(f"sweep: expected a dict or a sweep file, got {type(spec).__name__}")
    data = dict(spec)
    with _folder(out) as folder:
        folder.mkdir(parents=True, exist_ok=True)
        scenario = data.get("scenario")
        if isinstance(scenario, Mapping):
            import tomli_w

            (folder / SCENARIO_FILE).write_text(tomli_w.dumps(dict(scenario)), encoding="utf-8")
            data["scenario"] = str((folder / SCENARIO_FILE).resolve())
        elif isinstance(scenario, Path):
            data["scenario"] = str(scenario)
        checked = check_sweep(data, Path.cwd(), "sweep")
        path = _execute(checked, folder, "sweep", engine, jobs, scheduler, logs, progress,
                        10.0, plan)  # fmt: skip
        return results_frame(path)
