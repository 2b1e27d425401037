"""Aggregation rules: pure functions from the server's ``(n, d)`` reports to one ``(d,)`` step.

Every aggregator is registered by name and has the signature
``aggregate(vectors, **params) -> np.ndarray``; its tunable parameters are keyword-only
arguments (checked against the scenario's ``server.params`` before a run). ``batches`` is
supplied by the server from ``server.batches`` to the aggregators that take it.

>>> import numpy as np, bgdsim
>>> bgdsim.aggregators.get("mean")(np.array([[0.0, 0.0], [2.0, 4.0]]))
array([1., 2.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bgdsim.registry import Registry

Aggregator = Callable[..., np.ndarray]

registry: Registry[Aggregator] = Registry("aggregator")
register: Callable[[str], Callable[[Aggregator], Aggregator]] = registry.register


def get(name: str) -> Aggregator:
    """The aggregator called ``name`` (``UnknownNameError`` with "did you mean" if none)."""
    return registry.get(name)


def names() -> list[str]:
    """Names of all registered aggregators."""
    return registry.names()


def takes_batches(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` takes the server's ``batches`` (k) parameter."""
    import inspect

    return "batches" in inspect.signature(fn).parameters


# Import the modules for their registrations (order is the listing order of nothing).
from bgdsim.aggregators import gmom as _gmom  # noqa: E402
from bgdsim.aggregators import mean as _mean  # noqa: E402
from bgdsim.aggregators.geometric_median import geometric_median  # noqa: E402
from bgdsim.aggregators.gmom import batch_bounds, batch_means  # noqa: E402

__all__ = [
    "Aggregator",
    "batch_bounds",
    "batch_means",
    "geometric_median",
    "get",
    "names",
    "register",
    "registry",
    "takes_batches",
]
del _gmom, _mean
