"""The parametric latency models: constant, uniform, exponential, lognormal, pareto, gamma
(the distributions are tabled in :mod:`bgdsim.network.latency`)."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from bgdsim.network.latency.base import LatencyModel, latencies

__all__ = [
    "ConstantLatency",
    "ExponentialLatency",
    "GammaLatency",
    "LognormalLatency",
    "ParetoLatency",
    "UniformLatency",
]


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
