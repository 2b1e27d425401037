"""The SimPy runtime: the reference semantics of a run, as a discrete-event simulation.

The :class:`~bgdsim.engine.RoundEngine` holds every rule of a round; this driver only
decides *when* things happen, on SimPy's clock. Per round the ``server`` process asks the
engine to open the round (or to wait out a ``server_pause``), schedules the broadcast's
down-link arrivals and the round timeout, and waits on the barrier event; every message
in flight is a scheduled event with a callback, not a process, and messages arriving at
one instant with one latency share one event (:mod:`bgdsim.sim._events`). At one instant,
message arrivals (priority 0) come before timers (SimPy's normal priority): a report
arriving exactly at the timeout is in.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Protocol

import simpy
from simpy.events import Event

from bgdsim.config import Scenario
from bgdsim.engine import (
    Arm,
    Decision,
    Fire,
    Opened,
    PlannedRound,
    Progress,
    RecordedWorld,
    RoundEngine,
    Stop,
    Wait,
    World,
    paper_floor,
)
from bgdsim.engine.recorded import Recording
from bgdsim.eventlog import EventLog
from bgdsim.network.faults import Fault
from bgdsim.result import RunResult
from bgdsim.sim._events import At, schedule_groups

__all__ = [
    "Driver",
    "SimPyDriver",
    "default_log_path",
    "drive",
    "paper_floor",
    "resolve_log_path",
    "run",
]


def default_log_path(scenario: Scenario) -> Path:
    """``logs/<name>-seed<seed>.jsonl``."""
    return Path("logs") / f"{scenario.name}-seed{scenario.seed}.jsonl"


def resolve_log_path(scenario: Scenario, log_path: str | Path | bool | None) -> Path | None:
    """``True`` → the default path, ``None``/``False`` → no log, else the path."""
    if log_path is True:
        return default_log_path(scenario)
    if log_path is None or log_path is False:
        return None
    return Path(log_path)


class SimPyDriver:
    """Drives a :class:`RoundEngine` on a ``simpy.Environment``."""

    def __init__(self, engine: RoundEngine) -> None:
        self.engine = engine
        self.env = simpy.Environment(initial_time=0.0)
        self.barrier: Event | None = None

    def run(self) -> None:
        """Every round, to the end of the run."""
        proc = self.env.process(self.server())
        self.env.run(until=proc)

    @property
    def now(self) -> float:
        """SimPy's clock."""
        return float(self.env.now)

    def server(self) -> simpy.events.ProcessGenerator:
        """The parameter server: open a round, wait on its barrier, close it."""
        env, engine = self.env, self.engine
        for at, event, fault in engine.start(env.now):
            env.timeout(at).callbacks.append(partial(self._fault, event, fault))
        while True:
            step = engine.begin_round(env.now)
            if isinstance(step, Stop):
                return
            if isinstance(step, Wait):
                yield env.timeout(step.seconds)
                continue
            yield from self._round(step)
            if engine.end_round(env.now) is not None:
                return

    def _round(self, opened: Opened) -> simpy.events.ProcessGenerator:
        env, plan = self.env, opened.plan
        self.barrier = barrier = env.event()
        schedule_groups(env, opened.down, self._down_arrive, plan)
        timeout = env.timeout(opened.timeout)
        timeout.callbacks.append(partial(self._timer, plan.t, "timeout"))
        yield barrier

    def _fault(self, event: str, fault: Fault, _ev: object) -> None:
        self.engine.fault_event(event, fault, self.env.now)

    def _down_arrive(self, ev: At) -> None:
        forward = self.engine.broadcast_arrived(ev.data, ev.workers, self.env.now)
        schedule_groups(self.env, forward.up, self._up_arrive, ev.data)
        schedule_groups(self.env, forward.send, self._send, ev.data)

    def _send(self, ev: At) -> None:
        groups = self.engine.reports_sent(ev.data, ev.workers, self.env.now)
        schedule_groups(self.env, groups, self._up_arrive, ev.data)

    def _up_arrive(self, ev: At) -> None:
        plan: PlannedRound = ev.data
        self._decide(plan.t, self.engine.reports_arrived(plan, ev.workers, self.env.now))

    def _timer(self, t: int, kind: str, _ev: object) -> None:
        self._decide(t, self.engine.timer_fired(t, kind, self.env.now))

    def _decide(self, t: int, decision: Decision) -> None:
        if isinstance(decision, Fire):
            assert self.barrier is not None
            self.barrier.succeed()
        elif isinstance(decision, Arm):
            timer = self.env.timeout(decision.delay)
            timer.callbacks.append(partial(self._timer, t, "quorum"))


class Driver(Protocol):
    """What :func:`drive` needs of a simulated-clock driver."""

    def run(self) -> None:
        """Every round, to the end of the run."""

    @property
    def now(self) -> float:
        """The simulated time at which the run stopped."""


def drive(
    scenario: Scenario,
    make_driver: Callable[[RoundEngine], Driver],
    *,
    log_path: str | Path | bool | None = True,
    progress: Progress | None = None,
    recording: Recording | None = None,
    open_log: Callable[[Path | None], EventLog] = EventLog,
) -> RunResult:
    """Build the world (or the recorded one) and the engine, run a driver over it, seal."""
    wall = _time.perf_counter()
    path = resolve_log_path(scenario, log_path)
    world = World(scenario) if recording is None else RecordedWorld(scenario, recording)
    with open_log(path) as log:
        engine = RoundEngine(world, log, progress)
        driver = make_driver(engine)
        driver.run()
        return engine.finish(driver.now, path, wall)


def run(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    progress: Progress | None = None,
    recording: Recording | None = None,
    open_log: Callable[[Path | None], EventLog] = EventLog,
) -> RunResult:
    """Run a scenario on the SimPy runtime.

    Args:
        scenario: a validated :class:`~bgdsim.config.Scenario`.
        log_path: where to write the event log; ``True`` (default) for
            ``logs/<name>-seed<seed>.jsonl``, ``None``/``False`` for no log.
        progress: called as ``progress(round, rounds)`` after every round.
        recording: a logged run's world to re-run (:func:`bgdsim.rerun`).
        open_log: opens the log at its path (e.g. a :class:`~bgdsim.live.LiveLog` that
            tees its lines).

    Returns:
        The :class:`~bgdsim.result.RunResult`.
    """
    return drive(
        scenario, SimPyDriver, log_path=log_path, progress=progress, recording=recording,
        open_log=open_log,
    )  # fmt: skip
