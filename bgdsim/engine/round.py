"""The round engine: every rule of a round, once, for every runtime (sans I/O).

:class:`RoundEngine` never sleeps, schedules or touches SimPy, asyncio or sockets: a
driver tells it what happened and when (``now``, in simulated seconds), and it logs,
counts, validates, aggregates and answers with what the driver must do next:

* :meth:`begin_round` → :class:`Wait` (a server pause), :class:`Stop` (no more rounds:
  done, paused for good, or diverged) or :class:`Opened` (deliver ``down`` groups, fire
  the ``timeout`` timer at ``deadline``);
* :meth:`broadcast_arrived` → :class:`Forward`: reports entering their up-links now
  (``up``: arrival delay → workers) and workers that will send later (``send``);
* :meth:`reports_sent` → up-link arrival groups; :meth:`reports_arrived`,
  :meth:`remote_report` and :meth:`timer_fired` → a barrier decision (:class:`Fire` or
  :class:`Arm`, or None);
* :meth:`end_round` once the barrier has fired → None, or :class:`Stop` on divergence;
* :meth:`finish` → the ``run_end`` seal and the :class:`~bgdsim.result.RunResult`.

A group is a list of ``(delay, workers)`` in the order the driver must schedule them:
events due at one instant are handled in scheduling order, as the SimPy runtime (the
reference semantics) does. At one instant, messages are handled before timers.
"""

from __future__ import annotations

import time as _time
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim import __version__, msglog
from bgdsim import events as ev
from bgdsim.engine.accounting import Accounting
from bgdsim.engine.closing import log_close
from bgdsim.engine.messages import MessageRules
from bgdsim.engine.server import RoundInbox
from bgdsim.engine.steps import Groups, Opened, Progress, Stop, TimedFault, Wait, group_by_delay
from bgdsim.engine.world import PlannedRound, World, build_barrier
from bgdsim.eventlog import SCHEMA_VERSION
from bgdsim.events import EventSink
from bgdsim.network.faults import Fault
from bgdsim.result import RunResult
from bgdsim.theory.scenario import paper_floor, rule_batches, uneven_batches

__all__ = ["DIVERGENCE_FACTOR", "SCHEMA_VERSION", "RoundEngine"]

_KEEP_ROUNDS = 3  # planned rounds kept for reports that arrive after their barrier
#: a run stops as ``diverged`` once ‖θ_t − θ*‖ exceeds this factor times
#: max(‖θ₀ − θ*‖, √(dk/N)) (or θ_t is not finite)
DIVERGENCE_FACTOR = 1e6


