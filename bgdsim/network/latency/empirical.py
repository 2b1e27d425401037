"""The ``empirical`` latency model: latencies resampled from a CSV trace of measurements.

Owns the trace files: where a relative ``path`` is looked up (:func:`latency_base_dir`,
:func:`resolve_trace_path`), how a trace is read and checked, and the per-process cache
that reads each trace once.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, PrivateAttr, field_validator, model_validator

from bgdsim.network.latency.base import LatencyModel, latencies
from bgdsim.paths import MAX_TRACE_BYTES, InputFileError, read_bounded
from bgdsim.registry import did_you_mean

__all__ = ["EmpiricalLatency", "latency_base_dir", "resolve_trace_path"]

_BASE_DIR: ContextVar[Path | None] = ContextVar("bgdsim_latency_base_dir", default=None)
_TRACES: dict[tuple[str, int | str], np.ndarray] = {}


@contextmanager
def latency_base_dir(path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Resolve relative trace paths against ``path`` (a directory) inside the ``with``.

    The scenario loader wraps validation in ``with latency_base_dir(scenario.parent):`` so
    that ``path = "traces/x.csv"`` means next to the scenario file. ``None`` restores the
    default, the current directory. A relative ``path`` is taken relative to the current
    directory on entry. Nests, and is per thread / per asyncio task.
    """
    token = _BASE_DIR.set(None if path is None else Path(path).expanduser().absolute())
    try:
        yield
    finally:
        _BASE_DIR.reset(token)


def resolve_trace_path(path: str | os.PathLike[str]) -> Path:
    """The absolute path of a trace: ``~`` expanded, a relative path joined to the base dir."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        base = _BASE_DIR.get()
        p = (base if base is not None else Path.cwd()) / p
    return p.resolve()


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse_trace(resolved: Path, column: int | str, label: str) -> np.ndarray:
    """Read one column of a CSV trace; every problem is a ValueError naming file and line."""
    where = f"trace {label}"
    rows: list[tuple[int, list[str]]] = []
    try:  # a regular file of bounded size: never /dev/zero, a FIFO or a directory
        text = read_bounded(resolved, MAX_TRACE_BYTES).decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            for row in reader:
                cells = [c.strip() for c in row]
                if any(cells):  # blank lines are skipped
                    rows.append((reader.line_num, cells))
        except csv.Error as exc:
            raise ValueError(f"{where} line {reader.line_num}: not valid CSV: {exc}") from None
    except InputFileError as exc:
        raise ValueError(f"{where}: {exc}") from None
    except FileNotFoundError:
        looked = "" if str(resolved) == label else f" (looked for {resolved})"
        raise ValueError(f"{where}: no such file{looked}") from None
    except IsADirectoryError:
        raise ValueError(f"{where}: is a directory, not a CSV file") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: not a UTF-8 text file ({exc.reason})") from None
    except OSError as exc:
        raise ValueError(f"{where}: cannot read: {exc.strerror or exc}") from None
    if not rows:
        raise ValueError(f"{where}: no numeric values (the file is empty)")

    # A header is a first row with no numeric cell; a named column needs one.
    first_line, first = rows[0]
    has_header = not any(_is_number(c) for c in first)
    if isinstance(column, str):
        if not has_header:
            raise ValueError(
                f"{where}: column {column!r} is given by name but line {first_line} is not "
                "a header row; give a 0-based column index instead"
            )
        if column not in first:
            names = [c for c in first if c]
            raise ValueError(
                f"{where} line {first_line}: no column {column!r}{did_you_mean(column, names)}; "
                f"columns: {', '.join(names)}"
            )
        index, name = first.index(column), repr(column)
    else:
        index, name = column, str(column)
    data = rows[1:] if has_header else rows
    values = np.empty(len(data))
    for i, (line, cells) in enumerate(data):
        if index >= len(cells):
            raise ValueError(
                f"{where} line {line}: no column {name} (the row has {len(cells)} cell(s))"
            )
        cell = cells[index]
        if not cell:
            raise ValueError(f"{where} line {line}: empty cell in column {name}")
        try:
            v = float(cell)
        except ValueError:
            raise ValueError(f"{where} line {line}: not a number: {cell!r}") from None
        if math.isnan(v):
            raise ValueError(f"{where} line {line}: NaN latency {cell!r}")
        if math.isinf(v):
            raise ValueError(f"{where} line {line}: infinite latency {cell!r}")
        if v < 0:
            raise ValueError(f"{where} line {line}: negative latency {cell}")
        values[i] = v
    if values.size == 0:
        raise ValueError(f"{where}: no numeric values (only a header row)")
    values.flags.writeable = False
    return values


def _trace(resolved: Path, column: int | str, label: str) -> np.ndarray:
    """The trace's values (read-only, in the file's unit), read once per process."""
    key = (str(resolved), column)
    values = _TRACES.get(key)
    if values is None:
        values = _TRACES[key] = _parse_trace(resolved, column, label)
    return values


@latencies.register("empirical")
class EmpiricalLatency(LatencyModel):
    """Latency resampled (with replacement) from a CSV trace of measured latencies."""

    summary: ClassVar[str] = "shift + scale * a value resampled from the CSV trace at `path`"
    kind: Literal["empirical"] = "empirical"
    path: str = Field(min_length=1)
    column: int | str = 0
    scale: float = Field(1.0, gt=0, allow_inf_nan=False)
    shift: float = Field(0.0, ge=0, allow_inf_nan=False)
    _resolved: str = PrivateAttr("")

    @field_validator("column", mode="before")
    @classmethod
    def _column(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise ValueError("must be a column name (string) or a 0-based index (integer)")
        if isinstance(v, int) and v < 0:
            raise ValueError("a column index must be >= 0 (0 is the first column)")
        if isinstance(v, str) and not v.strip():
            raise ValueError("a column name must not be empty")
        return v

    @model_validator(mode="after")
    def _load(self) -> EmpiricalLatency:
        resolved = resolve_trace_path(self.path)
        _trace(resolved, self.column, self.path)  # read and check it now: fail at load time
        self._resolved = str(resolved)
        return self

    @property
    def resolved_path(self) -> Path:
        """The absolute path the trace was read from."""
        return Path(self._resolved)

    @property
    def values(self) -> np.ndarray:
        """The trace in seconds (``scale`` applied, ``shift`` not), read-only."""
        return self.scale * _trace(self.resolved_path, self.column, self.path)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        trace = _trace(self.resolved_path, self.column, self.path)
        return self.shift + self.scale * rng.choice(trace, n)

    def expected(self) -> float:
        trace = _trace(self.resolved_path, self.column, self.path)
        return self.shift + self.scale * float(trace.mean())
