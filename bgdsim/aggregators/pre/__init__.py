"""Pre-aggregators: maps from the server's ``(n, d)`` reports to ``(n', d)`` vectors.

A pre-aggregator runs before the aggregation rule and hands it new vectors: nearest-neighbour
mixing (``nnm``), bucket means (``bucketing``), clipping (``clipping``,
``adaptive_clipping``, ``arc``). The scenario lists them in ``server.pre``, applied in
order, and they compose with every rule::

    [server]
    aggregator = "gmom"
    pre = [{ kind = "nnm" }, { kind = "bucketing", s = 2 }]

Each is a registered function ``pre(vectors, **params) -> (n', d) array`` whose tunable
parameters are keyword-only (validated like an aggregator's); the server supplies ``f``
(the scenario's q) and ``rng`` (this round's random bits, drawn from the server's seed so
that the adversary, ``replay --verify`` and re-runs reproduce them) to those that declare
them. One that cannot run on the reports it is given (e.g. ``nnm`` with n ≤ f) raises
:class:`~bgdsim.aggregators.PreconditionError`, and the round is skipped as for a rule.
:class:`~bgdsim.aggregators.pre.chain.Chain` applies a validated list of them.

>>> import numpy as np
>>> get("nnm")(np.array([[0.0], [1.0], [10.0]]), f=1).tolist()
[[0.5], [0.5], [5.5]]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bgdsim.registry import GROUPS, Registry

__all__ = [
    "SUPPLIED",
    "Chain",
    "PreAggregator",
    "get",
    "names",
    "parse_chain",
    "register",
    "registry",
]

PreAggregator = Callable[..., np.ndarray]

registry: Registry[PreAggregator] = Registry("pre-aggregator", GROUPS["pre-aggregator"])
register: Callable[[str], Callable[[PreAggregator], PreAggregator]] = registry.register

#: parameters the server supplies itself to the pre-aggregators that declare them
SUPPLIED = ("f", "rng")


def get(name: str) -> PreAggregator:
    """The pre-aggregator called ``name`` (``UnknownNameError`` with "did you mean" if none)."""
    return registry.get(name)


def names() -> list[str]:
    """Names of all registered pre-aggregators."""
    return registry.names()


# Import the modules for their registrations.
from bgdsim.aggregators.pre import bucketing, clipping, mixing  # noqa: E402
from bgdsim.aggregators.pre.chain import Chain, parse_chain  # noqa: E402

del bucketing, clipping, mixing
