"""The network: link models (latency, loss, bandwidth), topologies and scripted faults."""

from bgdsim.network.faults import Fault, FaultSchedule
from bgdsim.network.latency import LatencyModel, latencies, parse_latency
from bgdsim.network.loss import LossModel, losses, parse_loss
from bgdsim.network.topology import Routes, Topology, parse_topology, topologies

__all__ = [
    "Fault",
    "FaultSchedule",
    "LatencyModel",
    "LossModel",
    "Routes",
    "Topology",
    "latencies",
    "losses",
    "parse_latency",
    "parse_loss",
    "parse_topology",
    "topologies",
]
