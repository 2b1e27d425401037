"""How much one TCP peer can make the server log: :class:`FrameBudget`.

What one peer can make the server log is bounded. A frame is *expected* when it is the
first report answering a task the server sent that worker (a θ or an adversary's
message, not ``silent``), in time or late: an honest worker only ever sends those, so an
honest run logs exactly what it logged before this budget. Every other frame — a second
report for a round, a report for a round it was given no task for, a frame rejected at
the transport — is an *extra*, counted per peer (the worker, or one pool for connections
that never said a valid hello) and per server round. Each peer may have ``FLOOD_BUDGET``
extras a round logged as before (a report's ``send`` and ``rejected``, a
``frame_rejected``; anonymous connections: ``max(m, FLOOD_BUDGET)``); past that its
frames are still read and their MACs checked (the sequence numbers stay in step; a bad
one still closes the connection), but they are dropped unlogged — no payload stored —
and counted. When the next round starts (or the run ends) the server logs ONE
``frame_flood`` event per flooding peer and round: ``round``, ``worker`` (none for the
anonymous pool), ``dropped``, ``budget`` and ``reason`` (the first dropped frame's). A
flooding worker is not disconnected: its expected reports still count, and the cost of
its flood is reading and hashing bytes, which the network rate bounds anyway. Before the
first round a report is refused (``frame_rejected``, the connection closed) under the
same budget, so a peer reconnecting and flooding while others connect is bounded too;
all of it is written after ``run_start`` (:class:`~bgdsim.live.tcp._ServerLog`).
"""

from __future__ import annotations

from bgdsim import events as ev

__all__ = ["FLOOD_BUDGET", "FRAME_FLOOD", "TASK_ROUNDS", "FrameBudget"]

#: extra frames (beyond the expected reports) per peer and round that are still logged
FLOOD_BUDGET = 2
#: the summary of a peer's frames dropped over its budget in one round
FRAME_FLOOD = ev.FRAME_FLOOD
#: how many rounds back a task may still be answered as expected
TASK_ROUNDS = 64


class FrameBudget:
    """Which frames are expected, and how many extras each peer has left in a round.

    A peer is a worker id, or None for connections that never said a valid hello.
    """

    def __init__(self, budget: int, anonymous: int) -> None:
        self.budget = budget
        self.anonymous = anonymous
        self.tasks: dict[int, set[int]] = {}  # round -> workers sent a task to answer
        self.extras: dict[tuple[int | None, int], int] = {}  # (peer, round) -> logged
        self.dropped: dict[tuple[int | None, int], tuple[int, str]] = {}  # -> count, first

    def task(self, t: int, j: int) -> None:
        """Worker j was sent a task of round t that it should answer."""
        self.tasks.setdefault(t, set()).add(j)

    def answers(self, j: int, t: int) -> bool:
        """A report of round t from worker j: is it the first answer to its task?"""
        pending = self.tasks.get(t)
        if pending is None or j not in pending:
            return False
        pending.discard(j)
        return True

    def limit(self, peer: int | None) -> int:
        """How many extras a round ``peer`` may have logged."""
        return self.anonymous if peer is None else self.budget

    def admit(self, peer: int | None, t: int, reason: str) -> bool:
        """An extra frame from ``peer`` in round t: log it (True), or drop and count it."""
        key = (peer, t)
        logged = self.extras.get(key, 0)
        if logged < self.limit(peer):
            self.extras[key] = logged + 1
            return True
        n, first = self.dropped.get(key, (0, reason))
        self.dropped[key] = (n + 1, first)
        return False

    def close(self, before: int | None = None) -> list[tuple[int | None, int, int, str]]:
        """The floods of the rounds before ``before`` (all if None), forgotten: (peer,
        round, dropped, first reason), by round then peer (the anonymous pool last).
        Tasks of rounds ``TASK_ROUNDS`` or more before ``before`` are forgotten too."""
        done = [k for k in self.dropped if before is None or k[1] < before]
        done.sort(key=lambda k: (k[1], k[0] is None, k[0] or 0))
        out = [(k[0], k[1], *self.dropped.pop(k)) for k in done]
        for key in [k for k in self.extras if before is None or k[1] < before]:
            del self.extras[key]
        if before is not None:  # tasks too old to be answered as expected
            for t in [t for t in self.tasks if t <= before - TASK_ROUNDS]:
                del self.tasks[t]
        return out
