"""The built form of a topology: :class:`Routes` (the graph, the relay links or "hops",
and each worker's route as indices into them) and :class:`Hop`.

Also the graph conventions every kind builds with: node ``role`` attributes, and
last-mile edges that carry no latency or drop of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bgdsim.network.latency import LatencyModel
from bgdsim.network.topology._nodes import SERVER, _natural_key
from bgdsim.registry import did_you_mean

if TYPE_CHECKING:  # networkx is imported when a graph is built (not for a star's run)
    import networkx as nx

__all__ = ["Hop", "Routes"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Hop:
    """One link above the last mile, crossed upwards: ``relay`` → the next node up."""

    name: str
    latency: LatencyModel
    drop: float
    relay: str


@dataclass(frozen=True, eq=False)
class Routes:
    """A built topology for ``m`` workers.

    ``graph`` (built on first use from ``graph_source``: the graph itself, or a function
    that builds it — a star's run never needs it) holds the nodes ``server``, ``w0`` …
    ``w{m-1}`` and the relays, each with a ``role`` attribute (``"server"``, ``"worker"``,
    ``"relay"``). Each edge has ``latency_model`` (a :class:`LatencyModel`; ``None`` on
    last-mile edges, which the scenario's ``[network]`` settings model), ``drop`` (``None``
    on last-mile edges), ``last_mile`` (bool) and ``hop`` (its index into ``hops``, or
    ``None`` if no route uses it as a relay link).

    ``hops`` lists every link above the last mile that some route uses (in order of first
    use: worker 0's route from the bottom up, then worker 1's new links, …); ``route[j]`` is
    worker j's route above its last mile, as indices into ``hops`` from the worker up
    (empty when its last mile reaches the server).
    """

    graph_source: nx.Graph | Callable[[], nx.Graph]
    hops: tuple[Hop, ...]
    route: tuple[tuple[int, ...], ...]
    #: the graph's relays, when known without building it (None: read from the graph)
    relay_names: tuple[str, ...] | None = None
    _users: tuple[np.ndarray, ...] = field(init=False, repr=False)
    _under: dict[str, np.ndarray] = field(init=False, repr=False)
    _relays: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.hops)
        users: list[list[int]] = [[] for _ in range(n)]
        for j, r in enumerate(self.route):
            for h in r:
                if not 0 <= h < n:
                    raise ValueError(f"route of worker {j} uses hop {h}; there are {n} hops")
                users[h].append(j)
        relays = self.relay_names
        if relays is None:
            relays = tuple(
                sorted(
                    (v for v, role in self.graph.nodes(data="role") if role == "relay"),
                    key=_natural_key,
                )
            )
        under: dict[str, set[int]] = {r: set() for r in relays}
        for h, hop in enumerate(self.hops):
            under.setdefault(hop.relay, set()).update(users[h])
        object.__setattr__(
            self, "_users", tuple(_readonly(np.array(u, dtype=np.int64)) for u in users)
        )
        object.__setattr__(
            self,
            "_under",
            {r: _readonly(np.array(sorted(w), dtype=np.int64)) for r, w in under.items()},
        )
        object.__setattr__(self, "_relays", relays)

    @cached_property
    def graph(self) -> nx.Graph:
        """The topology as a networkx graph (built now if it was deferred)."""
        source = self.graph_source
        return source() if callable(source) else source

    @property
    def m(self) -> int:
        """Number of workers."""
        return len(self.route)

    @property
    def relays(self) -> tuple[str, ...]:
        """All relays of the graph (natural order), used by a route or not."""
        return self._relays

    def relays_of(self, j: int) -> tuple[str, ...]:
        """The relays on worker ``j``'s route, from the worker up."""
        if not 0 <= j < self.m:
            raise IndexError(f"worker {j} out of range for {self.m} workers")
        return tuple(self.hops[h].relay for h in self.route[j])

    def workers_under(self, relay: str) -> np.ndarray:
        """Sorted indices of the workers whose route passes through ``relay``
        (the workers a crash of that relay silences); read-only."""
        try:
            return self._under[relay]
        except KeyError:
            names = list(self._under)
            shown = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
            raise ValueError(
                f"unknown relay {relay!r}{did_you_mean(relay, names)}; relays: {shown or '(none)'}"
            ) from None

    def users(self, h: int) -> np.ndarray:
        """Sorted indices of the workers whose route uses hop ``h``; read-only."""
        if not 0 <= h < len(self.hops):
            raise IndexError(f"hop {h} out of range for {len(self.hops)} hops")
        return self._users[h]

    def draw(self, out: str | Path, *, title: str = "") -> None:
        """Draw the topology to ``out`` (PNG or SVG, by its suffix).

        Layered: the server at the top, relays by depth, workers in a row at the bottom,
        ordered so that each relay sits above its workers. Relay links are labelled with
        their mean latency (and drop, if any); unused links are dashed. With many workers,
        workers are small unlabelled dots.
        """
        from bgdsim.network.topology._drawing import _draw

        _draw(self, Path(out), title)


def _server_only() -> nx.Graph:
    import networkx as nx

    g = nx.Graph()
    g.add_node(SERVER, role="server")
    return g


def _last_mile(g: nx.Graph, j: int, to: str) -> None:
    g.add_node(f"w{j}", role="worker")
    g.add_edge(f"w{j}", to, latency_model=None, drop=None, last_mile=True, hop=None)
