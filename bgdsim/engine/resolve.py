"""The round in closed form: what the vector runtime computes instead of simulating.

When a round opens, :meth:`~bgdsim.engine.world.World.plan_round` has fixed every
latency, loss, send time and validation verdict. The round's messages then follow as
arrays, with no event per message:

* a broadcast reaches worker j at ``a_j = start + latency_down_j`` (unless lost);
* j sends at ``a_j + (send_at_j − a_j)`` if that wait is positive, else at ``a_j``;
* its report arrives at ``send + latency_up_j`` (unless lost or silent);
* the barrier fires at ``τ = min(all heard, quorum-th accepted + grace, timeout)``
  (:meth:`~bgdsim.engine.barrier.Barrier.resolve`); reports arriving at or before ``τ``
  are in, later ones are late.

These are the very float operations SimPy performs (event times are ``now + delay``), so
the times, outcomes and the log are bit-identical to the SimPy runtime's. An event of an
earlier round happens in the span of the first barrier at or after its time; events after
the run's end never happen.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bgdsim import events as ev
from bgdsim.engine.accounting import Accounting
from bgdsim.engine.barrier import Barrier
from bgdsim.engine.planned import PlannedRound
from bgdsim.engine.server import RoundInbox
from bgdsim.events import EventSink
from bgdsim.msglog import EVENT_CODES, payload_spec

__all__ = ["ClosedForm"]

_DOWN, _UP = 0, 1
_SEND, _DELIVER, _DROP = EVENT_CODES[ev.SEND], EVENT_CODES[ev.DELIVER], EVENT_CODES[ev.DROP]
_LATE, _REJECTED = EVENT_CODES[ev.LATE], EVENT_CODES[ev.REJECTED]
# which per-worker count an (direction, event) row adds to
_COUNTS = {
    (_DOWN, _DELIVER): "down_delivered",
    (_UP, _SEND): "up_sent",
    (_UP, _DROP): "up_dropped",
    (_UP, _DELIVER): "up_delivered",
    (_UP, _REJECTED): "up_rejected",
    (_UP, _LATE): "up_late",
}
# queued message events: (direction, the event of every row or None if they differ, columns)
_Queued = tuple[int, int | None, dict[str, Any]]


class ClosedForm:
    """Resolves rounds from their plans and logs their messages span by span.

    Args:
        log: the run's event sink.
        acct: the run's per-worker counts.
        dim: d (payload rows of the round's block are ``(d,)`` float64).
    """

    def __init__(self, log: EventSink, acct: Accounting, dim: int) -> None:
        self.log = log
        self.acct = acct
        self.dim = dim
        self.pending: list[_Queued] = []  # message events that have not happened yet

    def resolve(self, plan: PlannedRound, barrier: Barrier, inbox: RoundInbox) -> float:
        """Resolve round ``plan.t`` (opened at ``plan.start``): fill ``inbox`` with the
        reports that made it, queue every message event; return when the barrier fires."""
        t, start = plan.t, plan.start
        delivered = ~plan.down_lost_mask
        with np.errstate(over="ignore", invalid="ignore"):  # latencies near 1e308: never
            arrive_down = start + plan.lat_down  # (inf, as Python's float sums give SimPy)
            wait = plan.send_at_arr - arrive_down
            send_time = np.where(wait > 0, arrive_down + wait, arrive_down)
            arrive_up = send_time + plan.up_latency_arr
        sends = plan.sends_arr
        going = sends & ~plan.up_lost_mask
        arrive_up = np.where(going, arrive_up, np.inf)
        fire, _ = barrier.resolve(arrive_up, plan.accepted)
        inside = arrive_up <= fire  # at one instant, reports count before the barrier
        kept = inside & plan.accepted
        inbox.heard[:] = inside
        inbox.received[:] = kept
        inbox.n_heard, inbox.n_received = int(inside.sum()), int(kept.sum())
        self._receive(plan, inbox, kept)
        # the round's message events, whenever they happen
        self._queue(t, np.flatnonzero(delivered), _DOWN, _DELIVER, arrive_down)
        senders = np.flatnonzero(sends)
        offsets, specs = self._payloads(plan, senders)
        self._queue(
            t, senders, _UP, _SEND, send_time, latency=plan.up_latency_arr[senders],
            byzantine=plan.byzantine_mask[senders], payload=offsets, spec=specs,
        )  # fmt: skip
        lost = np.flatnonzero(sends & plan.up_lost_mask)
        self._queue(t, lost, _UP, _DROP, send_time, reason=_pick(plan.up_lost, lost))
        came = np.flatnonzero(going)
        if kept[came].all():  # every report that came is in and accepted
            self._queue(t, came, _UP, _DELIVER, arrive_up)
            return fire
        code = np.full(plan.accepted.size, _LATE, dtype=np.uint8)
        code[inside] = _REJECTED
        code[kept] = _DELIVER
        code = code[came]
        rejected = code == _REJECTED
        reasons = None
        if rejected.any():
            reasons = np.full(came.size, None, dtype=object)
            reasons[rejected] = _pick(plan.verdicts, came[rejected])
        self._queue(t, came, _UP, code, arrive_up, reason=reasons)
        return fire

    @staticmethod
    def _receive(plan: PlannedRound, inbox: RoundInbox, kept: np.ndarray) -> None:
        """Put the accepted reports that made it (``kept``) in the inbox."""
        loose = [j for j in plan.loose if kept[j]]
        if not loose and kept.all():
            np.copyto(inbox.reports, plan.block)
            return
        rows = kept.copy()
        rows[loose] = False
        np.copyto(inbox.reports, plan.block, where=rows[:, None])
        for j in loose:
            inbox.reports[j] = plan.outgoing[j]

    def _payloads(
        self, plan: PlannedRound, senders: np.ndarray
    ) -> tuple[np.ndarray, list[str | None] | None]:
        """Each sender's payload offset in the sidecar and its spec (see msglog)."""
        base = plan.block_offset
        if base is None or base < 0:
            offsets = np.full(senders.size, -1, dtype=np.int64)
        else:
            offsets = senders.astype(np.int64) * plan.row_bytes + base
        specs: list[str | None] = [None] * senders.size
        if plan.loose_refs:
            where = {int(j): i for i, j in enumerate(senders.tolist())}
            for j, ref in plan.loose_refs.items():
                i = where.get(j)
                if i is not None and ref is not None:
                    offsets[i] = int(ref["offset"])
                    specs[i] = payload_spec(ref, self.dim) or None
        return offsets, (specs if plan.loose_refs else None)

    def _queue(
        self,
        t: int,
        workers: np.ndarray,
        direction: int,
        event: int | np.ndarray,
        times: np.ndarray,
        **extra: Any,
    ) -> None:
        """Queue ``workers``' events (``event``: one code for all, or one each) at
        ``times[workers]``; ``extra``: other columns, one entry per worker (None: absent)."""
        n = workers.size
        if not n:
            return
        batch = {
            "round": np.full(n, t, dtype=np.int32),
            "worker": workers.astype(np.int32),
            "dir": np.full(n, direction, dtype=np.uint8),
            "event": np.full(n, event, dtype=np.uint8) if isinstance(event, int) else event,
            "time": times[workers],
        }
        batch.update((key, value) for key, value in extra.items() if value is not None)
        self.pending.append((direction, event if isinstance(event, int) else None, batch))

    def flush(self, upto: float) -> None:
        """Log and count every queued event that has happened by ``upto``."""
        keep: list[_Queued] = []
        for direction, event, batch in self.pending:
            now = batch["time"] <= upto
            if now.all():
                self._emit(direction, event, batch)
            elif now.any():
                self._emit(direction, event, _take(batch, np.flatnonzero(now)))
                keep.append((direction, event, _take(batch, np.flatnonzero(~now))))
            else:
                keep.append((direction, event, batch))
        self.pending = keep

    def _emit(self, direction: int, event: int | None, batch: dict[str, Any]) -> None:
        workers, counts = batch["worker"], self.acct.per_worker
        if event is not None:
            name = _COUNTS.get((direction, event))
            if name is not None:
                _count(counts[name], workers)
        else:
            for (d, e), name in _COUNTS.items():
                if d == direction:
                    mask = batch["event"] == e
                    if mask.any():
                        _count(counts[name], workers[mask])
        self.log.messages(**batch)


def _count(counts: np.ndarray, workers: np.ndarray) -> None:
    """One more for each of ``workers`` (distinct)."""
    if workers.size == counts.size:  # distinct and as many as there are: all of them
        counts += 1
    else:
        counts[workers] += 1


def _pick(values: list[Any], idx: np.ndarray) -> np.ndarray:
    """``values[idx]`` of a list, as an object array."""
    out = np.empty(idx.size, dtype=object)
    out[:] = [values[i] for i in idx.tolist()]
    return out


def _take(batch: dict[str, Any], idx: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, values in batch.items():
        out[key] = _pick(values, idx) if isinstance(values, list) else values[idx]
    return out
