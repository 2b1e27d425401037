"""Topologies: star, tree blocks, GraphML routes and their errors, drawing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest

from bgdsim.network.latency import ConstantLatency, ExponentialLatency
from bgdsim.network.topology import (
    GraphmlTopology,
    Routes,
    StarTopology,
    Topology,
    TreeTopology,
    parse_topology,
    topologies,
    topology_base_dir,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "topologies" / "two_level.graphml"


def _graphml(path: Path, edges: list[tuple[str, str, dict[str, Any]]], **kw: Any) -> str:
    g = nx.Graph(**kw)
    for u, v, data in edges:
        g.add_edge(u, v, **data)
    nx.write_graphml(g, path)
    return str(path)


def _chain(tmp_path: Path, name: str = "chain.graphml") -> str:
    """server — a — b (a chain of relays), w0, w1 under a, w2, w3 under b; w3 also under
    a, via a longer detour that shortest paths must avoid."""
    return _graphml(
        tmp_path / name,
        [
            ("server", "a", {"latency": 0.01}),
            ("a", "b", {"latency": 0.002, "drop": 0.1}),
            ("w0", "a", {}),
            ("w1", "a", {}),
            ("w2", "b", {}),
            ("w3", "b", {}),
        ],
    )


def test_registry_and_default_kind() -> None:
    assert topologies.names() == ["graphml", "star", "tree"]
    assert isinstance(parse_topology({}), StarTopology)
    tree = TreeTopology(relays=2)
    assert parse_topology(tree) is tree


def test_star_has_no_hops() -> None:
    routes = StarTopology().build(5)
    assert isinstance(routes, Routes)
    assert routes.hops == ()
    assert routes.route == ((),) * 5
    assert routes.m == 5
    assert routes.relays == ()
    assert routes.relays_of(3) == ()
    assert set(routes.graph.neighbors("server")) == {f"w{j}" for j in range(5)}
    for _, _, data in routes.graph.edges(data=True):
        assert data["latency_model"] is None
        assert data["drop"] is None
        assert data["last_mile"]


def test_tree_blocks_and_routes() -> None:
    topo = parse_topology(
        {"kind": "tree", "relays": 3, "relay_latency": {"kind": "exponential", "mean": 0.02}}
    )
    assert isinstance(topo, TreeTopology)
    assert [len(b) for b in topo.blocks(10)] == [4, 3, 3]
    routes = topo.build(10)
    assert [h.name for h in routes.hops] == ["relay0->server", "relay1->server", "relay2->server"]
    assert [h.relay for h in routes.hops] == ["relay0", "relay1", "relay2"]
    assert all(h.latency == ExponentialLatency(mean=0.02) and h.drop == 0 for h in routes.hops)
    assert routes.route == ((0,),) * 4 + ((1,),) * 3 + ((2,),) * 3
    np.testing.assert_array_equal(routes.workers_under("relay1"), [4, 5, 6])
    np.testing.assert_array_equal(routes.users(2), [7, 8, 9])
    assert routes.relays_of(0) == ("relay0",)
    assert routes.relays == ("relay0", "relay1", "relay2")
    assert routes.graph.edges["relay0", "server"]["latency_model"] == ExponentialLatency(mean=0.02)
    assert routes.graph.edges["w9", "relay2"]["latency_model"] is None
    assert not routes.users(0).flags.writeable


def test_tree_defaults_and_exact_split() -> None:
    routes = TreeTopology(relays=2).build(4)
    assert routes.hops[0].latency == ConstantLatency(value=0.005)
    assert routes.route == ((0,), (0,), (1,), (1,))
    assert [len(b) for b in TreeTopology(relays=4).blocks(4)] == [1, 1, 1, 1]


def test_graphml_routes(tmp_path: Path) -> None:
    routes = GraphmlTopology(path=_chain(tmp_path)).build(4)
    assert [h.name for h in routes.hops] == ["a->server", "b->a"]
    assert routes.hops[1].latency == ConstantLatency(value=0.002)
    assert routes.hops[1].drop == 0.1
    assert routes.hops[1].relay == "b"
    assert routes.route == ((0,), (0,), (1, 0), (1, 0))
    assert routes.relays_of(2) == ("b", "a")
    np.testing.assert_array_equal(routes.workers_under("a"), [0, 1, 2, 3])
    np.testing.assert_array_equal(routes.workers_under("b"), [2, 3])
    np.testing.assert_array_equal(routes.users(1), [2, 3])
    assert routes.graph.edges["w2", "b"]["latency_model"] is None
    assert routes.graph.edges["a", "b"]["hop"] == 1
    assert {v for v, r in routes.graph.nodes(data="role") if r == "relay"} == {"a", "b"}


def test_graphml_shortest_path_by_latency(tmp_path: Path) -> None:
    """Fewer hops is not shorter: w0 goes through the two fast relays; a dual-homed worker
    uses the edge its shortest route starts with."""
    path = _graphml(
        tmp_path / "g.graphml",
        [
            ("server", "slow", {"latency": 0.05}),
            ("server", "f1", {"latency": 0.01}),
            ("f1", "f2", {"latency": 0.01}),
            ("w0", "slow", {}),
            ("w0", "f2", {}),
            ("w1", "slow", {}),
            ("w2", "server", {}),
        ],
    )
    routes = GraphmlTopology(path=path).build(3)
    assert routes.relays_of(0) == ("f2", "f1")
    assert routes.relays_of(1) == ("slow",)
    assert routes.route[2] == ()
    np.testing.assert_array_equal(routes.workers_under("slow"), [1])
    assert routes.graph.edges["w0", "slow"]["hop"] is None


def test_graphml_ties_do_not_depend_on_file_order(tmp_path: Path) -> None:
    edges = [
        ("server", "left", {"latency": 0.01}),
        ("server", "right", {"latency": 0.01}),
        ("left", "leaf", {"latency": 0.01}),
        ("right", "leaf", {"latency": 0.01}),
        ("w0", "leaf", {}),
        ("w1", "left", {}),
        ("w1", "right", {}),
    ]
    a = GraphmlTopology(path=_graphml(tmp_path / "a.graphml", edges)).build(2)
    b = GraphmlTopology(path=_graphml(tmp_path / "b.graphml", edges[::-1])).build(2)
    assert [h.name for h in a.hops] == [h.name for h in b.hops]
    assert a.route == b.route
    assert a.relays_of(0) == ("leaf", "left")  # natural order breaks the tie


def test_graphml_directed_file_and_key_defaults(tmp_path: Path) -> None:
    g = nx.DiGraph()
    g.add_edge("r", "server", latency=0.003, drop=0.0)
    g.add_edge("server", "r", latency=0.003, drop=0.0)  # both directions: one link
    g.add_edge("r2", "r")  # takes the keys' defaults
    g.add_edge("w0", "r2")
    g.graph["edge_default"] = {"latency": 0.004, "drop": 0.5}
    nx.write_graphml(g, tmp_path / "d.graphml")
    routes = GraphmlTopology(path=str(tmp_path / "d.graphml")).build(1)
    assert [h.name for h in routes.hops] == ["r2->r", "r->server"]
    assert routes.hops[0].latency == ConstantLatency(value=0.004)
    assert routes.hops[0].drop == 0.5
    assert routes.hops[1].latency == ConstantLatency(value=0.003)
    assert routes.hops[1].drop == 0.0


def test_graphml_base_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _chain(tmp_path)
    with topology_base_dir(tmp_path):
        topo = parse_topology({"kind": "graphml", "path": "chain.graphml"})
    assert topo.build(4).m == 4  # remembers the base directory it was parsed under
    monkeypatch.chdir(tmp_path)
    assert GraphmlTopology(path="chain.graphml").build(4).m == 4  # default: the cwd


def test_shipped_example_builds() -> None:
    routes = GraphmlTopology(path=str(EXAMPLE)).build(12)
    assert routes.relays == ("agg0", "agg1", "tor0", "tor1", "tor2")
    assert routes.relays_of(5) == ("tor1", "agg0")  # not the 20 ms backup link
    assert routes.relays_of(11) == ("agg1",)  # dual-homed
    np.testing.assert_array_equal(routes.workers_under("agg1"), [8, 9, 10, 11])
    assert "tor1->agg1" not in {h.name for h in routes.hops}


def _bad(tmp_path: Path, edges: list[tuple[str, str, dict[str, Any]]]) -> GraphmlTopology:
    return GraphmlTopology(path=_graphml(tmp_path / "bad.graphml", edges))


OK = [("server", "r", {"latency": 0.01}), ("w0", "r", {}), ("w1", "server", {})]


@pytest.mark.parametrize(
    ("edges", "m", "fragment"),
    [
        ([("hub", "r", {}), ("w0", "r", {})], 1, "no node 'server'"),
        (OK, 3, "worker nodes must be exactly w0 … w2 for 3 workers: missing w2"),
        (OK, 1, "worker nodes must be exactly w0 for 1 worker: unexpected w1"),
        ([*OK, ("w01", "r", {})], 2, "unexpected w01"),
        (
            [*OK, ("w2", "x", {}), ("w3", "x", {}), ("x", "y", {}), ("w4", "r", {})],
            5,
            "disconnected: workers w2, w3 cannot reach the server",
        ),
        (
            [*OK[1:], ("server", "r", {"latency": -0.5})],
            2,
            "edge r–server: latency -0.5 must be >= 0",
        ),
        ([*OK[1:], ("server", "r", {"drop": 1.5})], 2, "edge r–server: drop 1.5 must be in [0, 1]"),
        ([*OK[1:], ("server", "r", {"latency": "fast"})], 2, "latency 'fast' is not a number"),
        (
            [*OK, ("w2", "r", {"latency": 0.0})],
            3,
            "edge w2–r is w2's last-mile link, modelled by the scenario's [network] latency "
            "and drop: remove its 'latency' attribute",
        ),
        ([*OK, ("w0", "w1", {})], 2, "edge w0–w1 joins two workers"),
        ([*OK, ("r", "r", {})], 2, "edge r–r: a self-loop"),
    ],
    ids=[
        "no-server",
        "missing-worker",
        "extra-worker",
        "odd-worker-id",
        "disconnected",
        "negative-latency",
        "drop-above-1",
        "latency-not-a-number",
        "last-mile-attribute",
        "worker-worker",
        "self-loop",
    ],
)
def test_graphml_errors(tmp_path: Path, edges: Any, m: int, fragment: str) -> None:
    topo = _bad(tmp_path, edges)
    with pytest.raises(ValueError, match=re.escape(fragment)) as exc:
        topo.build(m)
    assert str(exc.value).startswith(topo.path)  # names the file


def test_graphml_conflicting_duplicate_edge(tmp_path: Path) -> None:
    g = nx.MultiGraph()
    g.add_edge("server", "r", latency=0.01)
    g.add_edge("server", "r", latency=0.02)
    g.add_edge("w0", "r")
    nx.write_graphml(g, tmp_path / "multi.graphml")
    with pytest.raises(ValueError, match="edge r–server is given twice"):
        GraphmlTopology(path=str(tmp_path / "multi.graphml")).build(1)


def test_graphml_missing_and_unreadable_files(tmp_path: Path) -> None:
    with topology_base_dir(tmp_path):
        missing = GraphmlTopology(path="nope.graphml")
    with pytest.raises(ValueError, match=r"graphml topology 'nope.graphml': no such file"):
        missing.build(2)
    (tmp_path / "broken.graphml").write_text("<graphml><graph>")
    with pytest.raises(ValueError, match=r"'.*broken.graphml': unreadable XML"):
        GraphmlTopology(path=str(tmp_path / "broken.graphml")).build(2)
    with pytest.raises(ValueError, match="is a directory, not a regular file"):
        GraphmlTopology(path=str(tmp_path)).build(2)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"kind": "ring"}, "unknown topology 'ring'"),
        ({"kind": "tree", "relays": 0}, "relays: Input should be greater than or equal to 1"),
        ({"kind": "tree", "relays": 2.5}, "relays: Input should be a valid integer"),
        ({"kind": "tree", "relay_drop": 2}, "relay_drop: Input should be less than or equal to 1"),
        (
            {"kind": "tree", "relay_latency": {"kind": "constant", "value": -1}},
            "relay_latency: value: Input should be greater than or equal to 0",
        ),
        (
            {"kind": "tree", "relais": 2},
            "relais: unknown parameter of tree topology (did you mean 'relays'?); "
            "allowed: relays, relay_latency, relay_drop",
        ),
        ({"kind": "star", "relays": 2}, "unknown parameter of star topology; allowed: (none)"),
        ({"kind": "graphml"}, "path: Field required"),
        ({"kind": 1}, "kind must be a string"),
        ("tree", "must be a table"),
    ],
)
def test_bad_parameters_are_named(spec: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_topology(spec)


def test_build_checks_m() -> None:
    with pytest.raises(
        ValueError, match=re.escape("relays (5) must be <= the number of workers (3)")
    ):
        TreeTopology(relays=5).build(3)
    with pytest.raises(ValueError, match="integer >= 1"):
        StarTopology().build(0)


def test_routes_lookups_are_checked() -> None:
    routes = TreeTopology(relays=2).build(4)
    with pytest.raises(ValueError, match=r"unknown relay 'relay7' \(did you mean 'relay1'\?\)"):
        routes.workers_under("relay7")
    with pytest.raises(IndexError):
        routes.users(2)
    with pytest.raises(IndexError):
        routes.relays_of(4)


@pytest.mark.parametrize(
    ("topology", "m"),
    [
        (GraphmlTopology(path=str(EXAMPLE)), 12),
        (TreeTopology(relays=6, relay_drop=0.01), 300),
        (StarTopology(), 3),
    ],
    ids=["example", "tree-300", "star"],
)
def test_draw(tmp_path: Path, topology: Topology, m: int) -> None:
    routes = topology.build(m)
    for suffix in (".png", ".svg"):
        out = tmp_path / f"topology{suffix}"
        routes.draw(out, title="a topology")
        assert out.stat().st_size > 1000
    assert (tmp_path / "topology.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "topology.svg").read_bytes()
    with pytest.raises(ValueError, match=r"must be \.png or \.svg"):
        routes.draw(tmp_path / "topology.jpg")


def test_draw_unused_and_unreachable_relays(tmp_path: Path) -> None:
    path = _graphml(
        tmp_path / "odd.graphml",
        [
            ("server", "spare", {"latency": 0.01}),
            ("island", "island2", {"latency": 0.01}),
            ("w0", "server", {}),
            ("w1", "server", {}),
            ("w1", "island", {}),
        ],
    )
    routes = GraphmlTopology(path=path).build(2)
    assert routes.hops == ()
    assert routes.workers_under("island").size == 0
    routes.draw(tmp_path / "odd.png")
    assert (tmp_path / "odd.png").stat().st_size > 1000


def test_topology_base_class_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        Topology(kind="x").build(1)
