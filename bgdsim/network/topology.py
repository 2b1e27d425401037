"""Network topologies: which links a message crosses between a worker and the server.

A topology is a small validated config object (pydantic) that registers under its
``kind``, so that a scenario names it as a TOML table, e.g.
``topology = { kind = "tree", relays = 4 }``. :meth:`Topology.build` turns it, for
``m`` workers, into :class:`Routes`: the graph, the relay links ("hops") that routes use,
and each worker's route to the server as indices into those hops.

Every worker has its own *last-mile link* (its first edge, towards the server), modelled
by the scenario's ``[network]`` ``latency`` and ``drop``. A topology only adds the links
above the last mile: the uplinks of relays, which many workers share (and which silence
all the workers under a relay when it fails).

=========  ==================================  ==========================================
kind       parameters                          routes
=========  ==================================  ==========================================
star       (none)                              every worker reaches the server over its
                                               last mile only (the default)
tree       ``relays`` ≥ 1; ``relay_latency``,  workers split into ``relays`` contiguous
           a latency table (default constant   blocks of near-equal size (the first
           5 ms); ``relay_drop`` in [0, 1]     ``m mod relays`` one larger); block r hangs
           (default 0)                         under relay ``relay<r>``, whose uplink
                                               ``relay<r>->server`` has the given latency
                                               and drop
graphml    ``path`` to a GraphML file          shortest paths by latency, see below
=========  ==================================  ==========================================

GraphML conventions
-------------------
``path`` is relative to the base directory set with :func:`topology_base_dir` (the
scenario loader sets it to the scenario file's folder; outside it, the working directory).
The file is read with :func:`networkx.read_graphml`:

* a node with id ``server``;
* worker nodes ``w0`` … ``w{m-1}``, exactly these for ``m`` workers, each once (any node
  id of the form ``w<digits>`` is a worker node, so ``w12`` for ``m = 12`` or ``w01`` are
  errors);
* every other node is a relay; other node attributes (labels, positions) are ignored;
* edges are undirected (a directed file is read as undirected; an edge given twice, in
  both directions or as parallel edges, must have the same attributes); self-loops and
  edges between two workers are errors;
* edge attributes ``latency`` (seconds, a constant, default 0.0, finite and ≥ 0) and
  ``drop`` (probability a message is lost on that link, default 0.0, in [0, 1]); a
  GraphML ``<default>`` of these keys applies to relay links; other attributes are
  ignored;
* an edge at a worker is that worker's last-mile link, modelled by the scenario's
  ``[network]`` settings: such edges must **not** carry ``latency`` or ``drop`` (an error
  rather than silently ignored values), and key defaults do not apply to them.

A worker's route is its shortest path to the server by total ``latency`` (last-mile
links count 0: they are alike for every worker), passing through relays only, never
through another worker. Routes form one shortest-path tree grown from the server
(Dijkstra over a graph whose nodes and edges are inserted in natural-sort order), so they
are consistent (two workers through the same relay share its route from there up), every
link is crossed in one direction, and ties are broken deterministically, independently of
the order of nodes and edges in the file. A worker with several edges uses the one its
shortest path starts with; its other edges are unused.
"""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar, Literal

import networkx as nx
import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializeAsAny,
    field_validator,
)

from bgdsim.network._tables import parse_table
from bgdsim.network.latency import ConstantLatency, LatencyModel, parse_latency
from bgdsim.registry import Registry, did_you_mean

__all__ = [
    "GraphmlTopology",
    "Hop",
    "Routes",
    "StarTopology",
    "Topology",
    "TreeTopology",
    "current_base_dir",
    "parse_topology",
    "topologies",
    "topology_base_dir",
]

SERVER = "server"
_WORKER_ID = re.compile(r"w[0-9]+")

_base_dir: ContextVar[Path | None] = ContextVar("bgdsim_topology_base_dir", default=None)


