"""A round as planned when it opens: :class:`PlannedRound`.

:meth:`~bgdsim.engine.world.World.plan_round` fixes what each worker sends, when, and
what becomes of it; runtimes only decide when its messages are delivered. The
closed-form round reads its arrays; the event-driven runtimes index its per-worker lists
per message (built on first use).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from bgdsim import adversary

__all__ = ["PlannedRound", "given"]


def given(values: list[Any]) -> np.ndarray:
    """``(n,)`` bool: which entries of a per-worker list are not None."""
    n = len(values)
    if values.count(None) == n:  # entries are strings or None: == is identity here
        return np.zeros(n, dtype=bool)
    return np.array([v is not None for v in values], dtype=bool)


def _sorted_set(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, without sorting when they are already increasing."""
    values = np.asarray(values, dtype=np.int64)
    if (values[1:] > values[:-1]).all():
        return values
    return np.unique(values)


class PlannedRound:
    """Round t as decided when it opens: what each worker sends, when, and its fate.

    A broadcast may arrive after its round's barrier (the next round is open by then); the
    worker still answers the round it was asked, with that round's message and up-link.
    Per-worker fields are arrays (``*_arr``, masks) for the closed-form round; the Python
    lists the event-driven runtimes index per message (``send_at``, ``sends``,
    ``up_latency``, ``byzantine``) are built on first use.
    """

    def __init__(
        self,
        t: int,
        start: float,
        plan: adversary.RoundPlan,
        verdicts: list[str | None],
        lat_down: np.ndarray,
        down_lost: list[str | None],
        send_at: np.ndarray,
        sends: np.ndarray,
        up_latency: np.ndarray,
        up_lost: list[str | None],
        seed: int,
    ) -> None:
        self.t = t
        self.start = start
        self.block = plan.block  # (m, d): every well-formed message as a row
        self.outgoing = plan.outgoing  # per worker: its message, or None for silence
        self.loose = plan.loose  # workers whose message is not a row of the block
        self.byzantine_arr = _sorted_set(plan.byzantine)  # B_t, sorted
        self.byzantine_mask = np.zeros(plan.block.shape[0], dtype=bool)
        self.byzantine_mask[self.byzantine_arr] = True
        self.verdicts = verdicts  # validate_report of each message (None: acceptable)
        self.lat_down = lat_down
        self.down_lost = down_lost  # why each broadcast is lost, or None
        self.down_lost_mask = given(down_lost)
        self.up_lost = up_lost  # why each report is lost, or None
        self.send_at_arr = np.asarray(send_at, dtype=np.float64)  # when each worker sends
        self.sends_arr = np.asarray(sends, dtype=bool)  # whether it sends at all
        self.up_latency_arr = np.asarray(up_latency, dtype=np.float64)
        self.up_lost_mask = given(up_lost)
        self.accepted = ~given(verdicts)
        self.seed = seed  # the server's random bits this round
        d = self.block.shape[1]
        self.shape, self.row_bytes = [d], 8 * d
        self.block_offset: int | None = None  # where the log stored the block
        self.loose_refs: dict[int, Any] = {}  # where it stored the loose messages

    @cached_property
    def send_at(self) -> list[float]:
        """When each worker sends, as a list."""
        return self.send_at_arr.tolist()

    @cached_property
    def sends(self) -> list[bool]:
        """Whether each worker sends at all, as a list."""
        return self.sends_arr.tolist()

    @cached_property
    def up_latency(self) -> list[float]:
        """Each worker's up-link latency, as a list."""
        return self.up_latency_arr.tolist()

    @cached_property
    def byzantine(self) -> set[int]:
        """B_t as a set."""
        return set(self.byzantine_arr.tolist())

    def store(self, store: Any) -> None:
        """Put the round's messages in the log (``store``: its ``payload`` method): the
        block, then every loose message in worker order."""
        ref = store(self.block)
        self.block_offset = None if ref is None else ref.get("offset")
        for j in sorted(self.loose):
            if self.outgoing[j] is not None:
                self.loose_refs[j] = store(self.outgoing[j])

    def payload_ref(self, j: int, store: Any) -> dict[str, Any] | None:
        """The log reference of worker j's message (a row of the stored block if it is one)."""
        if j in self.loose_refs:
            return self.loose_refs[j]
        if self.block_offset is None or j in self.loose:
            return store(self.outgoing[j])
        return {"offset": self.block_offset + j * self.row_bytes, "shape": self.shape}
