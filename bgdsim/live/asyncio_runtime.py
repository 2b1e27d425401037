"""The asyncio runtime: the server and m workers as asyncio tasks on the wall clock.

Links are delay-and-drop stages: a message waits ``asyncio.sleep(latency * time_scale)``
(one task per group of messages with the same latency, as the SimPy runtime coalesces
them) and is lost when the round's link draw says so. Worker j is a task reading its
down-link queue; on a broadcast it waits until its send time (down-link + compute + an
attack's delay, scaled) and sends the report the round's plan holds for it. The barrier is
``asyncio.wait_for`` on an event, with the round timeout in wall-clock seconds ×
``time_scale``. With constant latencies and no drops the run's θ trajectory equals the
SimPy runtime's bit for bit (same draws, same messages, same aggregates).
"""

from __future__ import annotations

import asyncio
import time as _time
from pathlib import Path
from typing import Any

from bgdsim.config import Scenario
from bgdsim.eventlog import EventLog
from bgdsim.live._server import LiveLog, LiveServer, Prepared, Tap, resolve_log_path
from bgdsim.result import RunResult
from bgdsim.sim.runtime import Progress, _Round

__all__ = ["run_async", "run_asyncio"]


class _InProcess:
    """Down-links, workers and up-links as tasks of one event loop."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.queues: list[asyncio.Queue[_Round]] = [asyncio.Queue() for _ in range(server.sim.m)]

    def start(self) -> None:
        for j in range(self.server.sim.m):
            self.server.spawn(self._worker(j))

    def broadcast(self, prep: Prepared, groups: dict[float, list[int]]) -> None:
        for latency, workers in groups.items():
            self.server.spawn(self._down(latency, workers, prep.rnd))

    async def _down(self, latency: float, workers: list[int], rnd: _Round) -> None:
        srv = self.server
        await asyncio.sleep(latency * srv.ts)
        now, log = srv.now(), srv.log
        delivered = srv.sim.acct.per_worker["down_delivered"]
        for j in workers:
            delivered[j] += 1
            log.message("deliver", now, rnd.t, j, "down")
            self.queues[j].put_nowait(rnd)

    async def _worker(self, j: int) -> None:
        srv, queue = self.server, self.queues[j]
        while True:
            rnd = await queue.get()
            if not rnd.sends[j]:
                continue
            wait = rnd.send_at[j] - srv.now()
            if wait > 0:
                await asyncio.sleep(wait * srv.ts)
            self._send(j, rnd)

    def _send(self, j: int, rnd: _Round) -> None:
        srv, log = self.server, self.server.log
        acct = srv.sim.acct.per_worker
        acct["up_sent"][j] += 1
        latency = rnd.up_latency[j]
        now = srv.now()
        if log.enabled:
            msg = rnd.outgoing[j]
            if rnd.block_offset is None or j in rnd.loose:
                ref = log.payload(msg)  # type: ignore[arg-type]
            else:
                ref = {"offset": rnd.block_offset + j * rnd.row_bytes, "shape": rnd.shape}
            extra = {"latency": latency, "byzantine": j in rnd.byzantine, "payload": ref}
            log.message("send", now, rnd.t, j, "up", extra)
        reason = rnd.up_lost[j]
        if reason is not None:
            acct["up_dropped"][j] += 1
            log.message("drop", now, rnd.t, j, "up", {"reason": reason})
        else:
            srv.spawn(self._up(latency, j, rnd))

    async def _up(self, latency: float, j: int, rnd: _Round) -> None:
        await asyncio.sleep(latency * self.server.ts)
        self.server.on_report(j, rnd.t, rnd.outgoing[j], rnd.verdicts[j], checked=True)


async def run_async(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    time_scale: float = 1.0,
    progress: Progress | None = None,
    _tap: Tap | None = None,
) -> RunResult:
    """Run a scenario on the asyncio runtime (in the running event loop).

    Args:
        scenario: a validated scenario.
        log_path: as for :func:`bgdsim.run` (``True``: ``logs/<name>-seed<seed>.jsonl``).
        time_scale: wall-clock seconds per simulated second (0.001: a 10 ms latency
            takes 10 µs).
        progress: called as ``progress(round, rounds)`` after every round.
    """
    wall = _time.perf_counter()
    path = resolve_log_path(scenario, log_path)
    log: EventLog = LiveLog(path, tap=_tap)
    with log:
        server = LiveServer(scenario, log, progress, time_scale=time_scale, runtime="asyncio")
        transport = _InProcess(server)
        try:
            transport.start()
            await server.run(transport)
        finally:
            await server.cancel_tasks()
        return server.finish(path, wall)


def run_asyncio(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    time_scale: float = 1.0,
    progress: Progress | None = None,
) -> RunResult:
    """:func:`run_async` in a fresh event loop (``asyncio.run``)."""
    kwargs: dict[str, Any] = {"log_path": log_path, "time_scale": time_scale}
    return asyncio.run(run_async(scenario, progress=progress, **kwargs))
