"""The TCP runtime: the server listens on a socket, every worker is its own connection.

The server drives the round engine exactly as the asyncio runtime does
(:class:`~bgdsim.live.driver.LiveDriver`: the same draws, adversary, validation, barrier
and log). The adversary is omniscient and the
simulation decides every message, so a round's down frame (``kind="task"``) tells worker j
what to send back and how long to wait first (compute + an attack's delay + its up-link
latency, × ``time_scale``; ``silent`` when it sends nothing or the link loses it); the
server sleeps each down-link's latency before writing. A worker answers with a
``kind="report"`` frame signed with its key (:mod:`bgdsim.live.frames`).

What the server refuses: a frame over the size limit, a truncated frame, one that does not
parse, claims another worker, or fails its MAC — logged as ``frame_rejected`` with the
peer, the connection is closed, the worker is missing from then on; never a crash, never a
hang (the barrier still fires at the round timeout). Well-formed reports go to the server
core as in every runtime: a wrong round, a wrong shape or a NaN/Inf is a ``rejected``
report (logged with its ``send``, so ``bgdsim replay --verify`` recomputes it). A report's
``send`` is logged at the simulated time it entered its up-link: its arrival minus the
round's up-link latency (the worker emulates that latency by waiting). A worker
that disconnects mid-round is a missing report (``peer_closed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time as _time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim import events as ev
from bgdsim.config import Scenario
from bgdsim.engine import Groups, PlannedRound, Progress, RoundEngine, World
from bgdsim.live.driver import LiveDriver, LiveLog
from bgdsim.live.frames import (
    MAX_HEADER,
    FrameError,
    derive_key,
    encode,
    key_path,
    parse,
    peek_header,
    read_body,
    read_key,
    to_array,
    write_keys,
)
from bgdsim.result import RunResult
from bgdsim.sim.runtime import resolve_log_path

__all__ = ["WorkerFn", "run_tcp", "serve", "split_address", "worker", "worker_loop", "write_keys"]

WorkerFn = Callable[[str, int, int, bytes], Coroutine[Any, Any, None]]
HELLO_TIMEOUT = 5.0
WORKER_MAX_FRAME = 1 << 28


def split_address(address: str) -> tuple[str, int]:
    """``"HOST:PORT"`` → (host, port)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


