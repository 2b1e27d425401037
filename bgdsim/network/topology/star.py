"""The ``star`` topology (the default): each worker reaches the server over its last mile."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar, Literal

from bgdsim.network.topology._nodes import SERVER
from bgdsim.network.topology.base import Topology, _check_m, topologies
from bgdsim.network.topology.routes import Routes, _last_mile, _server_only

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["StarTopology"]


@topologies.register("star")
class StarTopology(Topology):
    """Every worker's route to the server is its own last-mile link only."""

    summary: ClassVar[str] = "a direct link from each worker to the server (default)"
    kind: Literal["star"] = "star"

    def build(self, m: int) -> Routes:
        _check_m(m)
        return Routes(partial(_star, m), hops=(), route=((),) * m, relay_names=())


def _star(m: int) -> nx.Graph:
    """The star's graph: the server and m workers on their last miles."""
    g = _server_only()
    for j in range(m):
        _last_mile(g, j, SERVER)
    return g
