"""Latency models: how long a message spends on a link, in simulated seconds.

A latency model is a small validated config object (pydantic) that draws a vector of
latencies from a generator in one call. Models register under their ``kind`` so that a
scenario names them as ``latency = { kind = "exponential", mean = 0.02 }``.

=============  ==========================  ====================================
kind           parameters                  distribution
=============  ==========================  ====================================
constant       ``value`` ≥ 0               δ(value)
uniform        ``low`` ≤ ``high``, ≥ 0     U[low, high]
exponential    ``mean`` > 0, ``shift`` ≥ 0  shift + Exp(mean)
lognormal      ``mu``, ``sigma`` > 0,       shift + exp(N(mu, sigma²))
               ``shift`` ≥ 0
pareto         ``scale`` > 0, ``shape``     shift + Pareto(x_m = scale, α = shape)
               > 0, ``shift`` ≥ 0           (heavy tail; no mean when α ≤ 1)
gamma          ``shape`` > 0, ``scale``     shift + Gamma(k = shape, θ = scale)
               > 0, ``shift`` ≥ 0
empirical      ``path``, ``column``,        shift + scale · (a value drawn with
               ``scale`` > 0, ``shift`` ≥ 0 replacement from a CSV trace)
=============  ==========================  ====================================

A relative trace ``path`` is resolved against the directory set with
:func:`latency_base_dir` (the scenario loader sets it to the scenario file's directory),
else against the current directory. The trace is read and checked once per process.

On top of the model's latency, a message of ``nbytes`` bytes on a link of ``bandwidth``
bytes per second spends :func:`transmission_time` = nbytes / bandwidth seconds being
sent; :func:`message_bytes` gives the size of a ``dim``-vector.

The base class, registry and :func:`parse_latency` live in
:mod:`bgdsim.network.latency.base`, the parametric models in
:mod:`bgdsim.network.latency.distributions`, the trace-based model and its base directory
in :mod:`bgdsim.network.latency.empirical`, and bandwidth in
:mod:`bgdsim.network.latency.bandwidth`; import them from here.
"""

from __future__ import annotations

from bgdsim.network.latency.bandwidth import message_bytes, transmission_time
from bgdsim.network.latency.base import LatencyModel, latencies, parse_latency
from bgdsim.network.latency.distributions import (
    ConstantLatency,
    ExponentialLatency,
    GammaLatency,
    LognormalLatency,
    ParetoLatency,
    UniformLatency,
)
from bgdsim.network.latency.empirical import (
    EmpiricalLatency,
    latency_base_dir,
    resolve_trace_path,
)

__all__ = [
    "ConstantLatency",
    "EmpiricalLatency",
    "ExponentialLatency",
    "GammaLatency",
    "LatencyModel",
    "LognormalLatency",
    "ParetoLatency",
    "UniformLatency",
    "latencies",
    "latency_base_dir",
    "message_bytes",
    "parse_latency",
    "resolve_trace_path",
    "transmission_time",
]