class _TcpServer:
    """The server side of the sockets: connections, frames in, task frames out."""

    def __init__(self, driver: LiveDriver, keys: list[bytes]) -> None:
        self.driver = driver
        self.engine = driver.engine
        self.keys = keys
        m, d = self.engine.m, self.engine.core.dim
        self.max_frame = 6 + MAX_HEADER + 16 * d + 1024
        self.conns: dict[int, asyncio.StreamWriter] = {}
        self.connected = asyncio.Event()
        self.handlers: set[asyncio.Task[Any]] = set()
        self.server: asyncio.Server | None = None
        self.port = 0
        self.m = m
        self.frames_rejected = 0
        # a frame's body must follow its length within a round timeout (at least 50 ms)
        self.body_timeout = max(self.engine.sc.server.round_timeout * driver.ts, 0.05)

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(self._handle, host, port)
        self.port = int(self.server.sockets[0].getsockname()[1])

    def _now(self) -> float:
        return self.driver.now() if self.driver.loop is not None else 0.0

    # ------------------------------------------------------------------ incoming
    def _reject(self, peer: str, worker: int | None, reason: str) -> None:
        self.frames_rejected += 1
        fields: dict[str, Any] = {"round": self.engine.t}
        if worker is not None:
            fields["worker"] = worker
        self.engine.log.emit(ev.FRAME_REJECTED, self._now(), **fields, peer=peer, reason=reason)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        name = writer.get_extra_info("peername")
        peer = f"{name[0]}:{name[1]}" if isinstance(name, tuple) else str(name)
        j: int | None = None
        try:
            frame = await asyncio.wait_for(read_body(reader, 1024 + MAX_HEADER), HELLO_TIMEOUT)
            hello = peek_header(frame)
            claimed = hello["worker"]
            if hello["kind"] != "hello" or not 0 <= claimed < self.m:
                raise FrameError(f"expected a hello from a worker 0..{self.m - 1}")
            parse(frame, self.keys[claimed])
            if claimed in self.conns:
                raise FrameError(f"worker {claimed} is already connected")
            j = claimed
            self.conns[j] = writer
            if len(self.conns) == self.m:
                self.connected.set()
            while True:
                frame = await read_body(reader, self.max_frame, self.body_timeout)
                header, payload = parse(frame, self.keys[j])
                if header["worker"] != j or header["kind"] != "report":
                    raise FrameError(f"a {header['kind']!r} frame claiming worker "
                                     f"{header['worker']}")  # fmt: skip
                self._report(j, header["round"], to_array(header, payload), peer)
        except (FrameError, asyncio.TimeoutError) as exc:
            self._reject(peer, j, str(exc) or "no hello in time")
        except (asyncio.IncompleteReadError, ConnectionError):
            if j is not None:
                self.engine.log.emit(
                    ev.PEER_CLOSED, self._now(), round=self.engine.t, worker=j, peer=peer
                )
        except asyncio.CancelledError:
            pass  # the run is over: close() cancels the handlers it could not end
        finally:
            if j is not None and self.conns.get(j) is writer:
                del self.conns[j]
            writer.close()
            self.handlers.discard(task)

    def _report(self, j: int, t: int, vector: np.ndarray, peer: str) -> None:
        engine, driver = self.engine, self.driver
        if engine.inbox is None:
            raise FrameError("a report before the first round")
        _, decision = engine.remote_report(j, t, vector, driver.now(), peer=peer)
        driver.decide(engine.t, decision)

    # ------------------------------------------------------------------ outgoing
    def broadcast(self, plan: PlannedRound, groups: Groups) -> None:
        for latency, workers in groups:
            self.driver.spawn(self._down(latency, workers, plan))

    async def _down(self, latency: float, workers: list[int], plan: PlannedRound) -> None:
        driver, engine = self.driver, self.engine
        await asyncio.sleep(latency * driver.ts)
        now, t = driver.now(), plan.t
        lost = {
            j: "disconnected" for j in workers if (w := self.conns.get(j)) is None or w.is_closing()
        }
        engine.deliver(plan, workers, now, lost)
        writers = []
        for j in workers:
            if j in lost:
                continue
            writer = self.conns[j]
            msg = plan.outgoing[j]
            header: dict[str, Any] = {"round": t, "worker": j, "kind": "task"}
            payload = b""
            wait = max(plan.send_at[j] - now, 0.0)
            if not plan.sends[j] or msg is None or msg.dtype.hasobject:
                header["silent"] = True
            elif plan.up_lost[j] is not None:  # the up-link loses it: sent, then dropped
                driver.later(wait, self._lost, plan, j)
                header["silent"] = True
            else:
                wait += plan.up_latency[j]
                header.update(dtype=msg.dtype.str, shape=list(msg.shape), wait=wait * driver.ts)
                payload = np.ascontiguousarray(msg).tobytes()
            writer.write(encode(self.keys[j], header, payload))
            writers.append(writer)
        for writer in writers:
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    def _lost(self, plan: PlannedRound, j: int) -> None:
        """Worker j's report enters an up-link that loses it (logged as sent and dropped)."""
        self.engine.reports_sent(plan, [j], self.driver.now())

    async def end(self) -> None:
        """Tell every connected worker the run is over."""
        writers = []
        for j, writer in list(self.conns.items()):
            if not writer.is_closing():
                writer.write(encode(self.keys[j], {"round": 0, "worker": j, "kind": "end"}))
                writers.append(writer)
        for writer in writers:
            with contextlib.suppress(ConnectionError):
                await asyncio.wait_for(writer.drain(), 1.0)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self.conns.values()):
            writer.close()
        while self.handlers:
            handlers = list(self.handlers)
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            self.handlers.difference_update(handlers)
        if self.server is not None:
            await self.server.wait_closed()


