"""Sweeps: a grid of scenario overrides × seeds, run on joblib (one machine) or Dask.

A sweep file is TOML::

    scenario = "../paper_linear_regression.toml"   # relative to the sweep file
    seeds = 2                                      # 0, 1; or a list: [0, 7, 42]

    [grid]                                         # dotted scenario keys → values
    cluster.byzantine = [0, 5, 10]
    server.batches = [10, 20, 25]

    [[zip]]                                        # optional: keys that vary together
    "network.latency.value" = [0.01, 0.1]
    "server.round_timeout" = [1.0, 5.0]

The cells are the cartesian product of the grid axes and the zip groups (each group one
axis, its points the aligned tuples), in file order, the last axis varying fastest; every
cell runs once per seed. Every grid and zip key is a scenario override (``rounds`` too),
checked up front with :func:`~bgdsim.config.load_scenario` for every cell.

Results go to ``OUT/results.csv``, one row per cell and seed: ``cell``, the sweep keys
(dotted names; TOML-ish scalars, lists and tables as JSON), ``seed``, then :data:`COLUMNS`
— ``rounds_done`` is the rounds completed (fewer if the run diverged), named so that it
never clashes with a swept ``rounds``; ``rounds_to_floor`` is the first t with
‖θ_t − θ*‖ <= 2·√(dk/N), empty if never. Rows are appended and flushed as runs
finish, so a killed sweep keeps what it finished and a rerun skips those runs. A cell's id
is a hash of its overrides (not of the seed): it names the cell in the CSV and its logs
(``OUT/logs/<cell>-seed<seed>.jsonl``). ``OUT/sweep.json`` records the cells and the base
scenario; a rerun into the same folder with a different base scenario is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import itertools
import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field, PrivateAttr, ValidationError, model_validator

from bgdsim._section import Section
from bgdsim.config import ScenarioError, _format_error, load_scenario
from bgdsim.sim import run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "COLUMNS",
    "Cell",
    "SweepError",
    "SweepRunError",
    "SweepSpec",
    "load_sweep",
    "read_results",
    "run_cell",
    "run_sweep",
]

#: The measured columns of ``results.csv``, after ``cell``, the sweep keys and ``seed``.
COLUMNS = (
    "final_error",
    "min_error",
    "rounds_to_floor",
    "rounds_done",
    "status",
    "up_sent",
    "up_delivered",
    "up_dropped",
    "up_late",
    "up_rejected",
    "down_dropped",
    "wall_seconds",
)
_COUNTS = ("up_sent", "up_delivered", "up_dropped", "up_late", "up_rejected", "down_dropped")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_RESERVED = {"cell", "seed", *COLUMNS}


class SweepError(ValueError):
    """A sweep that cannot be loaded or run as asked; the message names the field."""


class SweepRunError(RuntimeError):
    """Some runs of a sweep raised; the others' rows are written, a rerun retries these."""


# ----------------------------------------------------------------------------- the file


def _flatten(table: Any, where: str) -> dict[str, list[Any]]:
    """Flatten TOML's bare dotted keys: ``{"a": {"b": [..]}}`` → ``{"a.b": [..]}``."""
    if not isinstance(table, dict):
        raise ValueError(f"{where}: must be a table of dotted keys → lists of values")
    out: dict[str, list[Any]] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            dotted = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(value, f"{dotted}.")
                continue
            if not _KEY.fullmatch(dotted):
                raise ValueError(f"{where}: '{dotted}' is not a dotted key like cluster.byzantine")
            if dotted in out:
                raise ValueError(f"{where}.{dotted}: given twice")
            if not isinstance(value, list):
                raise ValueError(f"{where}.{dotted}: must be a list of values, got {value!r}")
            if not value:
                raise ValueError(f"{where}.{dotted}: empty list: give at least one value")
            if dotted in _RESERVED:
                hint = " (use seeds = …)" if dotted == "seed" else ""
                raise ValueError(f"{where}.{dotted}: '{dotted}' is a result column{hint}")
            out[dotted] = value

    walk(table, "")
    return out


def _seeds(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool):
        if v < 1:
            raise ValueError(f"seeds: a count must be >= 1, got {v}")
        return list(range(v))
    if isinstance(v, list):
        if not v:
            raise ValueError("seeds: empty list: give at least one seed")
        dup = next((s for i, s in enumerate(v) if s in v[:i]), None)
        if dup is not None:
            raise ValueError(f"seeds: seed {dup!r} is given twice")
    return v


