"""Attacks: what the Byzantine workers of a round send.

An attack is a pure function ``attack(view, rng, **params) -> messages`` registered by
name. ``view`` is the omniscient adversary's :class:`AdversaryView` of the round (every
honest gradient, the Byzantine set, θ, the server's rule); ``rng`` is the attack's own
random stream. It returns a ``(len(view.byzantine), d)`` array — one message per
Byzantine worker, in the order of ``view.byzantine`` — or a list of such messages (which
may be malformed on purpose), or ``None`` for silence, or a :class:`Crafted` that also
says how long each Byzantine worker waits before sending (timing attacks). Tunable
parameters are keyword-only arguments, validated against the scenario's
the attack's table (``attack = { kind = "sign_flip", scale = 10 }``) before the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bgdsim.registry import GROUPS, Registry

__all__ = ["AdversaryView", "Attack", "Crafted", "get", "names", "registry"]


@dataclass(frozen=True)
class AdversaryView:
    """Everything the paper's adversary knows when it writes round ``round``'s messages.

    Attributes:
        round: t, 1-based.
        theta: θ_{t-1}, the parameter the server broadcast.
        honest: ``(m, d)`` honest local gradients ∇f̄_j(θ_{t-1}) of *all* workers
            (the Byzantine workers' rows are what they would have sent if honest).
        byzantine: sorted indices B_t of this round's Byzantine workers.
        q: the bound on |B_t|.
        aggregator: the server's rule, by name.
        batches: the server's k.
        params: the rule's parameters exactly as the server passes them (``batches``
            included for rules that batch).
        aggregate: the server's rule as a function of an ``(n, d)`` array, with this
            round's parameters and random bits, its pre-aggregators included (the paper's
            adversary knows the server's program and its randomness); ``None`` only in
            hand-built views.
        missing: the server's missing-report policy.
        history: ``(t, d)`` past iterates θ_0 … θ_{t-1}.
        round_timeout: seconds the server waits after the broadcast.
        max_norm: the server's norm cap on reports (``server.max_norm``), or ``None``.
        compute_time: seconds a worker computes before replying (the median over the
            workers this round; each worker's own in ``compute_times``).
        compute_times: ``(m,)`` each worker's compute time this round, or ``None``.
        latency_down, latency_up: ``(m,)`` this round's link latencies as the messages
            will see them, faults that slow links down included (the network is part of
            what the adversary observes), or ``None``.
        batch_order: the order in which the server lays out the m reports before forming
            its consecutive batches this round (a re-batching gmom's permutation), or
            ``None`` for worker order (and under pre-aggregators, whose outputs the rule
            batches: ``aggregate`` is then the way to evaluate the rule).
        corrupted: ``corrupted(workers, kind, strength)`` → the ``(len(workers), d)``
            gradients those workers compute at θ_{t-1} on corrupted local data (see
            ``Problem.corrupted_gradients``); ``None`` in hand-built views.
        pre: the server's pre-aggregators (``server.pre``) as component tables, in the
            order applied before the rule; empty for none.

    The view holds nothing from later rounds: θ_t, later gradients and later sets are not
    computed when it is built.
    """

    round: int
    theta: np.ndarray
    honest: np.ndarray
    byzantine: np.ndarray
    q: int
    aggregator: str
    batches: int
    params: dict[str, Any] = field(default_factory=dict)
    aggregate: Callable[[np.ndarray], np.ndarray] | None = None
    missing: str = "zero"
    history: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    round_timeout: float = float("inf")
    max_norm: float | None = None
    compute_time: float = 0.0
    compute_times: np.ndarray | None = None
    latency_down: np.ndarray | None = None
    latency_up: np.ndarray | None = None
    batch_order: np.ndarray | None = None
    corrupted: Callable[[np.ndarray, str, float], np.ndarray] | None = None
    pre: list[dict[str, Any]] = field(default_factory=list)

    @property
    def m(self) -> int:
        """The number of workers."""
        return int(self.honest.shape[0])

    @property
    def dim(self) -> int:
        """d."""
        return int(self.honest.shape[1])

    def with_byzantine(self, byzantine: np.ndarray) -> AdversaryView:
        """The same view with B_t set (schedules see the view before B_t exists)."""
        return dataclasses.replace(self, byzantine=np.asarray(byzantine, dtype=np.int64))

    def server_aggregate(self, vectors: np.ndarray) -> np.ndarray:
        """Run the server's actual rule on ``vectors`` (raises if the view has none)."""
        if self.aggregate is None:
            raise ValueError("this view carries no server aggregator")
        return self.aggregate(vectors)

    @property
    def honest_mask(self) -> np.ndarray:
        """Boolean mask of the workers that are honest this round."""
        mask = np.ones(self.honest.shape[0], dtype=bool)
        mask[self.byzantine] = False
        return mask

    def honest_mean(self) -> np.ndarray:
        """Mean of the honest workers' gradients (all workers' if every worker is Byzantine)."""
        mask = self.honest_mask
        rows = np.compress(mask, self.honest, axis=0) if mask.any() else self.honest
        return rows.mean(axis=0)  # compress: the rows of honest[mask], gathered faster


@dataclass(frozen=True)
class Crafted:
    """An attack's messages plus when to send them.

    Attributes:
        messages: as an attack's plain return value (array, list, or None for silence).
        delays: ``(len(B_t),)`` extra seconds each Byzantine worker waits, after its
            broadcast arrived and its compute time, before sending (≥ 0); None: none.
    """

    messages: np.ndarray | list[np.ndarray] | None
    delays: np.ndarray | None = None


Attack = Callable[..., "np.ndarray | list[np.ndarray] | Crafted | None"]
registry: Registry[Attack] = Registry("attack", GROUPS["attack"])
register: Callable[[str], Callable[[Attack], Attack]] = registry.register


def get(name: str) -> Attack:
    """The attack called ``name`` (``UnknownNameError`` with "did you mean" if none)."""
    return registry.get(name)


def names() -> list[str]:
    """Names of all registered attacks."""
    return registry.names()


# Import the attack modules for their registrations (`names()` lists them sorted).
from bgdsim.attacks import (  # noqa: E402
    alie,
    data_poison,
    gaussian,
    gm_shift,
    ipm,
    large_norm,
    malformed,
    mimic,
    min_max,
    min_sum,
    sign_flip,
    silent,
    timing,
    zero,
)

del alie, data_poison, gaussian, gm_shift, ipm, large_norm, malformed, mimic, min_max, min_sum
del sign_flip, silent, timing, zero