@contextmanager
def topology_base_dir(path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Resolve relative GraphML paths against ``path`` (a directory) inside the ``with``.

    The scenario loader wraps validation in ``with topology_base_dir(scenario.parent):``
    so that ``path = "net.graphml"`` means next to the scenario file; a topology parsed
    there remembers that directory and builds the same file wherever it is built later.
    ``None`` restores the default, the current directory. Nests, and is per thread / per
    asyncio task.
    """
    token = _base_dir.set(None if path is None else Path(path).expanduser().absolute())
    try:
        yield
    finally:
        _base_dir.reset(token)


def current_base_dir() -> Path:
    """The folder relative topology files are looked up in: the innermost
    :func:`topology_base_dir`, else the working directory."""
    base = _base_dir.get()
    return base if base is not None else Path.cwd()


def _natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """``relay2`` before ``relay10``: digit runs compare as numbers."""
    parts = re.split(r"([0-9]+)", name)  # odd indices: the digit runs
    return tuple((1, int(p)) if i % 2 else (0, p) for i, p in enumerate(parts) if p)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# --------------------------------------------------------------------------- built form


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

    ``graph`` holds the nodes ``server``, ``w0`` … ``w{m-1}`` and the relays, each with a
    ``role`` attribute (``"server"``, ``"worker"``, ``"relay"``). Each edge has
    ``latency_model`` (a :class:`LatencyModel`; ``None`` on last-mile edges, which the
    scenario's ``[network]`` settings model), ``drop`` (``None`` on last-mile edges),
    ``last_mile`` (bool) and ``hop`` (its index into ``hops``, or ``None`` if no route
    uses it as a relay link).

    ``hops`` lists every link above the last mile that some route uses (in order of first
    use: worker 0's route from the bottom up, then worker 1's new links, …); ``route[j]`` is
    worker j's route above its last mile, as indices into ``hops`` from the worker up
    (empty when its last mile reaches the server).
    """

    graph: nx.Graph
    hops: tuple[Hop, ...]
    route: tuple[tuple[int, ...], ...]
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
        _draw(self, Path(out), title)


def _attach(routes: Routes, j: int) -> str:
    """The node worker ``j``'s last-mile link leads to."""
    r = routes.route[j]
    return routes.hops[r[0]].relay if r else SERVER


def _layout(routes: Routes) -> tuple[dict[str, tuple[float, float]], int]:
    """Layered positions (server at y=0, relays at -depth, workers in the bottom row),
    leaves spread one unit apart in tree order; and the number of leaves."""
    g = routes.graph
    parent: dict[str, str] = {}
    for j, r in enumerate(routes.route):
        chain = [f"w{j}", *(routes.hops[h].relay for h in r), SERVER]
        for a, b in pairwise(chain):
            parent.setdefault(a, b)
    relay_graph = g.subgraph(v for v, role in g.nodes(data="role") if role != "worker")
    for v, path in nx.single_source_shortest_path(relay_graph, SERVER).items():
        if v != SERVER:
            parent.setdefault(v, path[-2])  # relays no route uses
    children: dict[str, list[str]] = {v: [] for v in g.nodes}
    roots = [SERVER]
    for v in g.nodes:
        if v in parent:
            children[parent[v]].append(v)
        elif v != SERVER:
            roots.append(v)  # a relay that cannot reach the server, drawn at depth 1

    first: dict[str, float] = {}

    def first_worker(v: str) -> float:
        if v not in first:
            if g.nodes[v]["role"] == "worker":
                first[v] = float(v[1:])
            else:
                first[v] = min((first_worker(c) for c in children[v]), default=math.inf)
        return first[v]

    pos: dict[str, tuple[float, float]] = {}
    bottom = 1
    leaves = 0

    def place(v: str, depth: int) -> float:
        nonlocal bottom, leaves
        kids = sorted(children[v], key=lambda c: (first_worker(c), _natural_key(c)))
        if kids:
            x = float(np.mean([place(c, depth + 1) for c in kids]))
        else:
            x, leaves = float(leaves), leaves + 1
        if g.nodes[v]["role"] != "worker":
            bottom = max(bottom, depth + 1)
        pos[v] = (x, -float(depth))
        return x

    for v in roots:
        place(v, 0 if v == SERVER else 1)
    for v in g.nodes:
        if g.nodes[v]["role"] == "worker":
            pos[v] = (pos[v][0], -float(bottom))
    return pos, max(leaves, 1)


def _mean_label(model: LatencyModel) -> str:
    try:
        mean = model.expected()
    except (ValueError, OSError):  # e.g. a trace that cannot be read
        return "? ms"
    return f"{mean * 1e3:.3g} ms" if math.isfinite(mean) else "∞ ms"


def _draw(routes: Routes, out: Path, title: str) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ValueError(f"cannot draw to {out.name!r}: the suffix must be .png or .svg")
    g = routes.graph
    pos, n_leaves = _layout(routes)
    many = routes.m > 40
    rows = len({p[1] for p in pos.values()})
    width = min(24.0, max(6.0, 0.05 * n_leaves + 6 if many else 0.45 * n_leaves + 1))
    height = min(12.0, max(3.5, 1.3 * rows + 1))

    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.88 if title else 0.96))
    ax.set_axis_off()
    if title:
        fig.suptitle(title)

    mile: list[Any] = []
    uplink: list[Any] = []
    unused: list[Any] = []
    for u, v, data in g.edges(data=True):
        seg = (pos[u], pos[v])
        if data["last_mile"]:
            w, other = (u, v) if g.nodes[u]["role"] == "worker" else (v, u)
            (mile if _attach(routes, int(w[1:])) == other else unused).append(seg)
        else:
            (uplink if data["hop"] is not None else unused).append(seg)
    ax.add_collection(LineCollection(mile, colors="0.55", linewidths=0.4 if many else 1.0))
    ax.add_collection(LineCollection(uplink, colors="0.15", linewidths=1.6))
    ax.add_collection(LineCollection(unused, colors="0.6", linewidths=0.8, linestyles="dashed"))

    relay_links = [(u, v, d) for u, v, d in g.edges(data=True) if not d["last_mile"]]
    if len(relay_links) <= 100:
        for u, v, d in relay_links:
            (x0, y0), (x1, y1) = pos[u], pos[v]
            label = _mean_label(d["latency_model"])
            if d["drop"]:
                label += f"\n{d['drop']:.3g} drop"
            ax.text(
                (x0 + x1) / 2,
                (y0 + y1) / 2,
                label,
                fontsize=7,
                ha="center",
                va="center",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
                zorder=3,
            )

    def nodes(role: str) -> tuple[list[str], np.ndarray]:
        vs = [v for v, r in g.nodes(data="role") if r == role]
        return vs, np.array([pos[v] for v in vs], dtype=float).reshape(-1, 2)

    workers, wxy = nodes("worker")
    relays, rxy = nodes("relay")
    _, sxy = nodes("server")
    ax.scatter(wxy[:, 0], wxy[:, 1], s=6 if many else 140, c="tab:blue", marker="o", zorder=4)
    ax.scatter(rxy[:, 0], rxy[:, 1], s=240, c="tab:orange", marker="s", zorder=4)
    ax.scatter(sxy[:, 0], sxy[:, 1], s=500, c="tab:red", marker="h", zorder=4)
    x, y = pos[SERVER]
    ax.text(x, y + 0.15, SERVER, fontsize=8, ha="center", va="bottom", zorder=5)
    if len(relays) <= 60:
        for v in relays:
            x, y = pos[v]
            ax.text(x + 0.12, y + 0.12, v, fontsize=7, ha="left", va="bottom", zorder=5)
    if not many:
        for v in workers:
            x, y = pos[v]
            ax.text(x, y, v[1:], fontsize=6, ha="center", va="center", color="white", zorder=5)

    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.6)
    fig.savefig(out, format=fmt, metadata={"Date": None} if fmt == "svg" else None)