class SweepSpec(Section):
    """A sweep file: a base scenario, seeds, and the overrides that vary."""

    scenario: str = Field(..., description="the base scenario file, relative to the sweep file")
    seeds: Annotated[list[Annotated[int, Field(ge=0)]], BeforeValidator(_seeds)] = Field(
        ..., description="a count n (seeds 0..n-1) or a list of seeds >= 0"
    )
    grid: dict[str, list[Any]] = Field(
        default_factory=dict, description="dotted scenario key → values (one axis each)"
    )
    zip: list[dict[str, list[Any]]] = Field(
        default_factory=list, description="tables of dotted keys → equal-length lists"
    )
    _root: Path = PrivateAttr(default_factory=Path)

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "grid" in data:
            data["grid"] = _flatten(data["grid"], "grid")
        if "zip" in data:
            groups = data["zip"]
            if not isinstance(groups, list):
                raise ValueError("zip: must be an array of tables ([[zip]])")
            data["zip"] = [_flatten(g, f"zip[{i}]") for i, g in enumerate(groups)]
        return data

    @model_validator(mode="after")
    def _axes(self) -> SweepSpec:
        seen = dict.fromkeys(self.grid, "grid")
        for i, group in enumerate(self.zip):
            if not group:
                raise ValueError(f"zip[{i}]: empty table")
            lengths = {key: len(values) for key, values in group.items()}
            if len(set(lengths.values())) > 1:
                sizes = ", ".join(f"{k} has {n}" for k, n in lengths.items())
                raise ValueError(f"zip[{i}]: lists of unequal length ({sizes})")
            for key in group:
                if key in seen:
                    raise ValueError(f"zip[{i}].{key}: also in {seen[key]}")
                seen[key] = f"zip[{i}]"
        for a, b in itertools.permutations(seen, 2):
            if b.startswith(f"{a}."):
                raise ValueError(f"{seen[b]}.{b}: overlaps {seen[a]}.{a}")
        for name, points in self._axes_list():
            ids = [_cell_id(dict(point)) for point in points]
            dup = next((i for i, c in enumerate(ids) if c in ids[:i]), None)
            if dup is not None:
                what = ", ".join(f"{k} = {_toml(v)}" for k, v in points[dup])
                raise ValueError(f"{name}: {what} is given twice")
        return self

    def _axes_list(self) -> list[tuple[str, list[tuple[tuple[str, Any], ...]]]]:
        """Each axis: its name for messages, and its points as ``((key, value), …)``."""
        axes: list[tuple[str, list[tuple[tuple[str, Any], ...]]]] = [
            (f"grid.{k}", [((k, v),) for v in values]) for k, values in self.grid.items()
        ]
        for i, group in enumerate(self.zip):
            keys = list(group)
            points = [tuple(zip(keys, vs, strict=True)) for vs in zip(*group.values(), strict=True)]
            axes.append((f"zip[{i}]", points))
        return axes

    @property
    def keys(self) -> list[str]:
        """The sweep keys in column order: the grid's, then each zip group's."""
        return [*self.grid, *(k for group in self.zip for k in group)]

    @property
    def scenario_file(self) -> Path:
        """The base scenario, resolved against the sweep file's folder."""
        return (self._root / self.scenario).resolve()

    def cells(self) -> list[Cell]:
        """Every cell, in order (the last axis varies fastest)."""
        axes = [points for _, points in self._axes_list()]
        cells = []
        for i, combo in enumerate(itertools.product(*axes)):
            overrides = dict(kv for point in combo for kv in point)
            overrides = {k: overrides[k] for k in self.keys}
            cells.append(Cell(i, _cell_id(overrides), overrides))
        return cells


@dataclass(frozen=True)
class Cell:
    """One point of the grid: its position, its id and its overrides (dotted key → value)."""

    index: int
    id: str
    overrides: dict[str, Any]


