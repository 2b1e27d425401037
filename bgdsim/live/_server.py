"""The live server: the SimPy runtime's round flow on a wall clock, for any transport.

The run's components (problem, :class:`~bgdsim.protocol.ServerCore`, adversary, network,
fault schedule, accounting) are built by the SimPy runtime's own ``_Simulation``
constructor: one construction, one set of random streams, so a live run draws exactly the
same data, Byzantine sets, messages and links as a simulated one. The rounds are the
SimPy runtime's own too: the header, pauses, ``prepare_round`` (gradients, links, the
adversary's view and plan, vectorised validation, send times, up-links), the broadcast,
``close_round`` (barrier, aggregate, update, seal) and the ``run_end`` seal are
``_Simulation``'s methods; only the waiting is different: ``asyncio`` sleeps scaled by
``time_scale`` instead of SimPy events.

Simulated ``time`` in the log is the wall-clock seconds since the run started divided by
``time_scale``; every line also carries ``wall`` (Unix seconds).
"""

from __future__ import annotations

import asyncio
import time as _time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bgdsim.config import Scenario
from bgdsim.eventlog import EventLog
from bgdsim.protocol import Outcome, RoundInbox
from bgdsim.result import RunResult
from bgdsim.sim.runtime import Prepared, Progress, _Round, _Simulation, resolve_log_path

__all__ = ["LiveLog", "LiveServer", "Prepared", "Transport", "resolve_log_path"]

Tap = Callable[[bytes], None]


