"""The SimPy runtime's building block: coalesced message events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import Event, EventPriority

__all__ = ["ARRIVAL", "At", "schedule_groups"]

# A message reaching its destination is processed before a round timeout due at the same
# instant (simpy.Timeout uses NORMAL = 1): a report arriving exactly at the timeout is in.
ARRIVAL = EventPriority(0)


class At(Event):
    """Messages to ``workers`` that all arrive ``delay`` seconds from now (cf. simpy.Timeout).

    Messages sent at one instant with the same latency arrive at the same instant; they
    share one event, handled in worker order. Events are processed by (time, priority,
    insertion), and such messages would have been inserted back to back, so coalescing
    them changes nothing in the run or its log — it only saves SimPy events (with a
    constant latency, a round costs a handful of events instead of 2m).
    """

    __slots__ = ("data", "workers")

    def __init__(
        self,
        env: simpy.Environment,
        delay: float,
        workers: list[int],
        callback: Callable[[Any], None],
        data: Any = None,
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        self.workers = workers
        self.data = data
        env.schedule(self, ARRIVAL, delay)


def schedule_groups(
    env: simpy.Environment,
    groups: list[tuple[float, list[int]]],
    callback: Callable[[Any], None],
    data: Any,
) -> None:
    """One :class:`At` per ``(delay, workers)`` group, in the given (= insertion) order."""
    for delay, workers in groups:
        At(env, delay, workers, callback, data)
