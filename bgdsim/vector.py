"""The vector runtime: every round resolved in closed form, no event per message.

The same :class:`~bgdsim.engine.RoundEngine` as every runtime opens and closes each round
and writes the same round-level events; between them, instead of simulating each message,
:class:`~bgdsim.engine.resolve.ClosedForm` computes the round's arrivals, barrier and
outcomes as arrays from the round's plan. The log is byte-identical to the SimPy
runtime's (a property test holds it to that). Seconds-unit faults are logged where the
SimPy runtime logs them: before the first barrier (or resumption after a pause) at or
after their time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bgdsim.config import Scenario
from bgdsim.engine import Opened, Progress, RoundEngine, Stop, TimedFault
from bgdsim.engine.recorded import Recording
from bgdsim.engine.resolve import ClosedForm
from bgdsim.eventlog import EventLog
from bgdsim.result import RunResult
from bgdsim.sim.runtime import SignKey, drive

__all__ = ["VectorDriver", "run_vector"]


class VectorDriver:
    """Drives a :class:`RoundEngine` round by round in closed form."""

    def __init__(self, engine: RoundEngine) -> None:
        self.engine = engine
        self.now = 0.0
        self.closed = ClosedForm(engine.log, engine.acct, engine.core.dim)
        self.faults: list[TimedFault] = []

    def _faults_until(self, time: float) -> None:
        """Log every seconds-unit fault start or end due at or before ``time``."""
        while self.faults and self.faults[0][0] <= time:
            at, event, fault = self.faults.pop(0)
            self.engine.fault_event(event, fault, at)

    def run(self) -> None:
        """Every round, to the end of the run."""
        engine = self.engine
        timed = engine.start(self.now)
        self.faults = [timed[i] for i in sorted(range(len(timed)), key=lambda i: timed[i][0])]
        while True:
            step = engine.begin_round(self.now, grouped=False)
            if isinstance(step, Stop):
                break
            if not isinstance(step, Opened):
                self.now = self.now + step.seconds  # as a SimPy timeout would
                self._faults_until(self.now)
                continue
            assert engine.inbox is not None
            fire = self.closed.resolve(step.plan, engine.barrier, engine.inbox)
            self._faults_until(fire)
            self.closed.flush(fire)
            self.now = fire
            if engine.end_round(self.now) is not None:
                break
        self._faults_until(self.now)  # timers due as the run stops still go off
        self.closed.flush(self.now)


def run_vector(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    overwrite: bool = False,
    progress: Progress | None = None,
    recording: Recording | None = None,
    open_log: Callable[..., EventLog] = EventLog,
    sign_key: SignKey = None,
) -> RunResult:
    """Run a scenario on the vector runtime (arguments as :func:`bgdsim.sim.run`)."""
    return drive(
        scenario, VectorDriver, log_path=log_path, overwrite=overwrite, progress=progress,
        recording=recording, open_log=open_log, sign_key=sign_key,
    )  # fmt: skip
