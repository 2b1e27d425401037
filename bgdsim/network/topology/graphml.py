"""The ``graphml`` topology: relays and links read from a GraphML file, each worker routed
along its shortest path to the server by latency (the conventions are in
:mod:`bgdsim.network.topology`)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, PrivateAttr

from bgdsim.network.latency import ConstantLatency
from bgdsim.network.topology._nodes import _WORKER_ID, SERVER, _natural_key
from bgdsim.network.topology.base import Topology, _check_m, topologies
from bgdsim.network.topology.basedir import _base_dir, current_base_dir
from bgdsim.network.topology.routes import Hop, Routes
from bgdsim.paths import MAX_GRAPH_BYTES, read_input
from bgdsim.registry import did_you_mean

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["GraphmlTopology"]


def _number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{where}: {name} {value!r} is not a number")
    try:
        x = float(value)
    except ValueError:
        raise ValueError(f"{where}: {name} {value!r} is not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"{where}: {name} {value!r} must be finite")
    return x


def _list(names: list[str], limit: int = 10) -> str:
    return ", ".join(names[:limit]) + (f", … ({len(names)} in all)" if len(names) > limit else "")


@topologies.register("graphml")
class GraphmlTopology(Topology):
    """Relays and links from a GraphML file; routes are shortest paths by latency."""

    summary: ClassVar[str] = "relays and links from a GraphML file (shortest paths by latency)"
    kind: Literal["graphml"] = "graphml"
    path: str = Field(min_length=1)
    _base: Path | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        # Remember the base directory in force when the scenario was read, so that the
        # topology builds the same file later, wherever it is built.
        self._base = _base_dir.get()

    def resolved_path(self) -> Path:
        """``path``, under the base directory if relative."""
        p = Path(self.path).expanduser()
        if p.is_absolute():
            return p
        return (self._base if self._base is not None else current_base_dir()) / p

    def _read(self) -> nx.Graph:
        import networkx as nx

        p = self.resolved_path()
        where = f"graphml topology {self.path!r}"
        # a regular file of bounded size: never /dev/zero or a FIFO
        raw = read_input(p, MAX_GRAPH_BYTES, source=where, what="file")
        try:
            return nx.parse_graphml(raw)
        except ET.ParseError as exc:
            raise ValueError(f"{where}: unreadable XML: {exc}") from None
        except (nx.NetworkXError, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{where}: not a valid GraphML graph: {exc}") from None

    def build(self, m: int) -> Routes:
        import networkx as nx

        _check_m(m)
        raw = self._read()
        f = self.path
        if SERVER not in raw:
            names = sorted(map(str, raw.nodes), key=_natural_key)
            raise ValueError(
                f"{f}: no node 'server'{did_you_mean(SERVER, names)}; "
                f"nodes: {_list(names) or '(none)'}"
            )
        nodes = [str(v) for v in raw.nodes]
        workers = {v for v in nodes if _WORKER_ID.fullmatch(v)}
        expected = {f"w{j}" for j in range(m)}
        missing = sorted(expected - workers, key=_natural_key)
        extra = sorted(workers - expected, key=_natural_key)
        if missing or extra:
            parts = [f"missing {_list(missing)}"] if missing else []
            parts += [f"unexpected {_list(extra)}"] if extra else []
            want = "w0" if m == 1 else f"w0 … w{m - 1}"
            raise ValueError(
                f"{f}: worker nodes must be exactly {want} for {m} worker{'s' * (m > 1)}: "
                + "; ".join(parts)
            )
        defaults = raw.graph.get("edge_default", {})

        def edge_end(v: str) -> tuple[int, tuple[tuple[int, int | str], ...]]:
            return (0 if v in workers else 2 if v == SERVER else 1, _natural_key(v))

        # Canonical undirected graph, nodes and edges in natural order.
        links: dict[tuple[str, str], tuple[float, float] | None] = {}
        for a, b, data in raw.edges(data=True):
            u, v = sorted((str(a), str(b)), key=edge_end)  # worker first, server last
            e = f"{f}: edge {u}–{v}"
            if u == v:
                raise ValueError(f"{e}: a self-loop")
            if u in workers and v in workers:
                raise ValueError(f"{e} joins two workers; workers cannot relay messages")
            if u in workers or v in workers:
                w = u if u in workers else v
                for attr in ("latency", "drop"):
                    if attr in data:
                        raise ValueError(
                            f"{e} is {w}'s last-mile link, modelled by the scenario's "
                            f"[network] latency and drop: remove its {attr!r} attribute"
                        )
                value: tuple[float, float] | None = None
            else:
                lat = _number(e, "latency", data.get("latency", defaults.get("latency", 0.0)))
                drop = _number(e, "drop", data.get("drop", defaults.get("drop", 0.0)))
                if lat < 0:
                    raise ValueError(f"{e}: latency {lat} must be >= 0")
                if not 0 <= drop <= 1:
                    raise ValueError(f"{e}: drop {drop} must be in [0, 1]")
                value = (lat, drop)
            if (u, v) in links and links[(u, v)] != value:
                raise ValueError(f"{e} is given twice with different latency or drop")
            links[(u, v)] = value

        g = nx.Graph()
        for v in sorted(nodes, key=_natural_key):
            role = "server" if v == SERVER else "worker" if v in workers else "relay"
            g.add_node(v, role=role)
        for (u, v), value in sorted(
            links.items(), key=lambda kv: (_natural_key(kv[0][0]), _natural_key(kv[0][1]))
        ):
            if value is None:
                g.add_edge(u, v, latency_model=None, drop=None, last_mile=True, hop=None)
            else:
                g.add_edge(
                    u,
                    v,
                    latency_model=ConstantLatency(value=value[0]),
                    drop=value[1],
                    last_mile=False,
                    hop=None,
                    latency=value[0],
                )

        def weight(u: str, v: str, data: dict[str, Any]) -> float | None:
            if u in workers:  # never route through a worker
                return None
            return 0.0 if data["last_mile"] else float(data["latency"])

        _, paths = nx.single_source_dijkstra(g, SERVER, weight=weight)
        cut = sorted((w for w in workers if w not in paths), key=_natural_key)
        if cut:
            raise ValueError(f"{f}: disconnected: workers {_list(cut)} cannot reach the server")

        hops: list[Hop] = []
        index: dict[tuple[str, str], int] = {}
        route: list[tuple[int, ...]] = []
        for j in range(m):
            up = paths[f"w{j}"][::-1]  # worker, first node, …, server
            r: list[int] = []
            for lo, hi in pairwise(up[1:]):
                if (lo, hi) not in index:
                    data = g.edges[lo, hi]
                    data["hop"] = index[(lo, hi)] = len(hops)
                    hops.append(Hop(f"{lo}->{hi}", data["latency_model"], data["drop"], lo))
                r.append(index[(lo, hi)])
            route.append(tuple(r))
        for _, _, data in g.edges(data=True):
            data.pop("latency", None)
        return Routes(g, hops=tuple(hops), route=tuple(route))
