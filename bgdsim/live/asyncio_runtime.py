"""The asyncio runtime: the round engine on an event loop and the wall clock.

Links are delay-and-drop stages: the messages of one group (one latency) wait
``latency × time_scale`` on a ``loop.call_later`` timer, then the engine hears of them; a
worker whose broadcast arrived sends its report at its planned send time (compute + an
attack's delay), on another timer. No task per worker or per message: the event loop's
timers are the whole transport. With constant latencies and no drops the run's θ
trajectory equals the SimPy runtime's bit for bit (same draws, messages and aggregates).
"""

from __future__ import annotations

import asyncio
import functools
import time as _time
from pathlib import Path
from typing import Any

from bgdsim.config import Scenario, require_scenario
from bgdsim.engine import Groups, PlannedRound, Progress, RoundEngine, World
from bgdsim.live.driver import LiveDriver, LiveLog, Tap, check_time_scale
from bgdsim.result import RunResult
from bgdsim.sim.runtime import SignKey, log_target

__all__ = ["run_async", "run_asyncio"]


class InProcess:
    """Down-links, workers and up-links as timers of one event loop."""

    def __init__(self, driver: LiveDriver) -> None:
        self.driver = driver
        self.engine = driver.engine

    def broadcast(self, plan: PlannedRound, groups: Groups) -> None:
        """Deliver round ``plan.t``'s broadcast after each group's down-link latency."""
        for latency, workers in groups:
            self.driver.later(latency, self._down, plan, workers)

    def _down(self, plan: PlannedRound, workers: list[int]) -> None:
        forward = self.engine.broadcast_arrived(plan, workers, self.driver.now())
        self._schedule(plan, forward.up)
        for delay, senders in forward.send:
            self.driver.later(delay, self._send, plan, senders)

    def _send(self, plan: PlannedRound, workers: list[int]) -> None:
        self._schedule(plan, self.engine.reports_sent(plan, workers, self.driver.now()))

    def _schedule(self, plan: PlannedRound, groups: Groups) -> None:
        for latency, workers in groups:
            self.driver.later(latency, self._up, plan, workers)

    def _up(self, plan: PlannedRound, workers: list[int]) -> None:
        driver = self.driver
        driver.decide(plan.t, self.engine.reports_arrived(plan, workers, driver.now()))


async def run_async(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    overwrite: bool = False,
    time_scale: float = 1.0,
    progress: Progress | None = None,
    tap: Tap | None = None,
    sign_key: SignKey = None,
) -> RunResult:
    """Run a scenario on the asyncio runtime (in the running event loop).

    Args:
        scenario: a validated scenario.
        log_path: as for :func:`bgdsim.run` (``True``: ``logs/<name>-seed<seed>.jsonl``,
            or the first free ``-2``, ``-3``, …).
        overwrite: replace an existing log at ``log_path`` (as for :func:`bgdsim.run`).
        time_scale: wall-clock seconds per simulated second (0.001: a 10 ms latency
            takes 10 µs).
        progress: called as ``progress(round, rounds)`` after every round.
        tap: receives every log line as it is written.
        sign_key: sign the log (as for :func:`bgdsim.run`).
    """
    wall = _time.perf_counter()
    require_scenario(scenario, "run_asyncio")
    check_time_scale(time_scale)  # before a log is created
    target = log_target(scenario, log_path, overwrite=overwrite, sign_key=sign_key)
    with target.open(functools.partial(LiveLog, tap=tap)) as log:
        engine = RoundEngine(World(scenario), log, progress)
        driver = LiveDriver(engine, time_scale=time_scale)
        try:
            await driver.run(InProcess(driver), runtime="asyncio", time_scale=time_scale)
        finally:
            await driver.cancel_tasks()
        return engine.finish(driver.now(), target.path, wall)


def run_asyncio(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    overwrite: bool = False,
    time_scale: float = 1.0,
    progress: Progress | None = None,
    sign_key: SignKey = None,
) -> RunResult:
    """:func:`run_async` in a fresh event loop (``asyncio.run``)."""
    kwargs: dict[str, Any] = {
        "log_path": log_path,
        "overwrite": overwrite,
        "time_scale": time_scale,
        "sign_key": sign_key,
    }
    return asyncio.run(run_async(scenario, progress=progress, **kwargs))