class LiveLog(EventLog):
    """An :class:`EventLog` whose lines carry ``wall`` and may be tee'd to a tap.

    ``wall=False`` writes exactly what the base class writes (used for SimPy runs, whose
    logs must stay byte-identical); ``tap`` receives every rendered line, as written.
    """

    def __init__(self, path: str | Path | None, *, wall: bool = True, tap: Tap | None = None):
        super().__init__(path)
        self.wall = wall
        self.tap = tap

    def _write_line(self, data: bytes) -> None:
        super()._write_line(data)
        if self.tap is not None:
            self.tap(data)

    def emit(self, event: str, time: float, **fields: Any) -> None:
        if self.wall:
            fields["wall"] = _time.time()
        super().emit(event, time, **fields)

    def message(
        self,
        event: str,
        time: float,
        round: int,
        worker: int,
        direction: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if self.wall and self.enabled:
            extra = {**extra, "wall": _time.time()} if extra else {"wall": _time.time()}
        super().message(event, time, round, worker, direction, extra)


class Transport(Protocol):
    """How θ reaches the workers and their reports reach :meth:`LiveServer.on_report`."""

    def broadcast(self, prep: Prepared, groups: dict[float, list[int]]) -> None:
        """Deliver round ``prep.rnd.t`` to ``groups`` (down-link latency → workers)."""


class LiveServer:
    """The SimPy runtime's server loop on asyncio and the wall clock."""

    def __init__(
        self,
        scenario: Scenario,
        log: EventLog,
        progress: Progress | None,
        *,
        time_scale: float,
        runtime: str,
        write_block: bool = True,
    ) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale}")
        self.sim = _Simulation(scenario, log, progress)
        self.sc, self.log = scenario, log
        self.ts = time_scale
        self.runtime = runtime
        self.write_block = write_block
        self.t0 = _time.perf_counter()
        self.inbox: RoundInbox | None = None
        self.barrier = asyncio.Event()
        self.barrier_reason = ""
        self.quorum_armed = False
        self.rounds: dict[int, _Round] = {}  # the last few rounds, by number
        self.error: BaseException | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.header_extra: dict[str, Any] = {}  # more run_start fields

    # ------------------------------------------------------------------ clock, tasks
    def now(self) -> float:
        """Simulated seconds: wall-clock seconds since the start / time_scale."""
        return (_time.perf_counter() - self.t0) / self.ts

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """A tracked task; a failure stops the run (re-raised by :meth:`run`)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self.error is None:
            self.error = task.exception()
            self.barrier.set()

    async def cancel_tasks(self) -> None:
        """Cancel every tracked task and wait for them: nothing is left pending."""
        while self.tasks:
            tasks = list(self.tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.tasks.difference_update(tasks)

    # ------------------------------------------------------------------ reports
    def on_report(
        self, j: int, t: int, vector: Any, verdict: Any = None, *, checked: bool = False
    ) -> Outcome:
        """A report from worker j for round t arrived (``verdict`` if ``checked``)."""
        inbox, log, now = self.inbox, self.log, self.now()
        acct = self.sim.acct.per_worker
        core = self.sim.core
        if inbox is None:
            return Outcome.REJECTED
        if checked:
            outcome, reason = core.receive(inbox, j, t, vector, verdict)
        else:
            outcome, reason = core.receive(inbox, j, t, vector)
        if outcome is Outcome.ACCEPTED:
            acct["up_delivered"][j] += 1
            log.message("deliver", now, t, j, "up")
            if self.sim.quorum is not None and not self.quorum_armed:
                self._check_quorum(inbox)
        elif outcome is Outcome.LATE:
            acct["up_late"][j] += 1
            log.message("late", now, t, j, "up")
            return outcome
        else:
            acct["up_rejected"][j] += 1
            log.message("rejected", now, t, j, "up", {"reason": reason})
        if inbox.complete():
            self._fire(self.barrier, "all")
        return outcome

    def _check_quorum(self, inbox: RoundInbox) -> None:
        quorum = self.sim.quorum
        assert quorum is not None
        if inbox.n_received >= quorum:
            self.quorum_armed = True
            grace = self.sc.server.grace
            if grace > 0:
                loop = asyncio.get_running_loop()
                loop.call_later(grace * self.ts, self._fire, self.barrier, "quorum")
            else:
                self._fire(self.barrier, "quorum")

    def _fire(self, barrier: asyncio.Event, reason: str) -> None:
        if not barrier.is_set():
            self.barrier_reason = reason
            barrier.set()

    def _log_fault(self, event: str, fault: Any) -> None:
        self.log.emit(event, self.now(), **fault.describe())

    # ------------------------------------------------------------------ the loop
    async def run(self, transport: Transport) -> None:
        """Every round; the outcome is the simulation's ``status``, ``errors``, ``thetas``."""
        sim, sc = self.sim, self.sc
        loop = asyncio.get_running_loop()
        errors = [sim.problem.error(sim.core.theta)]
        thetas = [sim.core.theta.copy()]
        self.t0 = _time.perf_counter()
        sim.header(errors[0], runtime=self.runtime, time_scale=self.ts, **self.header_extra)
        timers = [
            loop.call_later(at * self.ts, self._log_fault, event, fault)
            for at, event, fault in sim.timed_faults()
        ]
        status = "completed"
        try:
            for t in range(1, sc.rounds + 1):
                pause = sim.pause(t, self.now())
                if pause is None:
                    status = "paused"
                    break
                if pause > 0:
                    await asyncio.sleep(pause * self.ts)
                start = self.now()
                prep = sim.prepare_round(t, start, thetas, write_block=self.write_block)
                if prep is None:
                    status = "diverged"
                    break
                self.rounds[t] = prep.rnd
                self.rounds.pop(t - 3, None)
                self.inbox = inbox = sim.core.open_round(t)
                self.barrier = barrier = asyncio.Event()
                self.barrier_reason = ""
                self.quorum_armed = False
                transport.broadcast(prep, sim.broadcast(t, start, prep))
                wait = (start + sc.server.round_timeout - self.now()) * self.ts
                try:
                    await asyncio.wait_for(barrier.wait(), timeout=max(wait, 0.0))
                except asyncio.TimeoutError:
                    self._fire(barrier, "timeout")
                if self.error is not None:
                    raise self.error
                reason = self.barrier_reason
                stop = sim.close_round(
                    t, start, self.now(), inbox, prep.seed, reason, errors, thetas
                )
                if stop is not None:
                    status = stop
                    break
        finally:
            for timer in timers:
                timer.cancel()
        sim.status, sim.errors, sim.thetas = status, np.asarray(errors), np.asarray(thetas)

    def finish(self, path: Path | None, wall: float, **extra: Any) -> RunResult:
        """The ``run_end`` seal and the :class:`RunResult` (as ``bgdsim.sim.run`` does)."""
        self.sim.end_run(self.now(), **extra)
        return self.sim.result(path, wall)
