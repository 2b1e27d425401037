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
=============  ==========================  ====================================
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bgdsim.registry import Registry

__all__ = [
    "ConstantLatency",
    "ExponentialLatency",
    "LatencyModel",
    "LognormalLatency",
    "UniformLatency",
    "latencies",
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


def parse_latency(value: Any) -> LatencyModel:
    """Build a latency model from a TOML table ``{kind = ..., ...}`` (or pass one through)."""
    if isinstance(value, LatencyModel):
        return value
    if not isinstance(value, dict):
        raise ValueError(
            f'must be a table like {{ kind = "constant", value = 0.01 }}, got {value!r}'
        )
    kind = value.get("kind", "constant")
    if not isinstance(kind, str):
        raise ValueError(f"kind must be a string, got {kind!r}")
    cls = latencies.get(kind)
    try:
        return cls.model_validate({**value, "kind": kind})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = [f for f in cls.model_fields if f != "kind"]
            msg = f"unknown parameter of {kind} latency; allowed: {', '.join(allowed)}"
        got = f" (got {err['input']!r})" if loc else ""
        raise ValueError(f"{loc}: {msg}{got}" if loc else msg) from None
