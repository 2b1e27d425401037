"""The ``tree`` topology: workers in contiguous blocks, each under a relay whose uplink to
the server has the given latency and drop."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, SerializeAsAny, field_validator

from bgdsim.network.latency import ConstantLatency, LatencyModel, parse_latency
from bgdsim.network.topology._nodes import SERVER
from bgdsim.network.topology.base import Topology, _check_m, topologies
from bgdsim.network.topology.routes import Hop, Routes, _last_mile, _server_only

__all__ = ["TreeTopology"]


@topologies.register("tree")
class TreeTopology(Topology):
    """``relays`` relays between the workers and the server, each over a contiguous block."""

    summary: ClassVar[str] = "workers in contiguous blocks under `relays` relays"
    kind: Literal["tree"] = "tree"
    relays: int = Field(1, ge=1)
    relay_latency: SerializeAsAny[LatencyModel] = Field(
        default_factory=lambda: ConstantLatency(value=0.005)
    )
    relay_drop: float = Field(0.0, ge=0, le=1, allow_inf_nan=False)

    @field_validator("relay_latency", mode="before")
    @classmethod
    def _latency(cls, v: Any) -> LatencyModel:
        return parse_latency(v)

    def blocks(self, m: int) -> list[range]:
        """The workers under each relay: contiguous, the first ``m mod relays`` one larger."""
        _check_m(m)
        if self.relays > m:
            raise ValueError(
                f"tree topology: relays ({self.relays}) must be <= the number of workers ({m})"
            )
        base, extra = divmod(m, self.relays)
        out, start = [], 0
        for r in range(self.relays):
            size = base + (r < extra)
            out.append(range(start, start + size))
            start += size
        return out

    def build(self, m: int) -> Routes:
        blocks = self.blocks(m)
        g = _server_only()
        hops: list[Hop] = []
        route: list[tuple[int, ...]] = []
        for r, block in enumerate(blocks):
            relay = f"relay{r}"
            g.add_node(relay, role="relay")
            g.add_edge(
                relay,
                SERVER,
                latency_model=self.relay_latency,
                drop=self.relay_drop,
                last_mile=False,
                hop=r,
            )
            hops.append(Hop(f"{relay}->{SERVER}", self.relay_latency, self.relay_drop, relay))
            for j in block:
                _last_mile(g, j, relay)
                route.append((r,))
        return Routes(g, hops=tuple(hops), route=tuple(route))
