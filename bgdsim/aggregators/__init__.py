"""Aggregation rules: pure functions from the server's ``(n, d)`` reports to one ``(d,)`` step.

Every aggregator is registered by name and has the signature
``aggregate(vectors, **params) -> np.ndarray``; its tunable parameters are keyword-only
arguments, set in the scenario's aggregator table (``aggregator = { kind = "gmom",
batches = 20 }``) and checked before a run; k, the number of batches, is such a
parameter of the rules that batch.

A rule with *history* also declares a keyword ``state`` (supplied by the server, never
set in the scenario) and returns ``(aggregate, new_state)``: a pure function
``(vectors, state) -> (aggregate, new_state)``, ``state`` a float64 array (None in the
first round). The engine keeps the state between rounds (:func:`stateful` tells them
apart); ``centered_clipping_history`` is one.

A rule whose input precondition is unmet by the reports it is given — e.g. ``krum``'s
n ≥ 2f + 3 after the missing-report policy excluded some — raises
:class:`PreconditionError` (a ``ValueError``): the server then skips the round
(``aggregate_skipped``). Any other exception, a plain ``ValueError`` included, is a bug or
a bad parameter and stops the run.

>>> import numpy as np, bgdsim
>>> bgdsim.aggregators.get("mean")(np.array([[0.0, 0.0], [2.0, 4.0]]))
array([1., 2.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bgdsim.registry import GROUPS, Registry

#: ``fn(vectors, **params)`` -> a ``(d,)`` array, or ``(aggregate, new_state)`` for a rule
#: with history
Aggregator = Callable[..., Any]


class PreconditionError(ValueError):
    """The rule cannot run on these reports (e.g. too few of them for its f).

    Raised for a condition on the reports a round leaves after the missing-report policy
    (their number, or how many are finite), never for a malformed parameter or array:
    the server skips such a round instead of stepping. A ``ValueError``, so callers that
    catch ``ValueError`` still do.
    """


registry: Registry[Aggregator] = Registry("aggregator", GROUPS["aggregator"])
register: Callable[[str], Callable[[Aggregator], Aggregator]] = registry.register


def get(name: str) -> Aggregator:
    """The aggregator called ``name`` (``UnknownNameError`` with "did you mean" if none)."""
    return registry.get(name)


def names() -> list[str]:
    """Names of all registered aggregators."""
    return registry.names()


#: parameters the server supplies itself to the rules that declare them
SUPPLIED = ("f", "rng", "weights", "state")


def takes(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` declares the parameter ``name``."""
    import inspect

    return name in inspect.signature(fn).parameters


def stateful(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is a rule with history: it takes ``state`` and returns
    ``(aggregate, new_state)``."""
    return takes(fn, "state")


def takes_batches(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` takes the server's ``batches`` (k) parameter."""
    return takes(fn, "batches")


def server_params(fn: Callable[..., Any], params: dict[str, Any], *, f: int) -> dict[str, Any]:
    """The scenario's ``params`` (k among them, as ``batches``) plus q as ``f``.

    ``rng`` (for rules with server randomness, e.g. gmom's re-batching) is supplied per
    round by :func:`call`, from a seed that the adversary also sees; ``weights`` (local
    sample counts, when they differ) by the server core, row for row.
    """
    out = dict(params)
    if takes(fn, "f"):
        out["f"] = f
    return out


def call(
    fn: Callable[..., Any],
    vectors: np.ndarray,
    params: dict[str, Any],
    *,
    f: int,
    seed: int,
) -> np.ndarray:
    """Run ``fn`` as the server does: supplied parameters added, ``rng`` from ``seed``.

    A rule with history is called as in its first round (``state=None``); its aggregate
    is returned.
    """
    full = server_params(fn, params, f=f)
    if takes(fn, "rng"):
        full["rng"] = np.random.default_rng(seed)
    if stateful(fn):
        return np.asarray(fn(vectors, state=None, **full)[0], dtype=np.float64)
    return np.asarray(fn(vectors, **full), dtype=np.float64)


# Import the rule modules for their registrations (`names()` lists them sorted).
from bgdsim.aggregators import (  # noqa: E402
    bulyan,
    centered_clipping,
    centered_clipping_history,
    coordinate_median,
    gmom,
    gmom_trimmed,
    krum,
    mean,
    pre,
    trimmed_mean,
)
from bgdsim.aggregators.geometric_median import geometric_median  # noqa: E402
from bgdsim.aggregators.gmom import batch_bounds, batch_means  # noqa: E402

__all__ = [
    "SUPPLIED",
    "Aggregator",
    "PreconditionError",
    "batch_bounds",
    "batch_means",
    "call",
    "geometric_median",
    "get",
    "names",
    "pre",
    "register",
    "registry",
    "server_params",
    "stateful",
    "takes",
    "takes_batches",
]
del (
    bulyan,
    centered_clipping,
    centered_clipping_history,
    coordinate_median,
    gmom,
    gmom_trimmed,
    krum,
    mean,
    trimmed_mean,
)
