"""When the server stops waiting for a round's reports: ``all``, ``quorum`` + grace, timeout.

A :class:`Barrier` holds no clock. A driver tells it what happened (a report was heard
from, a timer went off) and it answers with a decision: :class:`Fire` (stop waiting now,
for this reason) or :class:`Arm` (start the grace timer, due at ``at``), or None.

The rules (docs/scenario.md, ``[server]``):

* ``all`` — every worker has been heard from (a report accepted or rejected);
* ``quorum`` — ``grace`` seconds after the ``quorum``-th *accepted* report (at once when
  ``grace`` is 0);
* ``timeout`` — ``round_timeout`` seconds after the broadcast.

The first decision to fire wins; later ones are ignored. At one instant, reports count
before timers (a report arriving exactly at the timeout is in time), and the round's
timeout, armed when the round opened, goes off before a grace timer due at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ALL", "QUORUM", "TIMEOUT", "Arm", "Barrier", "Decision", "Fire"]

ALL, QUORUM, TIMEOUT = "all", "quorum", "timeout"


@dataclass(frozen=True)
class Fire:
    """Stop waiting: the barrier fires now, for ``reason`` (``all``/``quorum``/``timeout``)."""

    reason: str


@dataclass(frozen=True)
class Arm:
    """Start the grace timer: call :meth:`Barrier.timer` with ``quorum`` ``delay`` seconds
    from now (at ``at``)."""

    at: float
    delay: float


Decision = Fire | Arm | None


class Barrier:
    """One round's barrier.

    Args:
        workers: m.
        timeout: ``round_timeout`` (seconds after the broadcast).
        quorum: accepted reports that make a quorum, or None for the ``all`` barrier.
        grace: seconds to keep waiting once the quorum is in.
    """

    __slots__ = (
        "armed",
        "deadline",
        "fired_at",
        "grace",
        "grace_at",
        "quorum",
        "reason",
        "timeout",
        "workers",
    )

    def __init__(
        self, workers: int, timeout: float, quorum: int | None = None, grace: float = 0.0
    ) -> None:
        if quorum is not None and not 1 <= quorum <= workers:
            raise ValueError(f"quorum must be in 1..{workers}, got {quorum}")
        if grace < 0:
            raise ValueError(f"grace must be >= 0, got {grace}")
        self.workers = workers
        self.timeout = timeout
        self.quorum = quorum
        self.grace = grace
        self.deadline = 0.0
        self.reason: str | None = None
        self.fired_at = float("inf")
        self.armed = False
        self.grace_at = float("inf")

    def open(self, start: float) -> float:
        """A round opens at ``start``; returns when its timeout is due."""
        self.reason = None
        self.fired_at = float("inf")
        self.armed = False
        self.grace_at = float("inf")
        self.deadline = start + self.timeout
        return self.deadline

    def admits(self, now: float) -> bool:
        """A report of this round arriving at ``now`` is in time: the barrier has not
        fired, or fired at ``now`` (at one instant reports count first). A live clock can
        hand over a report after the barrier fired and before the round is closed: it is
        late, as it would be on the simulated clock."""
        return now <= self.fired_at

    @property
    def fired(self) -> bool:
        """The barrier has fired this round."""
        return self.reason is not None

    def heard(self, heard: int, accepted: int, now: float) -> Decision:
        """A report was counted: ``heard`` workers heard from, ``accepted`` of them kept."""
        if self.reason is not None:
            return None
        decision: Decision = None
        if self.quorum is not None and not self.armed and accepted >= self.quorum:
            self.armed = True
            if self.grace > 0:
                self.grace_at = now + self.grace
                decision = Arm(self.grace_at, self.grace)
            else:
                self.reason, self.fired_at = QUORUM, now
                return Fire(QUORUM)
        if heard == self.workers:
            self.reason, self.fired_at = ALL, now
            return Fire(ALL)
        return decision

    def due(self, now: float) -> Decision:
        """Fire for a timer that should already have gone off before ``now``.

        A live clock may hand over a message after a timer's due time but before the
        timer itself: the timer still comes first (the earlier one; the timeout on a tie).
        """
        if self.reason is not None:
            return None
        if now > self.deadline and self.deadline <= self.grace_at:
            return self.timer(TIMEOUT)
        if now > self.grace_at:
            return self.timer(QUORUM)
        return None

    def resolve(self, arrivals: np.ndarray, accepted: np.ndarray) -> tuple[float, str]:
        """The round in closed form: when the barrier fires and why (see :meth:`firing`);
        the barrier is then fired."""
        at, reason, grace_at = self._firing(arrivals, accepted)
        self.reason, self.fired_at, self.grace_at = reason, at, grace_at
        return at, reason

    def firing(self, arrivals: np.ndarray, accepted: np.ndarray) -> tuple[float, str]:
        """When the barrier would fire and why, the barrier left as it is.

        ``arrivals``: ``(m,)`` when each worker's report of this round reaches the server
        (inf: never); ``accepted``: which of them pass validation. At one instant reports
        count before timers and the timeout before the grace timer, as in :meth:`heard`
        and :meth:`timer` driven by an event loop; every report arriving at or before the
        returned time is in.
        """
        at, reason, _ = self._firing(arrivals, accepted)
        return at, reason

    def _firing(self, arrivals: np.ndarray, accepted: np.ndarray) -> tuple[float, str, float]:
        """(when, why, the grace timer's due time) of :meth:`firing`."""
        best = (self.deadline, 1, TIMEOUT)  # (time, order at one instant, reason)
        grace_at = self.grace_at
        heard = arrivals[np.isfinite(arrivals)]
        if heard.size == self.workers and heard.size:
            best = min(best, (float(heard.max()), 0, ALL))
        if self.quorum is not None:
            kept = arrivals[accepted & np.isfinite(arrivals)]
            if kept.size >= self.quorum:
                reached = float(np.partition(kept, self.quorum - 1)[self.quorum - 1])
                if self.grace > 0:
                    grace_at = reached + self.grace
                    best = min(best, (grace_at, 2, QUORUM))
                else:  # checked before ``all`` at the report that completes both
                    best = min(best, (reached, -1, QUORUM))
        return best[0], best[2], grace_at

    def timer(self, kind: str) -> Decision:
        """The ``timeout`` or the ``quorum`` (grace) timer went off (at its due time)."""
        if self.reason is not None:
            return None
        self.reason = kind
        self.fired_at = self.deadline if kind == TIMEOUT else self.grace_at
        return Fire(kind)