# ---------------------------------------------------------------------- the worker side
async def worker_loop(host: str, port: int, j: int, key: bytes) -> None:
    """Worker j: connect, say hello, answer every task frame until the server ends the run."""
    reader, writer = await asyncio.open_connection(host, port)
    pending: set[asyncio.Task[Any]] = set()

    async def reply(wait: float, t: int, vector: np.ndarray) -> None:
        await asyncio.sleep(wait)
        header = {"round": t, "worker": j, "kind": "report", "dtype": vector.dtype.str,
                  "shape": list(vector.shape)}  # fmt: skip
        writer.write(encode(key, header, vector))
        await writer.drain()

    try:
        writer.write(encode(key, {"round": 0, "worker": j, "kind": "hello"}))
        await writer.drain()
        while True:
            try:
                frame = await read_body(reader, WORKER_MAX_FRAME)
            except asyncio.IncompleteReadError:
                return  # the server closed the connection
            header, payload = parse(frame, key)
            if header["kind"] == "end":
                return
            if header["kind"] == "task" and not header.get("silent"):
                vector = to_array(header, payload)
                wait = float(header.get("wait", 0.0))
                task = asyncio.get_running_loop().create_task(reply(wait, header["round"], vector))
                pending.add(task)
                task.add_done_callback(pending.discard)
    finally:
        for task in list(pending):
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def worker(connect: str, worker_id: int, key_file: str | Path) -> None:
    """``bgdsim worker --connect HOST:PORT --id J --key-file FILE``: one worker process."""
    host, port = split_address(connect)
    await worker_loop(host, port, worker_id, read_key(key_file))


# ---------------------------------------------------------------------- the server side
async def _serve(
    scenario: Scenario,
    keys: list[bytes],
    *,
    host: str,
    port: int,
    log_path: str | Path | bool | None,
    time_scale: float,
    progress: Progress | None,
    connect_timeout: float,
    local: dict[int, WorkerFn] | None,
    on_listen: Callable[[str, int], None] | None = None,
) -> RunResult:
    wall = _time.perf_counter()
    path = resolve_log_path(scenario, log_path)
    peers: set[asyncio.Task[Any]] = set()
    with LiveLog(path) as log:
        engine = RoundEngine(World(scenario), log, progress, write_block=False)
        driver = LiveDriver(engine, time_scale=time_scale)
        tcp = _TcpServer(driver, keys)
        try:
            await tcp.start(host, port)
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
        return engine.finish(driver.now(), path, wall, frames_rejected=tcp.frames_rejected)


async def run_tcp(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    time_scale: float = 1.0,
    progress: Progress | None = None,
    secret: bytes | None = None,
    host: str = "127.0.0.1",
    connect_timeout: float = 10.0,
    workers: dict[int, WorkerFn] | None = None,
) -> RunResult:
    """Run a scenario over TCP on ``host`` (an ephemeral port), its m workers in this loop.

    Args:
        secret: the run secret the per-worker keys derive from (random if None).
        workers: replacements for some workers' coroutine (``fn(host, port, j, key)``;
            default :func:`worker_loop`), e.g. a misbehaving peer in a test.
    """
    secret = os.urandom(32) if secret is None else secret
    m = scenario.cluster.workers
    keys = [derive_key(secret, j) for j in range(m)]
    local: dict[int, WorkerFn] = dict.fromkeys(range(m), worker_loop)
    local.update(workers or {})
    return await _serve(
        scenario,
        keys,
        host=host,
        port=0,
        log_path=log_path,
        time_scale=time_scale,
        progress=progress,
        connect_timeout=connect_timeout,
        local=local,
    )


async def serve(
    scenario: Scenario,
    listen: str,
    keys_dir: str | Path,
    *,
    log_path: str | Path | bool | None = True,
    time_scale: float = 1.0,
    progress: Progress | None = None,
    connect_timeout: float = 60.0,
    on_listen: Callable[[str, int], None] | None = None,
) -> RunResult:
    """``bgdsim serve``: listen on ``HOST:PORT`` and run once the m workers are connected
    (or ``connect_timeout`` seconds have passed: the absent ones are missing).

    Keys are read from ``<keys_dir>/worker-<j>.key``; if the folder holds none, they are
    written first (:func:`write_keys`).
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
        time_scale=time_scale,
        progress=progress,
        connect_timeout=connect_timeout,
        local=None,
        on_listen=on_listen,
    )
