"""What the round engine tells its driver: wait, stop, a round opened, messages to forward.

A group is a list of ``(delay, workers)`` in the order the driver must schedule them:
events due at one instant are handled in scheduling order, as the SimPy runtime (the
reference semantics) does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bgdsim.engine.planned import PlannedRound
from bgdsim.network.faults import Fault

__all__ = [
    "Forward",
    "Groups",
    "Opened",
    "Progress",
    "Stop",
    "TimedFault",
    "Wait",
    "group_by_delay",
    "grouped",
]

Progress = Callable[[int, int], None]
Groups = list[tuple[float, list[int]]]
TimedFault = tuple[float, str, Fault]


@dataclass(frozen=True)
class Wait:
    """The server is paused: call :meth:`RoundEngine.begin_round` again after ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Stop:
    """No more rounds: ``status`` is ``completed``, ``paused`` or ``diverged``."""

    status: str


@dataclass(frozen=True)
class Opened:
    """Round ``plan.t`` is open: deliver the ``down`` groups, time out ``timeout`` seconds
    from now (at ``deadline``)."""

    plan: PlannedRound
    down: Groups
    deadline: float
    timeout: float


@dataclass(frozen=True)
class Forward:
    """After a broadcast arrived: reports on their way now (``up``) and later (``send``)."""

    up: Groups
    send: Groups


def group_by_delay(delays: np.ndarray, workers: np.ndarray) -> Groups:
    """:func:`grouped` for arrays: one group per distinct delay, by first appearance."""
    if not delays.size:
        return []
    values, first, inverse = np.unique(delays, return_index=True, return_inverse=True)
    members = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=values.size))[:-1]
    chunks = np.split(workers[members], bounds)
    return [(float(values[g]), chunks[g].tolist()) for g in np.argsort(first, kind="stable")]


def grouped(delays: list[float], workers: list[int]) -> Groups:
    """``(delay, workers)`` per distinct delay, in first-appearance order."""
    if len(workers) < 2:
        return [(delays[0], workers)] if workers else []
    groups: dict[float, list[int]] = {}
    for delay, j in zip(delays, workers, strict=True):
        groups.setdefault(delay, []).append(j)
    return list(groups.items())
