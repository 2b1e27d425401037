"""Drawing a built topology (:meth:`Routes.draw`): a layered layout and a matplotlib figure.

matplotlib is imported on first use.
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from bgdsim.network.latency import LatencyModel
from bgdsim.network.topology._nodes import SERVER, _natural_key

if TYPE_CHECKING:
    from bgdsim.network.topology.routes import Routes


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
