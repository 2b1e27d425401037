"""The output folder of a sweep: ``results.csv`` (appended row by row, read back by
:func:`read_results`, resumed after a kill) and the ``sweep.json`` manifest.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bgdsim.sweep._engines import _Outcome
from bgdsim.sweep.columns import _COUNTS, COLUMNS, _csv_line, _parse, _toml
from bgdsim.sweep.errors import SweepError
from bgdsim.sweep.spec import Cell, SweepSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["read_results"]


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


def _base_of(out: Path, spec: SweepSpec) -> dict[str, Any]:
    """The sweep's base scenario, as ``sweep.json`` stores it; refuse a folder holding
    results of another base scenario (before anything in it is touched)."""
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
    return base


def _manifest(out: Path, spec: SweepSpec, cells: list[Cell], base: dict[str, Any]) -> None:
    """Write ``sweep.json``: the base scenario (:func:`_base_of`), keys, seeds and cells."""
    cell_list = [{"cell": c.id, "overrides": c.overrides} for c in cells]
    data = {"scenario": base, "keys": spec.keys, "seeds": spec.seeds, "cells": cell_list}
    (out / "sweep.json").write_text(json.dumps(data, indent=1, default=str) + "\n",
                                    encoding="utf-8")  # fmt: skip


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
            elif key in ("final_error", "min_error", "floor", "sim_time", "wall_seconds"):
                row[key] = float(value)
            elif key in ("seed", "k", "rounds_done", *_COUNTS):
                row[key] = int(value)
            elif key == "rounds_to_floor":
                row[key] = int(value) if value else None
            elif key in ("test_loss", "test_accuracy"):
                row[key] = float(value) if value else None
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
