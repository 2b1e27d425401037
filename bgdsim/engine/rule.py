"""The server's rule: the aggregator with its parameters, pre-aggregators and round bits.

:class:`ServerRule` is the one object both the server (at its barrier) and the omniscient
adversary (when it writes its messages) call, so the adversary sees exactly the rule the
server applies. A rule with history (:func:`bgdsim.aggregators.stateful`) is called with
the server's state, which the rule never keeps: :meth:`ServerRule.apply` returns the new
state and the :class:`~bgdsim.engine.server.ServerCore` decides when it counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bgdsim import aggregators
from bgdsim.aggregators.pre import Chain

__all__ = ["ServerRule"]


class ServerRule:
    """An aggregator bound to its parameters, after its pre-aggregators; called with a
    round's random bits (and, for a rule with history, the server's state).

    Args:
        fn: ``fn(vectors, **params) -> (d,)``, or for a rule with history
            ``fn(vectors, state=..., **params) -> ((d,), new_state)``.
        params: its keyword parameters (``batches`` and ``f`` included if it takes them).
        weights: per-worker weights for rules that take them (unequal data sizes); they
            follow the rows through pre-aggregators that keep one row per report (``nnm``,
            clipping) and are dropped after one that merges rows (``bucketing``).
        pre: the scenario's ``server.pre`` chain, applied to the reports first.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        params: dict[str, Any],
        weights: np.ndarray | None = None,
        pre: Chain | None = None,
    ) -> None:
        self.fn = fn
        self.params = params
        self.weights = weights
        self.pre = pre if pre else None
        self.random = aggregators.takes(fn, "rng")
        self.stateful = aggregators.stateful(fn)

    def apply(
        self,
        vectors: np.ndarray,
        seed: int | None = None,
        rows: np.ndarray | None = None,
        state: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(aggregate, new_state)`` of ``vectors`` with this round's bits ``seed``.

        ``rows``: which workers' weights apply (a boolean mask), when not all of them.
        ``state``: the server's state for a rule with history (the rule gets a copy);
        ``new_state`` is None for a rule without.
        """
        params, weights = self.params, self.weights
        if self.pre is not None:
            n = vectors.shape[0]
            vectors = self.pre(vectors, seed)
            if vectors.shape[0] != n:  # rows merged: no report's weight applies
                weights = None
        if self.random and seed is not None:
            params = {**params, "rng": np.random.default_rng(seed)}
        if weights is not None:
            params = {**params, "weights": weights if rows is None else weights[rows]}
        if not self.stateful:
            return np.asarray(self.fn(vectors, **params), dtype=np.float64), None
        given = None if state is None else state.copy()
        aggregate, new_state = self.fn(vectors, state=given, **params)
        return np.asarray(aggregate, dtype=np.float64), np.array(new_state, dtype=np.float64)

    def __call__(
        self,
        vectors: np.ndarray,
        seed: int | None = None,
        rows: np.ndarray | None = None,
        state: np.ndarray | None = None,
    ) -> np.ndarray:
        """The aggregate of ``vectors`` (see :meth:`apply`)."""
        return self.apply(vectors, seed, rows, state)[0]

    def describe(self, name: str) -> str:
        """The rule as a summary names it: ``nnm → bucketing(s=2) → name``."""
        return name if self.pre is None else f"{self.pre.describe()} → {name}"

    def for_round(
        self, seed: int, state: np.ndarray | None = None
    ) -> Callable[[np.ndarray], np.ndarray]:
        """The rule as the adversary sees it in a round: ``vectors -> aggregate``, from
        the server's committed ``state`` (calling it never changes that state)."""
        return lambda vectors: self(vectors, seed, None, state)

    def view_params(self) -> dict[str, Any]:
        """The parameters the adversary is shown (weights included)."""
        params = dict(self.params)
        if self.weights is not None:
            params["weights"] = self.weights
        return params
