"""The live driver: a :class:`~bgdsim.engine.RoundEngine` on asyncio and the wall clock.

Every rule of a round is the engine's, as in the SimPy runtime; this driver only waits:
simulated ``time`` is the event loop's clock since the run started divided by
``time_scale``, timers are ``loop.call_at``, and the barrier is an ``asyncio.Event``. A
transport (in-process callbacks, or TCP connections) moves the messages and reports what
arrived. Every log line of a live run also carries ``wall`` (Unix seconds).
"""

from __future__ import annotations

import asyncio
import math
import numbers
import time as _time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import orjson

from bgdsim import msglog
from bgdsim.engine import Arm, Decision, Fire, Groups, PlannedRound, RoundEngine, Stop, Wait
from bgdsim.eventlog import EventLog

__all__ = ["LiveDriver", "LiveLog", "Tap", "Transport"]

Tap = Callable[[bytes], None]


def check_time_scale(time_scale: Any) -> float:
    """``time_scale`` (wall-clock seconds per simulated second) if it is a finite number
    > 0; else ValueError (an infinite one would wait forever)."""
    value = float(time_scale) if isinstance(time_scale, numbers.Real) else math.nan
    if isinstance(time_scale, bool) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"time_scale must be a finite number > 0, got {time_scale!r}")
    return value


class LiveLog(EventLog):
    """An :class:`EventLog` whose lines carry ``wall`` and may be tee'd to a tap.

    ``wall=False`` writes exactly what the base class writes (used for SimPy runs, whose
    logs must stay byte-identical); ``tap`` receives every rendered line, as written.
    """

    def __init__(
        self,
        path: str | Path | None,
        *,
        wall: bool = True,
        tap: Tap | None = None,
        overwrite: bool = False,
        sign_key: bytes | None = None,
    ) -> None:
        self.wall_column = wall
        super().__init__(path, overwrite=overwrite, sign_key=sign_key)
        self.wall = wall
        self.tap = tap

    def _write_line(self, data: bytes) -> None:
        super()._write_line(data)
        if self.tap is not None:
            self.tap(data)

    def _sealed_messages(self, records: Any) -> None:
        # the tap sees the span's message events just before the seal, as readers do
        if self.tap is not None:
            for event in msglog.expand(records, self.dim):
                self.tap(orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE))

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
    """How θ reaches the workers (their reports come back through the driver's engine)."""

    def broadcast(self, plan: PlannedRound, groups: Groups) -> None:
        """Deliver round ``plan.t`` to ``groups`` (down-link latency, workers)."""


class LiveDriver:
    """Runs an engine's rounds on the running event loop.

    Args:
        engine: the run's engine.
        time_scale: wall-clock seconds per simulated second.
    """

    def __init__(self, engine: RoundEngine, *, time_scale: float) -> None:
        check_time_scale(time_scale)
        self.engine = engine
        self.ts = time_scale
        self.loop: asyncio.AbstractEventLoop | None = None
        self.t0 = 0.0
        self.barrier = asyncio.Event()
        self.error: BaseException | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.handles: set[asyncio.TimerHandle] = set()

    # ------------------------------------------------------------------ clock
    def now(self) -> float:
        """Simulated seconds: the loop's clock since the start / time_scale."""
        assert self.loop is not None
        return (self.loop.time() - self.t0) / self.ts

    def later(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` ``delay`` simulated seconds from now; a failure stops the run."""
        assert self.loop is not None
        handle: asyncio.TimerHandle | None = None

        def call() -> None:
            self.handles.discard(handle)
            try:
                fn(*args)
            except Exception as exc:
                self.fail(exc)

        handle = self.loop.call_later(max(delay, 0.0) * self.ts, call)
        self.handles.add(handle)

    def fail(self, exc: BaseException) -> None:
        """Stop the run with ``exc`` (re-raised by :meth:`run`)."""
        if self.error is None:
            self.error = exc
        self.barrier.set()

    # ------------------------------------------------------------------ tasks
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """A tracked task; a failure stops the run (re-raised by :meth:`run`)."""
        assert self.loop is not None
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.fail(task.exception())  # type: ignore[arg-type]

    async def cancel_tasks(self) -> None:
        """Cancel every timer and tracked task and wait for them: nothing is left pending."""
        for handle in list(self.handles):
            handle.cancel()
        self.handles.clear()
        while self.tasks:
            tasks = list(self.tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.tasks.difference_update(tasks)

    # ------------------------------------------------------------------ barrier
    def decide(self, t: int, decision: Decision) -> None:
        """Act on the engine's barrier decision for round t."""
        if isinstance(decision, Fire):
            self.barrier.set()
        elif isinstance(decision, Arm):
            self.later(decision.delay, self._timer, t, "quorum")

    def _timer(self, t: int, kind: str) -> None:
        self.decide(t, self.engine.timer_fired(t, kind, self.now()))

    # ------------------------------------------------------------------ the loop
    async def run(self, transport: Transport, **header: Any) -> None:
        """Every round (``header``: the runtime's ``run_start`` fields)."""
        engine = self.engine
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        for at, event, fault in engine.start(0.0, **header):
            self.later(at, engine.fault_event, event, fault, at)
        while True:
            step = engine.begin_round(self.now())
            if isinstance(step, Stop):
                return
            if isinstance(step, Wait):
                await asyncio.sleep(step.seconds * self.ts)
                continue
            self.barrier = asyncio.Event()
            t = step.plan.t
            transport.broadcast(step.plan, step.down)
            self.later(step.deadline - self.now(), self._timer, t, "timeout")
            await self.barrier.wait()
            if self.error is not None:
                raise self.error
            if engine.end_round(self.now()) is not None:
                return
