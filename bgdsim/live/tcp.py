"""The TCP runtime: the server listens on a socket, every worker is its own connection.

The server drives the round engine exactly as the asyncio runtime does
(:class:`~bgdsim.live.driver.LiveDriver`: the same draws, adversary, validation, barrier
and log) through :class:`~bgdsim.live.tcp_server.TcpServer`. Workers
(:mod:`bgdsim.live.tcp_worker`) hold their own data and compute their own gradients: a
connection opens with the server's greeting (a random run id and connection nonce), the
worker's ``hello``, the server's ``welcome`` (the resolved scenario and seed, from which
the worker rebuilds its share of the data) and the worker's ``ready``. Every frame after
the greeting carries a Poly1305 tag under a one-time key bound to the run, the
connection, the direction and its place in it (:mod:`bgdsim.live.frames`), so a captured
frame cannot be replayed.

Each round's down frame (``kind="task"``), sent after the down-link's latency, gives
worker j θ if it is honest this round (it computes ∇f̄_j(θ) itself, bit for bit the
server's batched row), the adversary's message for j if it is Byzantine (the omniscient
adversary lives on the server), or ``silent`` when it sends nothing or its up-link loses
the report; and how long to wait before answering (compute + an attack's delay + its
up-link latency, × ``time_scale``). A worker answers with a ``kind="report"`` frame. A
report's ``send`` is logged at the simulated time it entered its up-link: its arrival
minus the round's up-link latency (the worker emulates that latency by waiting). With a
constant latency and no drops the θ trajectory is the SimPy runtime's, bit for bit.

:func:`run_tcp` runs the m workers in the server's event loop; :func:`serve` and
:func:`worker` are ``bgdsim serve`` and ``bgdsim worker``, for other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time as _time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bgdsim import events as ev
from bgdsim.config import Scenario, require_scenario
from bgdsim.engine import Progress, RoundEngine, World
from bgdsim.live.driver import LiveDriver, LiveLog, check_time_scale
from bgdsim.live.frames import derive_key, key_path, read_key, write_keys
from bgdsim.live.tcp_server import TcpServer
from bgdsim.live.tcp_worker import LocalData, WorkerFn, split_address, worker, worker_loop
from bgdsim.result import RunResult
from bgdsim.sim.runtime import SignKey, log_target

__all__ = ["WorkerFn", "connect_deadline", "run_tcp", "serve", "split_address", "worker",
           "worker_loop", "write_keys"]  # fmt: skip

CONNECT_PER_WORKER = 0.01  # seconds of connect deadline per worker, past the floor


def connect_deadline(m: int, floor: float = 10.0) -> float:
    """The default time to wait for m workers: max(``floor``, 10 ms × m) seconds."""
    return max(floor, CONNECT_PER_WORKER * m)


class _ServerLog(LiveLog):
    """The server's log: what happens before the run's header (a peer refused or gone while
    connecting) waits and is written right after it, so ``run_start`` stays the first line.

    Its files are opened by :meth:`open_files`, once the socket is bound: a server that
    cannot listen leaves no log behind (and replaces none)."""

    def __init__(
        self, path: Path | None, *, overwrite: bool = False, sign_key: bytes | None = None
    ) -> None:
        self._deferred: bool | None = None
        super().__init__(path, overwrite=overwrite, sign_key=sign_key)
        self._early: list[tuple[str, float, dict[str, Any]]] | None = []

    def _open_files(self, overwrite: bool) -> None:
        self._deferred = overwrite

    def open_files(self) -> None:
        """Open the log and its sidecar (exclusively: :class:`~bgdsim.eventlog.EventLog`)."""
        if self._deferred is not None:
            overwrite, self._deferred = self._deferred, None
            super()._open_files(overwrite)

    def emit(self, event: str, time: float, **fields: Any) -> None:
        early = self._early
        if early is not None and event != ev.RUN_START:
            early.append((event, time, fields))
            return
        super().emit(event, time, **fields)
        if early is not None:
            self._early = None
            for line in early:
                super().emit(line[0], line[1], **line[2])


async def _serve(
    scenario: Scenario,
    keys: list[bytes],
    *,
    host: str,
    port: int,
    log_path: str | Path | bool | None,
    overwrite: bool,
    time_scale: float,
    progress: Progress | None,
    connect_timeout: float,
    local: dict[int, WorkerFn] | None,
    on_listen: Callable[[str, int], None] | None = None,
    on_join: Callable[[int, str], None] | None = None,
    sign_key: SignKey = None,
) -> RunResult:
    wall = _time.perf_counter()
    # checked before binding
    require_scenario(scenario, "run_tcp")
    check_time_scale(time_scale)  # before a log is created
    target = log_target(scenario, log_path, overwrite=overwrite, sign_key=sign_key)
    peers: set[asyncio.Task[Any]] = set()
    log = _ServerLog(target.path, overwrite=overwrite, sign_key=target.sign_key)
    with log:
        engine = RoundEngine(World(scenario), log, progress, write_block=False)
        driver = LiveDriver(engine, time_scale=time_scale)
        tcp = TcpServer(driver, keys, on_join)
        try:
            await tcp.start(host, port)
            log.open_files()  # bound: only now is the log created (or replaced)
            if on_listen is not None:
                on_listen(host, tcp.port)
            for j, fn in (local or {}).items():
                peers.add(asyncio.get_running_loop().create_task(fn(host, tcp.port, j, keys[j])))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(tcp.connected.wait(), connect_timeout)
            await driver.run(tcp, runtime="tcp", time_scale=time_scale, connected=sorted(tcp.conns))
            await tcp.end()
            if peers:
                await asyncio.wait(peers, timeout=1.0)
        finally:
            for task in peers:
                task.cancel()
            await asyncio.gather(*peers, return_exceptions=True)
            await tcp.close()
            await driver.cancel_tasks()
        return engine.finish(driver.now(), target.path, wall, frames_rejected=tcp.frames_rejected)


def check_tcp_workers(scenario: Scenario) -> None:
    """A TCP worker computes its own full local gradient: ``[worker]`` options need the
    engine's worker state, which only the simulated runtimes have.

    Raises:
        ValueError: ``worker.batch_size`` or ``worker.momentum`` is set.
    """
    w = scenario.worker
    if w is not None and (w.batch_size is not None or w.momentum):
        raise ValueError(
            "worker: mini-batches and momentum are computed by the engine; the tcp "
            "runtime's workers compute full local gradients (use simpy, asyncio or vector)"
        )


async def run_tcp(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    overwrite: bool = False,
    time_scale: float = 1.0,
    progress: Progress | None = None,
    secret: bytes | None = None,
    host: str = "127.0.0.1",
    connect_timeout: float | None = None,
    workers: dict[int, WorkerFn] | None = None,
    sign_key: SignKey = None,
) -> RunResult:
    """Run a scenario over TCP on ``host`` (an ephemeral port), its m workers in this loop.

    The workers of this loop share one build of the run's data (each keeps views of its
    own share); each still derives it from the server's welcome and computes its own
    gradients.

    Args:
        log_path, overwrite, sign_key: as for :func:`bgdsim.run`.
        secret: the run secret the per-worker keys derive from (random if None).
        connect_timeout: seconds to wait for the m workers to connect and build their
            data before round 1 starts (the absent ones are missing). Default:
            :func:`connect_deadline`, max(10 s, 10 ms × m) — 50 s at m = 5 000.
        workers: replacements for some workers' coroutine (``fn(host, port, j, key)``;
            default :func:`worker_loop`), e.g. a misbehaving peer in a test.
    """
    check_tcp_workers(scenario)
    secret = os.urandom(32) if secret is None else secret
    m = scenario.cluster.workers
    keys = [derive_key(secret, j) for j in range(m)]
    honest = functools.partial(worker_loop, data=LocalData(own=False))
    local: dict[int, WorkerFn] = dict.fromkeys(range(m), honest)
    local.update(workers or {})
    return await _serve(
        scenario,
        keys,
        host=host,
        port=0,
        log_path=log_path,
        overwrite=overwrite,
        time_scale=time_scale,
        progress=progress,
        connect_timeout=connect_deadline(m) if connect_timeout is None else connect_timeout,
        local=local,
        sign_key=sign_key,
    )


async def serve(
    scenario: Scenario,
    listen: str,
    keys_dir: str | Path,
    *,
    log_path: str | Path | bool | None = True,
    overwrite: bool = False,
    time_scale: float = 1.0,
    progress: Progress | None = None,
    connect_timeout: float | None = None,
    on_listen: Callable[[str, int], None] | None = None,
    on_join: Callable[[int, str], None] | None = None,
    sign_key: SignKey = None,
) -> RunResult:
    """``bgdsim serve``: listen on ``HOST:PORT`` and run once the m workers are connected
    and ready (or ``connect_timeout`` seconds have passed: the absent ones are missing;
    default max(60 s, 10 ms × m), :func:`connect_deadline`).

    Keys are read from ``<keys_dir>/worker-<j>.key``; if the folder holds none, they are
    written first (:func:`write_keys`). The socket is bound before the log is opened
    (``log_path``, ``overwrite`` and ``sign_key`` as for :func:`bgdsim.run`).
    ``on_join(j, peer)`` is called as worker j (connected from ``peer``) becomes ready.
    """
    host, port = split_address(listen)
    m = scenario.cluster.workers
    if not any(key_path(keys_dir, j).exists() for j in range(m)):
        write_keys(keys_dir, m)
    keys = [read_key(key_path(keys_dir, j)) for j in range(m)]
    return await _serve(
        scenario,
        keys,
        host=host,
        port=port,
        log_path=log_path,
        overwrite=overwrite,
        time_scale=time_scale,
        progress=progress,
        connect_timeout=connect_deadline(m, 60.0) if connect_timeout is None else connect_timeout,
        local=None,
        on_listen=on_listen,
        on_join=on_join,
        sign_key=sign_key,
    )
