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

Modules
-------
:mod:`~bgdsim.network.topology.base` (the config base class, the registry and
:func:`parse_topology`), one module per kind (:mod:`~bgdsim.network.topology.star`,
:mod:`~bgdsim.network.topology.tree`, :mod:`~bgdsim.network.topology.graphml`),
:mod:`~bgdsim.network.topology.routes` (the built form) and
:mod:`~bgdsim.network.topology.basedir` (the base directory of GraphML paths); import
them from here.
"""

from __future__ import annotations

from bgdsim.network.topology._nodes import SERVER as SERVER
from bgdsim.network.topology.base import Topology, parse_topology, topologies
from bgdsim.network.topology.basedir import current_base_dir, topology_base_dir
from bgdsim.network.topology.graphml import GraphmlTopology
from bgdsim.network.topology.routes import Hop, Routes
from bgdsim.network.topology.star import StarTopology
from bgdsim.network.topology.tree import TreeTopology

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
