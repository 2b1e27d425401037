"""Link models: latency distributions and message loss."""

from bgdsim.network.latency import LatencyModel, latencies, parse_latency

__all__ = ["LatencyModel", "latencies", "parse_latency"]
