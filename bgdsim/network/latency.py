"""Latency models: how long a message spends on a link, in simulated seconds.

A latency model is a small validated config object (pydantic) that draws a vector of
latencies from a generator in one call. Models register under their ``kind`` so that a
scenario names them as ``latency = { kind = "exponential", mean = 0.02 }``.

=============  ==========================  ====================================
kind           parameters                  distribution
=============  ==========================  ====================================
constant       ``value`` ≥ 0               δ(value)
uniform        ``low`` ≤ ``high``, ≥ 0     U[low, high]
exponential    ``mean`` > 0, ``shift`` ≥ 0  shift + Exp(mean)
lognormal      ``mu``, ``sigma`` > 0,       shift + exp(N(mu, sigma²))
               ``shift`` ≥ 0
pareto         ``scale`` > 0, ``shape``     shift + Pareto(x_m = scale, α = shape)
               > 0, ``shift`` ≥ 0           (heavy tail; no mean when α ≤ 1)
gamma          ``shape`` > 0, ``scale``     shift + Gamma(k = shape, θ = scale)
               > 0, ``shift`` ≥ 0
empirical      ``path``, ``column``,        shift + scale · (a value drawn with
               ``scale`` > 0, ``shift`` ≥ 0 replacement from a CSV trace)
=============  ==========================  ====================================

A relative trace ``path`` is resolved against the directory set with
:func:`latency_base_dir` (the scenario loader sets it to the scenario file's directory),
else against the current directory. The trace is read and checked once per process.

On top of the model's latency, a message of ``nbytes`` bytes on a link of ``bandwidth``
bytes per second spends :func:`transmission_time` = nbytes / bandwidth seconds being
sent; :func:`message_bytes` gives the size of a ``dim``-vector.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from bgdsim.network._tables import parse_table
from bgdsim.registry import Registry, did_you_mean

__all__ = [
    "ConstantLatency",
    "EmpiricalLatency",
    "ExponentialLatency",
    "GammaLatency",
    "LatencyModel",
    "LognormalLatency",
    "ParetoLatency",
    "UniformLatency",
    "latencies",
    "latency_base_dir",
    "message_bytes",
    "parse_latency",
    "resolve_trace_path",
    "transmission_time",
]


class LatencyModel(BaseModel):
    """Base class: a distribution of non-negative link latencies."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    kind: str
    summary: ClassVar[str] = ""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` latencies (float64, seconds, all ≥ 0)."""
        raise NotImplementedError

    def expected(self) -> float:
        """Expected latency in seconds."""
        raise NotImplementedError


latencies: Registry[type[LatencyModel]] = Registry("latency model")


@latencies.register("constant")
class ConstantLatency(LatencyModel):
    """Every message takes exactly ``value`` seconds."""

    summary: ClassVar[str] = "every message takes `value` seconds"
    kind: Literal["constant"] = "constant"
    value: float = Field(0.01, ge=0, allow_inf_nan=False)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value)

    def expected(self) -> float:
        return self.value


@latencies.register("uniform")
class UniformLatency(LatencyModel):
    """Latency uniform on [``low``, ``high``]."""

    summary: ClassVar[str] = "uniform on [low, high]"
    kind: Literal["uniform"] = "uniform"
    low: float = Field(0.0, ge=0, allow_inf_nan=False)
    high: float = Field(0.02, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> UniformLatency:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    def expected(self) -> float:
        return (self.low + self.high) / 2


@latencies.register("exponential")
class ExponentialLatency(LatencyModel):
    """Latency ``shift`` + Exp(``mean``): memoryless queueing delay above a floor."""

    summary: ClassVar[str] = "shift + exponential with the given mean"
    kind: Literal["exponential"] = "exponential"
    mean: float = Field(0.01, gt=0, allow_inf_nan=False)
    shift: float = Field(0.0, ge=0, allow_inf_nan=False)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.shift + rng.exponential(self.mean, n)

    def expected(self) -> float:
        return self.shift + self.mean


@latencies.register("lognormal")
class LognormalLatency(LatencyModel):
    """Latency ``shift`` + exp(N(``mu``, ``sigma``²)): the usual fit to measured RTTs."""

    summary: ClassVar[str] = "shift + exp(N(mu, sigma^2))"
    kind: Literal["lognormal"] = "lognormal"
    mu: float = Field(-4.6, allow_inf_nan=False)
    sigma: float = Field(0.5, gt=0, allow_inf_nan=False)
    shift: float = Field(0.0, ge=0, allow_inf_nan=False)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.shift + rng.lognormal(self.mu, self.sigma, n)

    def expected(self) -> float:
        return self.shift + float(np.exp(self.mu + self.sigma**2 / 2))


_FLOAT_MAX = float(np.finfo(np.float64).max)


@latencies.register("pareto")
class ParetoLatency(LatencyModel):
    """Latency ``shift`` + Pareto(x_m = ``scale``, α = ``shape``): heavy-tailed stragglers."""

    summary: ClassVar[str] = "shift + classic Pareto(x_m=scale, alpha=shape); no mean if shape <= 1"
    kind: Literal["pareto"] = "pareto"
    scale: float = Field(0.01, gt=0, allow_inf_nan=False)
    shape: float = Field(2.5, gt=0, allow_inf_nan=False)
    shift: float = Field(0.0, ge=0, allow_inf_nan=False)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        # numpy's pareto is Lomax (Pareto II, support [0, ∞)); 1 + Lomax(α) is Pareto(1, α).
        # For shape ≲ 0.03 draws can exceed the float64 range: capped, to stay finite.
        with np.errstate(over="ignore"):
            x = self.shift + self.scale * (1.0 + rng.pareto(self.shape, n))
        return np.minimum(x, _FLOAT_MAX)

    def expected(self) -> float:
        if self.shape <= 1:
            return math.inf
        return self.shift + self.scale * self.shape / (self.shape - 1)


@latencies.register("gamma")
class GammaLatency(LatencyModel):
    """Latency ``shift`` + Gamma(k = ``shape``, θ = ``scale``): a sum of k exponential stages."""

    summary: ClassVar[str] = "shift + Gamma(k=shape, theta=scale)"
    kind: Literal["gamma"] = "gamma"
    shape: float = Field(2.0, gt=0, allow_inf_nan=False)
    scale: float = Field(0.005, gt=0, allow_inf_nan=False)
    shift: float = Field(0.0, ge=0, allow_inf_nan=False)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.shift + rng.gamma(self.shape, self.scale, n)

    def expected(self) -> float:
        return self.shift + self.shape * self.scale


# ----------------------------------------------------------------------------- traces

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
    try:
        with resolved.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, strict=True)
            try:
                for row in reader:
                    cells = [c.strip() for c in row]
                    if any(cells):  # blank lines are skipped
                        rows.append((reader.line_num, cells))
            except csv.Error as exc:
                raise ValueError(f"{where} line {reader.line_num}: not valid CSV: {exc}") from None
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


# ----------------------------------------------------------------------------- bandwidth


def message_bytes(dim: int, dtype: str = "<f8") -> int:
    """Size in bytes of a ``dim``-vector of ``dtype`` (payload only, no header)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 0:
        raise ValueError(f"dim must be an integer >= 0, got {dim!r}")
    return int(dim) * np.dtype(dtype).itemsize


def transmission_time(nbytes: int, bandwidth: float | None) -> float:
    """Seconds to push ``nbytes`` onto a link of ``bandwidth`` bytes/s (None or inf: 0.0)."""
    if isinstance(nbytes, bool) or not isinstance(nbytes, (int, np.integer)) or nbytes < 0:
        raise ValueError(f"nbytes must be an integer >= 0, got {nbytes!r}")
    if bandwidth is None or bandwidth == math.inf:
        return 0.0
    if not bandwidth > 0:  # also NaN
        raise ValueError(f"bandwidth must be > 0 bytes per second (or None), got {bandwidth!r}")
    return int(nbytes) / float(bandwidth)


def parse_latency(value: Any) -> LatencyModel:
    """Build a latency model from a TOML table ``{kind = ..., ...}`` (or pass one through)."""
    return parse_table(
        value,
        base=LatencyModel,
        registry=latencies,
        default_kind="constant",
        example='{ kind = "constant", value = 0.01 }',
        label="latency",
    )
