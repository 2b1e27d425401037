"""A span's up-link reports on their way through ``replay --verify``.

:class:`Sends` holds the recorded sends still waiting for their arrival (FIFO per round
and worker). :func:`pair` pairs a span's arrivals with their sends one message at a time
(the reference the columnar :func:`bgdsim.replay._batch.pair` must agree with), giving
the sequential path's ``(kind, round, worker, ref, reason, time)`` tuples;
:class:`Arrivals` is the same in columns. :class:`Mismatch` is the first recomputed
quantity that differs from the log, on either path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from bgdsim import events as ev
from bgdsim.msglog import EVENT_NAMES, expand, payload_reference

__all__ = ["Arrival", "Arrivals", "Mismatch", "Ref", "Sends", "pair"]

Arrival = tuple[str, int, int, Any, str | None, float]  # (kind, round, worker, ref, reason, time)


class Mismatch(Exception):
    """The first recomputed quantity that differs from the log; ``round``: where it is
    (None: the round being verified; 0: the header)."""

    def __init__(self, what: str, detail: str, round: int | None = None) -> None:
        super().__init__(what, detail)
        self.what, self.detail, self.round = what, detail, round


Ref = dict[str, Any] | tuple[int, str] | None  # a payload reference, or (offset, spec)


class Sends:
    """Recorded up-link sends not yet paired with an arrival, FIFO per (round, worker)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.rounds: dict[int, dict[int, list[Ref]]] = {}

    def add(self, r: int, j: int, ref: Ref) -> None:
        self.rounds.setdefault(r, {}).setdefault(j, []).append(ref)

    def waiting(self, r: int, j: int) -> bool:
        """A send of worker j in round r is waiting for its arrival."""
        workers = self.rounds.get(r)
        return bool(workers and workers.get(j))

    def overlap(self, rounds: np.ndarray, workers: np.ndarray) -> bool:
        """Any of these (round, worker) pairs has a send waiting."""
        if not self.rounds or not rounds.size:
            return False
        lo, hi = int(rounds.min()), int(rounds.max())
        for r in [lo] if lo == hi else np.unique(rounds).tolist():
            waiting = self.rounds.get(r)
            if waiting and any(waiting.get(j) for j in workers[rounds == r].tolist()):
                return True
        return False

    def take(self, r: int, j: int) -> dict[str, Any] | None:
        """The oldest waiting send of worker j in round r (it must exist)."""
        workers = self.rounds[r]
        ref = workers[j].pop(0)
        if not workers[j]:
            del workers[j]
            if not workers:
                del self.rounds[r]
        return payload_reference(ref[0], ref[1], self.dim) if isinstance(ref, tuple) else ref


@dataclass
class Arrivals:
    """A span's up-link arrivals in time order (stable), each with its send's payload.

    ``offset`` is the byte offset of a ``(d,)`` float64 payload, or -1 when ``refs``
    holds the payload's reference instead (another spec, no payload, an earlier send).
    """

    kind: np.ndarray  # event codes: deliver, late, rejected
    round: np.ndarray
    worker: np.ndarray
    time: np.ndarray
    offset: np.ndarray
    refs: dict[int, dict[str, Any] | None]
    reason: np.ndarray  # codes into ``words``
    words: list[str | None]

    def __len__(self) -> int:
        return int(self.kind.size)

    def tuples(self, dim: int) -> list[Arrival]:
        """As the sequential path's ``(kind, round, worker, ref, reason, time)``."""
        columns = (self.kind, self.round, self.worker, self.offset, self.reason, self.time)
        out = []
        for i, (k, r, j, off, code, t) in enumerate(
            zip(*(c.tolist() for c in columns), strict=True)
        ):
            ref = self.refs[i] if off < 0 else {"offset": off, "shape": [dim]}
            out.append((EVENT_NAMES[k], r, j, ref, self.words[code], t))
        return out


def pair(table: pa.Table | None, sends: Sends, dim: int) -> list[Arrival]:
    """A span's arrivals in time order, each paired with its send, one message at a time;
    its sends are registered first (they wait in ``sends`` until their arrival).

    Raises:
        Mismatch: an arrival with no recorded send.
    """
    rows = [] if table is None else list(expand(table, dim))
    for e in rows:
        if e["dir"] == "up" and e["event"] == ev.SEND:
            sends.add(e["round"], e["worker"], e["payload"])
    came = [e for e in rows if e["dir"] == "up" and e["event"] in ev.ARRIVALS]
    came.sort(key=lambda e: e["time"])  # stable: the record's order within ties
    out: list[Arrival] = []
    for e in came:
        r, j = e["round"], e["worker"]
        if not sends.waiting(r, j):
            raise Mismatch("reports", f"{e['event']} of worker {j} with no recorded send")
        out.append((e["event"], r, j, sends.take(r, j), e.get("reason"), e["time"]))
    return out
