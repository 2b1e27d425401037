"""What every worker sends in one round: :class:`RoundPlan` and its :class:`Messages`.

The :class:`~bgdsim.adversary.Adversary` builds one plan per round: the honest gradients
as a block, B_t's rows overwritten by the attack's messages, the messages that are not a
row (silence, a malformed message) kept aside, and each worker's extra delay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

__all__ = ["Messages", "RoundPlan"]


class Messages(Sequence[np.ndarray | None]):
    """Each worker's message: row j of the round's block unless set otherwise.

    A list of m row views would cost O(m) Python every round; this holds the block and
    the few messages (silence, a malformed message) that are not one of its rows.
    """

    __slots__ = ("block", "other")

    def __init__(self, block: np.ndarray) -> None:
        self.block = block
        self.other: dict[int, np.ndarray | None] = {}

    def __len__(self) -> int:
        return int(self.block.shape[0])

    @overload
    def __getitem__(self, j: int) -> np.ndarray | None: ...
    @overload
    def __getitem__(self, j: slice) -> list[np.ndarray | None]: ...
    def __getitem__(self, j: int | slice) -> Any:
        if isinstance(j, slice):
            return [self[i] for i in range(len(self))[j]]
        if j in self.other:
            return self.other[j]
        if not -len(self) <= j < len(self):
            raise IndexError(j)
        return self.block[j]

    def __setitem__(self, j: int, message: np.ndarray | None) -> None:
        self.other[j] = message


@dataclass
class RoundPlan:
    """What every worker sends in one round.

    Attributes:
        byzantine: B_t.
        block: ``(m, d)``: row j is worker j's report whenever that is a well-formed
            float vector (honest rows are the honest gradients).
        outgoing: per worker, the message (a view of ``block``'s row, another array for a
            malformed one), or None for silence.
        loose: the workers whose message is not a row of ``block``.
        delays: ``(m,)`` extra seconds each worker waits before sending (0 if honest).
    """

    byzantine: np.ndarray
    block: np.ndarray
    outgoing: Messages
    loose: set[int]
    delays: np.ndarray

    def as_received(self) -> np.ndarray:
        """The ``(m, d)`` matrix a server would aggregate if every message arrived on time
        and the silent or malformed ones counted as zero (the ``zero`` policy): a
        message that is not a row, or a row with a NaN or infinite entry, which the
        server's validation refuses."""
        x = self.block.copy()
        x[~np.isfinite(x).all(axis=1)] = 0.0
        for j in self.loose:
            x[j] = 0.0
        for j in self.byzantine.tolist():
            if self.outgoing[j] is None:
                x[j] = 0.0
        return x
