"""Attacks: what the Byzantine workers of a round send.

An attack is a pure function ``attack(view, rng, **params) -> messages`` registered by
name. ``view`` is the omniscient adversary's :class:`AdversaryView` of the round (every
honest gradient, the Byzantine set, θ, the server's rule); ``rng`` is the attack's own
random stream. It returns a ``(len(view.byzantine), d)`` array — one message per
Byzantine worker, in the order of ``view.byzantine`` — or a list of such messages (which
may be malformed on purpose), or ``None`` for silence. Tunable
parameters are keyword-only arguments, validated against the scenario's
``adversary.params`` before the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bgdsim.registry import Registry

__all__ = ["AdversaryView", "Attack", "get", "names", "registry"]


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
    """

    round: int
    theta: np.ndarray
    honest: np.ndarray
    byzantine: np.ndarray
    q: int
    aggregator: str
    batches: int

    @property
    def honest_mask(self) -> np.ndarray:
        """Boolean mask of the workers that are honest this round."""
        mask = np.ones(self.honest.shape[0], dtype=bool)
        mask[self.byzantine] = False
        return mask

    def honest_mean(self) -> np.ndarray:
        """Mean of the honest workers' gradients (all workers' if every worker is Byzantine)."""
        mask = self.honest_mask
        rows = self.honest[mask] if mask.any() else self.honest
        return rows.mean(axis=0)


Attack = Callable[..., "np.ndarray | list[np.ndarray] | None"]
registry: Registry[Attack] = Registry("attack")
register: Callable[[str], Callable[[Attack], Attack]] = registry.register


def get(name: str) -> Attack:
    """The attack called ``name`` (``UnknownNameError`` with "did you mean" if none)."""
    return registry.get(name)


def names() -> list[str]:
    """Names of all registered attacks."""
    return registry.names()


from bgdsim.attacks import basic as _basic  # noqa: E402

del _basic
