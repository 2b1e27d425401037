"""The topology config base class, its registry of kinds, and :func:`parse_topology`."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from bgdsim.network._tables import parse_table
from bgdsim.network.topology.routes import Routes
from bgdsim.registry import Registry

__all__ = ["Topology", "parse_topology", "topologies"]


class Topology(BaseModel):
    """Base class: how the workers reach the server."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    kind: str
    summary: ClassVar[str] = ""

    def build(self, m: int) -> Routes:
        """The routes of ``m`` workers."""
        raise NotImplementedError


topologies: Registry[type[Topology]] = Registry("topology")


def _check_m(m: int) -> None:
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"the number of workers must be an integer >= 1, got {m!r}")


def parse_topology(value: Any) -> Topology:
    """Build a topology from a TOML table ``{kind = ..., ...}`` (or pass one through)."""
    return parse_table(
        value,
        base=Topology,
        registry=topologies,
        default_kind="star",
        example='{ kind = "tree", relays = 4 }',
        label="topology",
    )
