"""The sweep file: its schema (:class:`SweepSpec`), its cells (:class:`Cell`) and
:func:`load_sweep`, which checks the file and every cell's scenario up front.

The file format is described in :mod:`bgdsim.sweep`.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationError, model_validator

from bgdsim._section import Section
from bgdsim.config import ScenarioError, format_error, load_scenario
from bgdsim.config.limits import MAX_DEPTH, nesting_depth
from bgdsim.paths import MAX_INPUT_BYTES, read_input
from bgdsim.sweep.columns import COLUMNS, _toml
from bgdsim.sweep.errors import SweepError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["MAX_CELLS", "MAX_RUNS", "Cell", "SweepSpec", "check_sweep", "load_sweep"]

#: the most cells a sweep may have: each is loaded and checked before anything runs
MAX_CELLS = 100_000
#: the most runs (cells × seeds) a sweep may ask for
MAX_RUNS = 1_000_000

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_RESERVED = {"cell", "seed", *COLUMNS}


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
            raise ValueError(f"a count must be >= 1, got {v}")
        if v > MAX_RUNS:
            raise ValueError(f"a count must be at most {MAX_RUNS} (runs), got {v}")
        return list(range(v))
    if isinstance(v, list):
        if not v:
            raise ValueError("empty list: give at least one seed")
        dup = _first_repeat(v)
        if dup is not None:
            raise ValueError(f"seed {v[dup]!r} is given twice")
    return v


def _first_repeat(values: list[Any]) -> int | None:
    """The index of the first value equal to an earlier one (unhashable values, which
    validation refuses anyway, are skipped), in one pass."""
    seen: set[Any] = set()
    for i, value in enumerate(values):
        try:
            if value in seen:
                return i
            seen.add(value)
        except TypeError:
            continue
    return None


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
        axes = self._axes_list()
        n_cells = math.prod(len(points) for _, points in axes)
        if n_cells > MAX_CELLS:
            sizes = " × ".join(f"{name} ({len(points)})" for name, points in axes)
            raise ValueError(f"grid: {n_cells} cells ({sizes}); at most {MAX_CELLS} are "
                             "allowed: split the sweep")  # fmt: skip
        if n_cells * len(self.seeds) > MAX_RUNS:
            raise ValueError(f"seeds: {n_cells} cells × {len(self.seeds)} seeds = "
                             f"{n_cells * len(self.seeds)} runs; at most {MAX_RUNS} are "
                             "allowed: split the sweep")  # fmt: skip
        for name, points in axes:
            ids = [_cell_id(dict(point)) for point in points]
            dup = _first_repeat(ids)
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
    # a regular file of at most MAX_INPUT_BYTES, as a scenario
    raw = read_input(path, MAX_INPUT_BYTES, source=source, what="sweep file", error=SweepError)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SweepError(
            f"{source}: cannot read: not a UTF-8 text file (byte {exc.start}: {exc.reason})"
        ) from None
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise SweepError(f"{source}: arrays and tables are nested {depth} levels deep; at "
                         f"most {MAX_DEPTH} are allowed")  # fmt: skip
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SweepError(f"{source}: not valid TOML: {exc}") from None
    return check_sweep(data, Path(path).parent, source)


def check_sweep(data: Any, root: Path, source: str = "sweep") -> SweepSpec:
    """Check a sweep given as a table (a sweep file's content), its ``scenario`` named
    relative to ``root``, including every cell's scenario (errors as :func:`load_sweep`).
    """
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise SweepError(format_error(exc, source)) from None
    spec._root = root
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