def _cell_id(overrides: Mapping[str, Any]) -> str:
    """A stable 12-hex-digit hash of the sorted overrides (values as JSON)."""
    text = json.dumps(overrides, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def load_sweep(path: str | Path) -> SweepSpec:
    """Load and check a sweep file, including every cell's scenario.

    Raises:
        SweepError: unreadable file, broken TOML, unknown key, empty list, zip lists of
            unequal length, a key given twice, a missing scenario file, or a cell whose
            scenario is invalid (naming the sweep key and value, and the scenario's error).
    """
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepError(f"{source}: no such sweep file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepError(f"{source}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"{source}: not valid TOML: {exc}") from None
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise SweepError(_format_error(exc, source)) from None
    spec._root = Path(path).parent
    if not spec.scenario_file.is_file():
        raise SweepError(
            f"{source}: scenario: no such file '{spec.scenario}' (relative to the sweep file)"
        )
    where = {k: name for name, points in spec._axes_list() for k in dict(points[0])}
    for cell in spec.cells():
        try:
            load_scenario(spec.scenario_file, cell.overrides, seed=spec.seeds[0])
        except ScenarioError as exc:
            raise SweepError(f"{source}: {_blame(spec, cell, where)}: {exc}") from None
    return spec


def _blame(spec: SweepSpec, cell: Cell, where: dict[str, str]) -> str:
    """The override(s) that make a cell invalid: the one whose removal fixes it, or all."""
    for key, value in cell.overrides.items():
        rest = {k: v for k, v in cell.overrides.items() if k != key}
        with contextlib.suppress(ScenarioError):
            load_scenario(spec.scenario_file, rest)
            label = where[key] if where[key].startswith("grid.") else f"{where[key]}.{key}"
            return f"{label} = {_toml(value)}"
    if not cell.overrides:
        return "scenario"
    return "cell " + ", ".join(f"{k} = {_toml(v)}" for k, v in cell.overrides.items())


def _toml(value: Any) -> str:
    """A value as written in ``results.csv``: TOML-ish scalars, lists and tables as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int | str):
        return str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


def _parse(text: str) -> Any:
    """The inverse of :func:`_toml` (a string that looks like a number comes back a number)."""
    if text in ("inf", "-inf", "nan"):
        return float(text)
    try:
        return json.loads(text)
    except ValueError:
        return text


# ----------------------------------------------------------------------------- one run


def run_cell(
    scenario: str | Path,
    overrides: Mapping[str, Any],
    seed: int,
    log_path: str | Path | None = None,
) -> dict[str, Any]:
    """Run one cell for one seed: the worker function of every engine.

    The scenario is loaded here (in the worker), so files it names resolve against it.

    Returns:
        The measured columns (:data:`COLUMNS`) of the cell's row.
    """
    sc = load_scenario(scenario, dict(overrides), seed=seed)
    result = run(sc, log_path=log_path)
    errors = np.asarray(result.errors, dtype=np.float64)
    hits = np.flatnonzero(errors <= 2 * result.floor)
    row: dict[str, Any] = {
        "final_error": result.final_error,
        "min_error": float(errors.min()),
        "rounds_to_floor": int(hits[0]) if hits.size else None,
        "rounds_done": result.rounds,
        "status": result.status,
    }
    row.update({key: int(result.counts.get(key, 0)) for key in _COUNTS})
    row["wall_seconds"] = result.wall_seconds
    return row


_Task = tuple[int, str, dict[str, Any], int, str | None]
_Outcome = tuple[int, dict[str, Any] | None, str | None]


def _run_task(
    index: int, scenario: str, overrides: dict[str, Any], seed: int, log: str | None
) -> _Outcome:
    """:func:`run_cell`, with a failure returned as its traceback instead of raised."""
    try:
        return index, run_cell(scenario, overrides, seed, log), None
    except Exception:
        return index, None, traceback.format_exc()


# ----------------------------------------------------------------------------- engines


@contextlib.contextmanager
def _local(tasks: list[_Task], jobs: int) -> Iterator[Iterator[_Outcome]]:
    """joblib's loky processes; results in completion order. Stops the workers it started."""
    import joblib
    from joblib.externals.loky import reusable_executor

    before = getattr(reusable_executor, "_executor", None)
    parallel = joblib.Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    outcomes = parallel(joblib.delayed(_run_task)(*task) for task in tasks)
    try:
        yield outcomes
    finally:
        outcomes.close()  # on an early exit: cancels what is left
        executor = getattr(reusable_executor, "_executor", None)
        if executor is not None and executor is not before:
            executor.shutdown(wait=True)


async def _probe(address: str, timeout: float) -> None:
    comm = await _distributed("comm").connect(address, timeout=timeout)
    await comm.close()


def _distributed(sub: str = "") -> Any:
    """``distributed`` (or a submodule), imported on first use and typed loosely."""
    import importlib

    return importlib.import_module(f"distributed.{sub}" if sub else "distributed")


@contextlib.contextmanager
def _dask(
    tasks: list[_Task], jobs: int, scheduler: str | None, timeout: float
) -> Iterator[Iterator[_Outcome]]:
    """A Dask cluster: a new LocalCluster of ``jobs`` processes, or the one at ``scheduler``.

    Connects (or starts the cluster) on entry; closes the client and the cluster on exit.
    """
    dd = _distributed()
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            cluster = dd.LocalCluster(
                n_workers=jobs,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                # the scheduler's HTTP routes on a free local port: 8787 may be taken (warns)
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            )
            stack.callback(cluster.close)
            client = dd.Client(cluster, set_as_default=False)
            stack.callback(client.close)
        else:
            try:  # a plain connection first: a failed Client leaves its loop thread behind
                with ThreadPoolExecutor(1) as pool:  # its own loop, even inside a running one
                    pool.submit(asyncio.run, _probe(scheduler, timeout)).result()
                client = dd.Client(scheduler, timeout=timeout, set_as_default=False)
            except Exception as exc:
                raise SweepError(
                    f"dask scheduler {scheduler}: no answer within {timeout:g} s ({exc})"
                ) from None
            stack.callback(client.close)
            try:
                client.wait_for_workers(1, timeout=timeout)
            except Exception:
                raise SweepError(
                    f"dask scheduler {scheduler}: no workers within {timeout:g} s"
                ) from None
        futures = [client.submit(_run_task, *task, pure=False) for task in tasks]

        def outcomes() -> Iterator[_Outcome]:
            for future in dd.as_completed(futures, loop=client.loop):
                outcome: _Outcome = future.result()
                future.release()
                yield outcome

        yield outcomes()


# ----------------------------------------------------------------------------- results


def _columns(spec: SweepSpec) -> list[str]:
    return ["cell", *spec.keys, "seed", *COLUMNS]


def _existing(csv_path: Path, columns: list[str]) -> set[tuple[str, int]]:
    """The (cell, seed) runs already in the file, after cutting a torn last line off."""
    if not csv_path.exists():
        return set()
    raw = csv_path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        with csv_path.open("r+b") as f:
            f.truncate(raw.rfind(b"\n") + 1)
        raw = raw[: raw.rfind(b"\n") + 1]
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    if not rows:
        return set()
    if rows[0] != columns:
        raise SweepError(
            f"{csv_path}: has columns {rows[0]}, but this sweep writes {columns}: "
            "choose another output folder or remove it"
        )
    done = set()
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(columns):
            raise SweepError(f"{csv_path}: line {n} has {len(row)} fields, not {len(columns)}")
        done.add((row[0], int(row[columns.index("seed")])))
    return done


def _manifest(out: Path, spec: SweepSpec, cells: list[Cell]) -> None:
    """Write ``sweep.json``; refuse if the folder holds results of another base scenario."""
    base = tomllib.loads(spec.scenario_file.read_text(encoding="utf-8"))
    base = json.loads(json.dumps(base, default=str))
    path = out / "sweep.json"
    if path.exists() and (out / "results.csv").exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8")).get("scenario")
        except ValueError:
            old = None
        if old != base:
            raise SweepError(
                f"{out}: holds results of a different base scenario than {spec.scenario}; "
                "choose another output folder or remove it"
            )
    cell_list = [{"cell": c.id, "overrides": c.overrides} for c in cells]
    data = {"scenario": base, "keys": spec.keys, "seeds": spec.seeds, "cells": cell_list}
    path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")


def read_results(out: str | Path) -> list[dict[str, Any]]:
    """The rows of ``OUT/results.csv`` in cell order, then seed (a torn last line is skipped).

    Sweep keys come back as numbers, booleans, lists or tables where they parse as JSON,
    else as strings; ``rounds_to_floor`` is None when the error never reached 2 × floor.
    """
    out = Path(out)
    csv_path = out if out.is_file() else out / "results.csv"
    text = csv_path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    for raw in reader:
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if key in ("cell", "status"):
                row[key] = value
            elif key in ("final_error", "min_error", "wall_seconds"):
                row[key] = float(value)
            elif key in ("seed", "rounds_done", *_COUNTS):
                row[key] = int(value)
            elif key == "rounds_to_floor":
                row[key] = int(value) if value else None
            else:
                row[key] = _parse(value)
        rows.append(row)
    cells: dict[str, int] = {}
    seeds: dict[int, int] = {}
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        manifest = json.loads((csv_path.parent / "sweep.json").read_text(encoding="utf-8"))
        cells = {c["cell"]: i for i, c in enumerate(manifest["cells"])}
        seeds = {s: i for i, s in enumerate(manifest["seeds"])}

    def order(row: dict[str, Any]) -> tuple[int, int, int]:
        seed = row["seed"]
        return cells.get(row["cell"], len(cells)), seeds.get(seed, len(seeds)), seed

    return sorted(rows, key=order)


# ----------------------------------------------------------------------------- the sweep


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
) -> Path:
    """Run every cell × seed of a sweep file not yet in ``OUT/results.csv``.

    One sweep at a time per output folder: two writing to one ``results.csv`` would run
    cells twice.

    Args:
        spec_path: the sweep TOML file.
        engine: ``"local"`` (joblib loky processes) or ``"dask"`` (a Dask cluster).
        jobs: worker processes (default: the CPU count); with a ``scheduler``, unused.
        scheduler: a Dask scheduler address (``tcp://host:8786``); default: a new
            LocalCluster of ``jobs`` processes.
        out: the output folder (default: ``results/<sweep file stem>``).
        logs: write each run's event log to ``OUT/logs/<cell>-seed<seed>.jsonl``.
        progress: show a progress bar on stderr.
        timeout: seconds to wait for a Dask scheduler (and its first worker) to answer.

    Returns:
        The path of ``results.csv``.

    Raises:
        SweepError: bad sweep or scenario, bad arguments, results in ``out`` that do not
            belong to this sweep, a Dask scheduler that does not answer.
        SweepRunError: some runs raised (every other run's row is written).
    """
    if engine not in ("local", "dask"):
        raise SweepError(f"engine: must be 'local' or 'dask', got {engine!r}")
    if scheduler is not None and engine != "dask":
        raise SweepError("scheduler: only with engine 'dask'")
    if jobs is not None and jobs < 1:
        raise SweepError(f"jobs: must be >= 1, got {jobs}")
    spec = load_sweep(spec_path)
    out = Path(out) if out is not None else Path("results") / Path(spec_path).stem
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "results.csv"
    cells = spec.cells()
    columns = _columns(spec)
    done = _existing(csv_path, columns)
    _manifest(out, spec, cells)
    log_dir = out.resolve() / "logs"
    if logs:
        log_dir.mkdir(exist_ok=True)
    n_runs = len(cells) * len(spec.seeds)
    runs = [(cell, seed) for cell in cells for seed in spec.seeds if (cell.id, seed) not in done]
    tasks: list[_Task] = [
        (
            i,
            str(spec.scenario_file),
            cell.overrides,
            seed,
            str(log_dir / f"{cell.id}-seed{seed}.jsonl") if logs else None,
        )
        for i, (cell, seed) in enumerate(runs)
    ]
    if not tasks:
        if not csv_path.exists() or csv_path.stat().st_size == 0:
            csv_path.write_text(_csv_line(columns), encoding="utf-8")
        return csv_path
    n = min(jobs or os.cpu_count() or 1, len(tasks))
    pool = _local(tasks, n) if engine == "local" else _dask(tasks, n, scheduler, timeout)
    with pool as outcomes:
        failed = _write(
            csv_path, columns, runs, outcomes, n_runs - len(runs), progress, Path(spec_path).stem
        )
    if failed:
        (cell, seed), tb = failed[0]
        raise SweepRunError(
            f"{len(failed)} of {len(tasks)} runs failed (not written; a rerun retries them); "
            f"first: cell {cell.id} {cell.overrides} seed {seed}:\n{tb}"
        )
    return csv_path


def _csv_line(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


def _write(
    csv_path: Path,
    columns: list[str],
    runs: list[tuple[Cell, int]],
    outcomes: Iterable[_Outcome],
    n_done: int,
    progress: bool,
    name: str,
) -> list[tuple[tuple[Cell, int], str]]:
    """Append one flushed row per finished run; return the failures."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    failed: list[tuple[tuple[Cell, int], str]] = []
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not progress,
    )
    with csv_path.open("a", encoding="utf-8", newline="") as f, bar:
        if f.tell() == 0:
            f.write(_csv_line(columns))
        task = bar.add_task(f"sweep {name}", total=n_done + len(runs), completed=n_done)
        for index, row, tb in outcomes:
            cell, seed = runs[index]
            if row is None:
                failed.append(((cell, seed), tb or ""))
            else:
                values = [cell.id, *(cell.overrides[k] for k in cell.overrides), seed]
                values += [row[k] for k in COLUMNS]
                f.write(_csv_line(["" if v is None else _toml(v) for v in values]))
                f.flush()
            bar.advance(task)
    return failed