# ------------------------------------------------------------------------------ configs


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


def _server_only() -> nx.Graph:
    g = nx.Graph()
    g.add_node(SERVER, role="server")
    return g


def _last_mile(g: nx.Graph, j: int, to: str) -> None:
    g.add_node(f"w{j}", role="worker")
    g.add_edge(f"w{j}", to, latency_model=None, drop=None, last_mile=True, hop=None)


@topologies.register("star")
class StarTopology(Topology):
    """Every worker's route to the server is its own last-mile link only."""

    summary: ClassVar[str] = "a direct link from each worker to the server (default)"
    kind: Literal["star"] = "star"

    def build(self, m: int) -> Routes:
        _check_m(m)
        g = _server_only()
        for j in range(m):
            _last_mile(g, j, SERVER)
        return Routes(graph=g, hops=(), route=((),) * m)


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
        return Routes(graph=g, hops=tuple(hops), route=tuple(route))


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
        p = self.resolved_path()
        where = f"graphml topology {self.path!r}"
        if not p.exists():
            shown = "" if str(p) == self.path else f" (looked for {p})"
            raise ValueError(f"{where}: file not found{shown}")
        if not p.is_file():
            raise ValueError(f"{where}: not a file ({p})")
        try:
            return nx.read_graphml(p)
        except ET.ParseError as exc:
            raise ValueError(f"{where}: unreadable XML: {exc}") from None
        except OSError as exc:
            raise ValueError(f"{where}: cannot read: {exc.strerror or exc}") from None
        except (nx.NetworkXError, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{where}: not a valid GraphML graph: {exc}") from None

    def build(self, m: int) -> Routes:
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
        return Routes(graph=g, hops=tuple(hops), route=tuple(route))


# ------------------------------------------------------------------------------ parsing


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
