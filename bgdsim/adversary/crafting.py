"""The omniscient, colluding adversary: :class:`Adversary`, a schedule and an attack.

Each round it lets the schedule choose B_t (with any ``byzantine`` fault's workers forced
in), checks |B_t| ≤ q, asks the attack for B_t's messages and assembles the round's
:class:`~bgdsim.adversary.RoundPlan`. It also lends the adaptive schedule its crafting,
for look-ahead trials on a stream of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bgdsim.adversary.plan import Messages, RoundPlan
from bgdsim.adversary.scheduling import AdaptiveSchedule, Schedule
from bgdsim.attacks import AdversaryView, Crafted

__all__ = ["Adversary"]


class Adversary:
    """The omniscient, colluding adversary: a schedule and an attack.

    Args:
        schedule: picks B_t.
        attack: writes B_t's messages (``bgdsim.attacks``).
        params: the attack's validated parameters.
        q: the bound on |B_t|.
        rng: the attack's random stream.
    """

    def __init__(
        self,
        schedule: Schedule,
        attack: Callable[..., Any],
        params: dict[str, Any],
        q: int,
        rng: np.random.Generator,
    ) -> None:
        self.schedule = schedule
        self.attack = attack
        self.params = params
        self.q = q
        self.rng = rng
        if isinstance(schedule, AdaptiveSchedule):
            schedule.craft = self._craft_trial

    def act(self, view: AdversaryView, forced: list[int] | None = None) -> RoundPlan:
        """Choose B_t from ``view`` (whose ``byzantine`` is ignored) and craft the round.

        ``forced`` workers (a ``byzantine`` fault) are in B_t whatever the schedule says;
        the schedule's choice fills the rest, in its order, up to q.
        """
        byz = np.asarray(self.schedule.choose(view.round, view), dtype=np.int64)
        if forced:
            extra = [j for j in byz.tolist() if j not in forced]
            byz = np.asarray(forced + extra[: max(self.q - len(forced), 0)], dtype=np.int64)
        if byz.size > self.q or np.unique(byz).size != byz.size:
            raise RuntimeError(f"schedule returned {byz.tolist()}: more than q={self.q} or repeats")
        if byz.size and not (byz.min() >= 0 and byz.max() < view.m):
            raise RuntimeError(f"schedule returned {byz.tolist()}: not workers 0..{view.m - 1}")
        return self.craft(view.with_byzantine(np.sort(byz)), self.rng)

    def _craft_trial(self, view: AdversaryView) -> RoundPlan:
        # the adaptive schedule's look-ahead draws from a generator seeded from the
        # schedule's own stream: trials never shift the attack's stream
        seed = int(self.schedule.rng.integers(2**63))
        return self.craft(view, np.random.Generator(np.random.PCG64(seed)))

    def craft(self, view: AdversaryView, rng: np.random.Generator) -> RoundPlan:
        m, d = view.m, view.dim
        block = view.honest.copy()
        outgoing = Messages(block)
        loose: set[int] = set()
        delays = np.zeros(m)
        byz = view.byzantine
        if byz.size:
            with np.errstate(all="ignore"):  # an attack may overflow; the server rejects it
                crafted = self.attack(view, rng, **self.params)
            messages = crafted.messages if isinstance(crafted, Crafted) else crafted
            if isinstance(crafted, Crafted) and crafted.delays is not None:
                extra = np.asarray(crafted.delays, dtype=np.float64)
                if extra.shape != (byz.size,) or not np.isfinite(extra).all() or (extra < 0).any():
                    raise RuntimeError("an attack's delays must be finite, >= 0, one per worker")
                delays[byz] = extra
            if _rows_of(messages, byz.size, d):  # the common case: one row per worker
                block[byz] = messages
                return RoundPlan(byz, block, outgoing, loose, delays)
            for i, j in enumerate(byz.tolist()):
                if messages is None:
                    outgoing[j] = None
                    continue
                msg = np.asarray(messages[i])
                if msg.shape == (d,) and msg.dtype == np.float64:
                    block[j] = msg  # outgoing[j] is a view of this row
                else:
                    outgoing[j] = msg
                    loose.add(j)
        return RoundPlan(byz, block, outgoing, loose, delays)


def _rows_of(messages: Any, n: int, d: int) -> bool:
    """``messages`` is an ``(n, d)`` float64 array: each row a well-formed message."""
    return (
        isinstance(messages, np.ndarray)
        and messages.dtype == np.float64
        and messages.shape == (n, d)
    )
