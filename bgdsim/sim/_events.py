"""The SimPy runtime's building blocks: coalesced message events and per-worker accounting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import simpy
from simpy.events import Event, EventPriority

__all__ = ["ARRIVAL", "Accounting", "At", "schedule_groups"]

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
    delays: dict[float, list[int]],
    callback: Callable[[Any], None],
    data: Any,
) -> None:
    """One :class:`At` per distinct delay, in first-appearance (= insertion) order."""
    for delay, workers in delays.items():
        At(env, delay, workers, callback, data)


class Accounting:
    """Per-worker message counts, both directions, and how each barrier fired."""

    KEYS = (
        "down_sent",
        "down_delivered",
        "down_dropped",
        "up_sent",
        "up_delivered",
        "up_dropped",
        "up_late",
        "up_rejected",
    )

    def __init__(self, m: int) -> None:
        self.per_worker: dict[str, list[int]] = {key: [0] * m for key in self.KEYS}
        self.barrier = {"all": 0, "quorum": 0, "timeout": 0}
        self.aggregate_skipped = 0

    def totals(self) -> dict[str, int]:
        """Totals over the workers, plus barrier reasons and skipped aggregations."""
        out = {key: sum(counts) for key, counts in self.per_worker.items()}
        out.update({f"barrier_{reason}": n for reason, n in self.barrier.items()})
        out["aggregate_skipped"] = self.aggregate_skipped
        out["up_in_flight"] = out["up_sent"] - out["up_dropped"] - out["up_delivered"]
        out["up_in_flight"] -= out["up_late"] + out["up_rejected"]
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Per-worker counts as ``(m,)`` arrays."""
        return {key: np.asarray(counts) for key, counts in self.per_worker.items()}
