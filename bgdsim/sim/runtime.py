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

import os
import time as _time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Protocol

import simpy
from simpy.events import Event

from bgdsim import logpaths
from bgdsim.config import Scenario, require_scenario
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

#: a signing key as a run takes it: the key's bytes, a key file's path, or None
SignKey = bytes | str | os.PathLike[str] | None

__all__ = [
    "Driver",
    "SignKey",
    "SimPyDriver",
    "default_log_path",
    "drive",
    "log_target",
    "paper_floor",
    "resolve_log_path",
    "run",
]


def default_log_path(scenario: Scenario) -> Path:
    """``logs/<name>-seed<seed>.jsonl``: the base of the default path (a run writes there
    only if it is free, else ``-2``, ``-3``, …: :func:`resolve_log_path`)."""
    return Path("logs") / f"{scenario.name}-seed{scenario.seed}.jsonl"


def log_target(
    scenario: Scenario,
    log_path: str | Path | bool | None,
    *,
    overwrite: bool = False,
    recording: Recording | None = None,
    sign_key: SignKey = None,
) -> logpaths.LogTarget:
    """Where a run of ``scenario`` logs (checked, not yet opened): see :mod:`bgdsim.logpaths`.

    A re-run's ``recording`` names its parent, which is never written."""
    protect = () if recording is None else (recording.path,)
    return logpaths.log_target(
        default_log_path(scenario), log_path, overwrite=overwrite, protect=protect,
        sign_key=sign_key,
    )  # fmt: skip


def resolve_log_path(
    scenario: Scenario, log_path: str | Path | bool | None, *, overwrite: bool = False
) -> Path | None:
    """``True`` → a free default path (``logs/<name>-seed<seed>.jsonl``, else ``-2``, …),
    ``None``/``False`` → no log, else the path, checked: an existing log is refused
    (:class:`~bgdsim.logpaths.LogPathError`) unless ``overwrite``."""
    return log_target(scenario, log_path, overwrite=overwrite).path


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
    overwrite: bool = False,
    progress: Progress | None = None,
    recording: Recording | None = None,
    open_log: Callable[..., EventLog] = EventLog,
    sign_key: SignKey = None,
) -> RunResult:
    """Build the world (or the recorded one) and the engine, run a driver over it, seal.

    The log path (and signing key) are checked before the world is built and the log is
    opened (exclusively) after."""
    require_scenario(scenario, "drive")
    wall = _time.perf_counter()
    target = log_target(
        scenario, log_path, overwrite=overwrite, recording=recording, sign_key=sign_key
    )
    world = World(scenario) if recording is None else RecordedWorld(scenario, recording)
    with target.open(open_log) as log:
        engine = RoundEngine(world, log, progress)
        driver = make_driver(engine)
        driver.run()
        return engine.finish(driver.now, target.path, wall)


def run(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    overwrite: bool = False,
    progress: Progress | None = None,
    recording: Recording | None = None,
    open_log: Callable[..., EventLog] = EventLog,
    sign_key: SignKey = None,
) -> RunResult:
    """Run a scenario on the SimPy runtime.

    Args:
        scenario: a validated :class:`~bgdsim.config.Scenario`.
        log_path: where to write the event log; ``True`` (default) for
            ``logs/<name>-seed<seed>.jsonl`` or, if that exists, the first free
            ``<name>-seed<seed>-2.jsonl``, ``-3``, …; ``None``/``False`` for no log; a
            path (``.jsonl``) that exists is refused
            (:class:`~bgdsim.logpaths.LogPathError`) unless ``overwrite``.
        overwrite: replace an existing log at ``log_path`` (never a file that is not a
            bgdsim log, nor a re-run's parent).
        progress: called as ``progress(round, rounds)`` after every round.
        recording: a logged run's world to re-run (:func:`bgdsim.rerun`).
        open_log: opens the log at its path, as ``open_log(path)`` or, when overwriting,
            ``open_log(path, overwrite=True)`` (e.g. a :class:`~bgdsim.live.LiveLog` that
            tees its lines); like :class:`~bgdsim.eventlog.EventLog` it must refuse an
            existing log otherwise. It receives ``sign_key=KEY`` when signing.
        sign_key: sign the log with this key (bytes, 16 to 64) or the key in this file
            (hex text): every seal carries an HMAC-SHA256 signature that ``bgdsim replay
            LOG --verify --sign-key FILE`` checks (:mod:`bgdsim.eventlog.signing`).

    Returns:
        The :class:`~bgdsim.result.RunResult`.
    """
    require_scenario(scenario, "run")
    return drive(
        scenario, SimPyDriver, log_path=log_path, overwrite=overwrite, progress=progress,
        recording=recording, open_log=open_log, sign_key=sign_key,
    )  # fmt: skip