class RoundEngine(MessageRules):
    """One run's rounds, driven by a runtime.

    Args:
        world: the run's :class:`~bgdsim.engine.world.World` (or a recorded one).
        log: where events go (an :class:`~bgdsim.eventlog.EventLog`).
        progress: called as ``progress(round, rounds)`` after every round.
        write_block: store each round's ``(m, d)`` message block in the log (the planned
            reports' payloads point into it); a transport whose reports arrive over the
            wire stores each as it comes instead.
    """

    def __init__(
        self,
        world: World,
        log: EventSink,
        progress: Progress | None = None,
        *,
        write_block: bool = True,
    ) -> None:
        self.world = world
        self.sc = world.scenario
        self.log = log
        self.progress = progress
        self.write_block = write_block
        self.core = world.server
        self.m = world.m
        self.barrier = build_barrier(self.sc)
        self.acct = Accounting(self.m)
        self.t = 0
        self.plan: PlannedRound | None = None
        self.plans: dict[int, PlannedRound] = {}  # the last few rounds, by number
        self.inbox: RoundInbox | None = None
        self.status = "completed"
        problem = world.problem
        self.errors: list[float] = [problem.error(self.core.theta)]
        scale = max(self.errors[0], paper_floor(self.sc))
        self.divergence_bound = DIVERGENCE_FACTOR * scale if scale > 0 else float("inf")
        self.thetas: list[np.ndarray] = [self.core.theta.copy()]
        self.metrics: list[dict[str, float]] = []  # held-out metrics at θ_0, θ_1, …

    def _metrics(self, theta: np.ndarray) -> dict[str, float]:
        """The problem's held-out metrics at θ (none without a test split), kept."""
        out = self.world.problem.test_metrics(theta)
        if out:
            self.metrics.append(out)
        return out

    # ------------------------------------------------------------------ the run
    def start(self, now: float = 0.0, **extra: Any) -> list[TimedFault]:
        """Write the ``run_start`` header (``extra``: a runtime's fields).

        Returns the seconds-unit faults' starts and ends, ``(time, event, fault)`` in
        order: the driver calls :meth:`fault_event` for each at its time.
        """
        sc, log, world = self.sc, self.log, self.world
        log.dim = self.core.dim
        head = world.header()
        log.emit(
            ev.RUN_START,
            now,
            schema=SCHEMA_VERSION,
            bgdsim=__version__,
            numpy=np.__version__,
            name=sc.name,
            seed=sc.seed,
            scenario=sc.to_dict(),
            step_size=world.step_size,
            floor=paper_floor(sc),
            payload_dtype="<f8",
            sizes=world.problem.sizes.tolist(),
            **head,  # parent (a re-run's), network
            theta_star=log.payload(world.problem.theta_star),
            theta=log.payload(self.core.theta),
            error=self.errors[0],
            **self._metrics(self.core.theta),
            **extra,
        )
        uneven = uneven_batches(sc)
        if uneven is not None:  # Algorithm 2 assumes k | m
            log.emit(ev.BATCHES_UNEVEN, now, **uneven)
        log.flush()
        return [
            (at, event, fault)
            for fault in world.faults.timed
            for event, at in ((ev.FAULT_START, fault.from_), (ev.FAULT_END, fault.until))
            if at is not None
        ]

    def fault_event(self, event: str, fault: Fault, now: float) -> None:
        """A seconds-unit fault starts or ends at ``now``."""
        self.log.emit(event, now, **fault.describe())

    def begin_round(self, now: float, *, grouped: bool = True) -> Wait | Stop | Opened:
        """Open the next round at ``now`` if the server may (see :class:`RoundEngine`).

        ``grouped``: return the broadcast's down-link groups (a closed-form driver that
        resolves the round from the plan's arrays does not need them).
        """
        t = self.t + 1
        if t > self.sc.rounds:
            return Stop("completed")
        log, world = self.log, self.world
        resume = world.faults.pause_end(now)
        if resume > now:
            if not np.isfinite(resume):
                log.emit(ev.SERVER_PAUSED, now, round=t, reason="paused to the end")
                log.flush()
                return self._stop("paused")
            return Wait(resume - now)
        self.t = t
        starts, ends = world.faults.round_events(t)
        for fault in ends:
            log.emit(ev.FAULT_END, now, **fault.describe())
        for fault in starts:
            log.emit(ev.FAULT_START, now, **fault.describe())
        log.emit(ev.ROUND_START, now, round=t)
        plan = world.plan_round(t, now, self.thetas)
        if plan is None:
            log.emit(ev.DIVERGED, now, round=t, reason="honest gradients at θ are not finite")
            log.flush()
            return self._stop("diverged")
        log.emit(ev.BYZANTINE_SET, now, round=t, workers=plan.byzantine_arr.tolist())
        if self.write_block:
            plan.store(log.payload)
        self.plan = plan
        self.plans[t] = plan
        self.plans.pop(t - _KEEP_ROUNDS, None)
        self.inbox = self.core.open_round(t)
        deadline = self.barrier.open(now)
        groups = self._broadcast(plan, now, grouped)
        return Opened(plan, groups, deadline, self.barrier.timeout)

    def _stop(self, status: str) -> Stop:
        self.status = status
        return Stop(status)

    def _broadcast(self, plan: PlannedRound, now: float, grouped: bool) -> Groups:
        """Log the broadcast and its lost down-links; the rest, grouped by latency."""
        log, t = self.log, plan.t
        log.emit(
            ev.BROADCAST,
            now,
            round=t,
            theta=log.payload(self.core.theta),
            latency=log.payload(plan.lat_down),
        )
        acct = self.acct.per_worker
        acct["down_sent"] += 1
        lost = np.flatnonzero(plan.down_lost_mask)
        if lost.size:
            acct["down_dropped"][lost] += 1
            log.messages(
                round=np.full(lost.size, t),
                worker=lost,
                dir=np.zeros(lost.size),
                event=np.full(lost.size, msglog.EVENT_CODES[ev.DROP]),
                time=np.full(lost.size, now),
                reason=[plan.down_lost[j] for j in lost.tolist()],
            )
        if not grouped:
            return []
        going = np.flatnonzero(~plan.down_lost_mask)
        return group_by_delay(plan.lat_down[going], going)

    # ------------------------------------------------------------------ closing
    def end_round(self, now: float) -> Stop | None:
        """The barrier has fired: aggregate, update and seal the round at ``now``.

        Returns None, or :class:`Stop` (``diverged``) when θ is not finite after the update.
        """
        sc, log, plan, inbox = self.sc, self.log, self.plan, self.inbox
        reason = self.barrier.reason
        if plan is None or inbox is None or reason is None:
            raise RuntimeError("end_round: no round whose barrier has fired")
        t = plan.t
        self.acct.barrier[reason] += 1
        result = self.core.close(inbox, plan.seed)
        if result.skipped is not None:
            self.acct.aggregate_skipped += 1
        log_close(log, sc, inbox, result, reason=reason, seed=plan.seed,
                  pre=self.core.rule.pre is not None, now=now)  # fmt: skip
        if not result.finite:
            log.emit(ev.DIVERGED, now, round=t, reason="θ is not finite after the update")
            log.flush()
            return self._stop("diverged")
        self.errors.append(self.world.problem.error(result.theta))
        self.thetas.append(result.theta.copy())
        log.emit(
            ev.UPDATE,
            now,
            round=t,
            step_size=result.step_size,
            error=self.errors[-1],
            **self._metrics(result.theta),
            theta=log.payload(result.theta),
        )
        log.seal(ev.ROUND_END, now, round=t, duration=now - plan.start)
        self.core.seal()
        log.flush()
        if self.progress is not None:
            self.progress(t, sc.rounds)
        if self.errors[-1] > self.divergence_bound:
            log.emit(
                ev.DIVERGED,
                now,
                round=t,
                reason=f"‖θ_t − θ*‖ = {self.errors[-1]:.3g} exceeds {DIVERGENCE_FACTOR:g} × "
                f"max(‖θ₀ − θ*‖, √(dk/N)) = {self.divergence_bound:.3g}",
            )
            log.flush()
            return self._stop("diverged")
        return None

    def finish(
        self, now: float, path: Path | None = None, wall: float | None = None, **extra: Any
    ) -> RunResult:
        """Seal the run with ``run_end`` (``extra``: a runtime's fields); its result.

        ``wall``: ``time.perf_counter()`` when the run started.
        """
        acct = self.acct
        per_worker = {key: v.tolist() for key, v in acct.per_worker.items()}
        self.log.seal(
            ev.RUN_END,
            now,
            status=self.status,
            rounds=len(self.errors) - 1,
            final_error=float(self.errors[-1]),
            **(self.metrics[-1] if self.metrics else {}),
            counts=acct.totals(),
            per_worker=per_worker,
            **extra,
        )
        sc = self.sc
        return RunResult(
            name=sc.name,
            seed=sc.seed,
            rounds=len(self.errors) - 1,
            errors=np.asarray(self.errors),
            thetas=np.asarray(self.thetas),
            theta_star=self.world.problem.theta_star,
            floor=paper_floor(sc),
            k=rule_batches(sc),
            sim_time=float(now),
            status=self.status,
            counts=acct.totals(),
            per_worker=acct.arrays(),
            log_path=path,
            wall_seconds=0.0 if wall is None else _time.perf_counter() - wall,
            metrics={k: np.array([m[k] for m in self.metrics]) for k in self.metrics[0]}
            if self.metrics
            else {},
        )
