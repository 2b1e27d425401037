"""How the round engine handles messages: deliveries, sends, arrivals and timers.

:class:`MessageRules` is the part of :class:`~bgdsim.engine.round.RoundEngine` that every
event-driven runtime calls per message (or per group of messages arriving at one
instant): it logs each message, counts it, validates each report with the server core
and asks the barrier what to do. The closed-form runtime resolves the same rules as
arrays (:mod:`bgdsim.engine.resolve`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bgdsim import events as ev
from bgdsim.engine.accounting import Accounting
from bgdsim.engine.barrier import Barrier, Decision, Fire
from bgdsim.engine.planned import PlannedRound
from bgdsim.engine.server import _UNCHECKED, RoundInbox, ServerCore
from bgdsim.engine.steps import Forward, Groups, grouped
from bgdsim.engine.validation import Outcome
from bgdsim.events import EventSink

__all__ = ["MessageRules"]


class MessageRules:
    """Per-message rules of a round (mixed into :class:`~bgdsim.engine.round.RoundEngine`)."""

    log: EventSink
    acct: Accounting
    core: ServerCore
    barrier: Barrier
    inbox: RoundInbox | None
    plans: dict[int, PlannedRound]
    m: int
    t: int

    def broadcast_arrived(self, plan: PlannedRound, workers: list[int], now: float) -> Forward:
        """θ of round ``plan.t`` reached ``workers`` at ``now``.

        Workers whose send time has come put their reports on their up-links now (logged
        as sent); the rest are returned as ``send`` groups.
        """
        now_senders, later = self.deliver(plan, workers, now)
        up = self.reports_sent(plan, now_senders, now) if now_senders else []
        return Forward(up, later)

    def deliver(
        self,
        plan: PlannedRound,
        workers: list[int],
        now: float,
        lost: dict[int, str] | None = None,
    ) -> tuple[list[int], Groups]:
        """Log θ of round ``plan.t`` reaching ``workers`` at ``now``; who sends when.

        ``lost``: workers the transport could not reach after all (e.g. ``disconnected``),
        with the reason; logged as dropped. Returns the workers whose send time has come
        and the ``(delay, workers)`` groups of those that send later.
        """
        log, t = self.log, plan.t
        delivered: list[int] = []
        dropped: list[int] = []
        now_senders: list[int] = []
        delays: list[float] = []
        later: list[int] = []
        for j in workers:
            if lost and j in lost:
                dropped.append(j)
                log.message(ev.DROP, now, t, j, "down", {"reason": lost[j]})
                continue
            delivered.append(j)
            log.message(ev.DELIVER, now, t, j, "down")
            if not plan.sends[j]:
                continue
            wait = plan.send_at[j] - now
            if wait > 0:
                delays.append(wait)
                later.append(j)
            else:
                now_senders.append(j)
        self.acct.add("down_delivered", delivered)
        self.acct.add("down_dropped", dropped)
        return now_senders, grouped(delays, later)

    def reports_sent(self, plan: PlannedRound, workers: list[int], now: float) -> Groups:
        """``workers`` put their round-``plan.t`` reports on their up-links at ``now``.

        Returns the up-link arrival groups (lost reports are logged and left out).
        """
        log, t = self.log, plan.t
        delays: list[float] = []
        going: list[int] = []
        lost: list[int] = []
        enabled = log.enabled
        byz, latencies, reasons = plan.byzantine, plan.up_latency, plan.up_lost
        for j in workers:
            latency = latencies[j]
            if enabled:
                ref = plan.payload_ref(j, log.payload)
                extra = {"latency": latency, "byzantine": j in byz, "payload": ref}
                log.message(ev.SEND, now, t, j, "up", extra)
            reason = reasons[j]
            if reason is not None:
                lost.append(j)
                log.message(ev.DROP, now, t, j, "up", {"reason": reason})
            else:
                delays.append(latency)
                going.append(j)
        self.acct.add("up_sent", workers)
        self.acct.add("up_dropped", lost)
        return grouped(delays, going)

    def reports_arrived(self, plan: PlannedRound, workers: list[int], now: float) -> Decision:
        """The planned round-``plan.t`` reports of ``workers`` reach the server at ``now``."""
        decision = self._due(now)
        outgoing, verdicts, t = plan.outgoing, plan.verdicts, plan.t
        for j in workers:
            got = self._arrive(j, t, outgoing[j], verdicts[j], now)[1]
            if isinstance(got, Fire) or decision is None:
                decision = got or decision
        return decision

    def remote_report(
        self, j: int, t: int, vector: Any, now: float, **fields: Any
    ) -> tuple[Outcome, Decision]:
        """A report for round t from worker j came over the wire at ``now``.

        Logged as sent when it entered its up-link (``now`` minus the round's planned
        up-link latency), with the payload as received; then validated as any report.
        ``fields``: transport details for the ``send`` line (e.g. ``peer``).
        """
        plan = self.plans.get(t)
        latency = plan.up_latency[j] if plan is not None and 0 <= j < self.m else None
        log = self.log
        if 0 <= j < self.m:
            self.acct.add("up_sent", j)
        extra = {
            "latency": latency,
            "byzantine": plan is not None and j in plan.byzantine,
            "payload": log.payload(vector) if isinstance(vector, np.ndarray) else None,
            **fields,
        }
        sent = now - latency if latency is not None else now
        log.message(ev.SEND, sent, t, j, "up", extra)
        decision = self._due(now)
        outcome, got = self._arrive(j, t, vector, _UNCHECKED, now)
        return outcome, got or decision

    def _due(self, now: float) -> Decision:
        """Timers already due before a message at ``now`` (a live clock can be late)."""
        if self.inbox is None or self.inbox.closed:
            return None
        return self.barrier.due(now)

    def _arrive(
        self, j: int, t: int, vector: Any, verdict: Any, now: float
    ) -> tuple[Outcome, Decision]:
        """One report reaches the server: validate, log, count, ask the barrier."""
        inbox, log, acct = self.inbox, self.log, self.acct
        if inbox is None:
            return Outcome.REJECTED, None
        outcome, reason = self.core.receive(
            inbox, j, t, vector, verdict, in_time=self.barrier.admits(now)
        )
        if outcome is Outcome.ACCEPTED:
            acct.per_worker["up_delivered"][j] += 1
            log.message(ev.DELIVER, now, t, j, "up")
        elif outcome is Outcome.LATE:
            if 0 <= j < self.m:
                acct.per_worker["up_late"][j] += 1
            log.message(ev.LATE, now, t, j, "up")
            return outcome, None
        else:
            if 0 <= j < self.m:
                acct.per_worker["up_rejected"][j] += 1
            log.message(ev.REJECTED, now, t, j, "up", {"reason": reason})
        return outcome, self.barrier.heard(inbox.n_heard, inbox.n_received, now)

    def timer_fired(self, t: int, kind: str, now: float) -> Decision:
        """Round t's ``timeout`` or ``quorum`` (grace) timer went off at ``now``."""
        if t != self.t or self.inbox is None or self.inbox.closed:
            return None
        return self.barrier.timer(kind)
