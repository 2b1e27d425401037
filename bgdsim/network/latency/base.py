"""The latency model base class, its registry of kinds, and :func:`parse_latency`."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from bgdsim.network._tables import parse_table
from bgdsim.registry import Registry

__all__ = ["LatencyModel", "latencies", "parse_latency"]


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
