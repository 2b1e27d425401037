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
from bgdsim.engine.server import RoundInbox
from bgdsim.engine.world import PlannedRound
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
        self.pending: list[dict[str, Any]] = []  # message events that have not happened yet

    def resolve(self, plan: PlannedRound, barrier: Barrier, inbox: RoundInbox) -> float:
        """Resolve round ``plan.t`` (opened at ``plan.start``): fill ``inbox`` with the
        reports that made it, queue every message event; return when the barrier fires."""
        t, start = plan.t, plan.start
        delivered = ~plan.down_lost_mask
        arrive_down = start + plan.lat_down
        wait = plan.send_at_arr - arrive_down
        send_time = np.where(wait > 0, arrive_down + wait, arrive_down)
        sends = plan.sends_arr
        going = sends & ~plan.up_lost_mask
        arrive_up = np.where(going, send_time + plan.up_latency_arr, np.inf)
        fire, _ = barrier.resolve(arrive_up, plan.accepted)
        inside = arrive_up <= fire  # at one instant, reports count before the barrier
        kept = inside & plan.accepted
        inbox.heard[:] = inside
        inbox.received[:] = kept
        inbox.n_heard, inbox.n_received = int(inside.sum()), int(kept.sum())
        rows = np.flatnonzero(kept)
        loose = [j for j in plan.loose if kept[j]]
        if loose:
            rows = rows[~np.isin(rows, loose)]
            for j in loose:
                inbox.reports[j] = plan.outgoing[j]
        inbox.reports[rows] = plan.block[rows]
        # the round's message events, whenever they happen
        down = np.flatnonzero(delivered)
        self._queue(t, down, _DOWN, np.full(down.size, _DELIVER), arrive_down[down])
        senders = np.flatnonzero(sends)
        offsets, specs = self._payloads(plan, senders)
        self._queue(
            t, senders, _UP, np.full(senders.size, _SEND), send_time[senders],
            latency=plan.up_latency_arr[senders],
            byzantine=plan.byzantine_mask[senders],
            payload=offsets, spec=specs,
        )  # fmt: skip
        lost = np.flatnonzero(sends & plan.up_lost_mask)
        self._queue(
            t, lost, _UP, np.full(lost.size, _DROP), send_time[lost],
            reason=_pick(plan.up_lost, lost),
        )  # fmt: skip
        came = np.flatnonzero(going)
        code = np.where(inside[came], np.where(plan.accepted[came], _DELIVER, _REJECTED), _LATE)
        rejected = code == _REJECTED
        if rejected.any():
            reasons = np.full(came.size, None, dtype=object)
            reasons[rejected] = _pick(plan.verdicts, came[rejected])
            self._queue(t, came, _UP, code, arrive_up[came], reason=reasons)
        else:
            self._queue(t, came, _UP, code, arrive_up[came])
        return fire

    def _payloads(
        self, plan: PlannedRound, senders: np.ndarray
    ) -> tuple[np.ndarray, list[str | None] | None]:
        """Each sender's payload offset in the sidecar and its spec (see msglog)."""
        base = -1 if plan.block_offset is None else plan.block_offset
        offsets = np.where(base >= 0, base + senders * plan.row_bytes, -1).astype(np.int64)
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
        event: np.ndarray,
        time: np.ndarray,
        **extra: Any,
    ) -> None:
        if workers.size:
            n = workers.size
            batch = {"round": np.full(n, t), "worker": workers, "dir": np.full(n, direction)}
            given = {key: value for key, value in extra.items() if value is not None}
            self.pending.append({**batch, "event": event, "time": time, **given})

    def flush(self, upto: float) -> None:
        """Log and count every queued event that has happened by ``upto``."""
        keep: list[dict[str, Any]] = []
        for batch in self.pending:
            now = batch["time"] <= upto
            if now.all():
                self._emit(batch)
            elif now.any():
                self._emit(_take(batch, np.flatnonzero(now)))
                keep.append(_take(batch, np.flatnonzero(~now)))
            else:
                keep.append(batch)
        self.pending = keep

    def _emit(self, batch: dict[str, Any]) -> None:
        for (d, e), name in _COUNTS.items():
            mask = (batch["dir"] == d) & (batch["event"] == e)
            if mask.any():
                self.acct.per_worker[name][batch["worker"][mask]] += 1
        self.log.messages(**batch)


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
