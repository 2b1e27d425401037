"""The TCP runtime's server end: connections, frames in, task frames out.

:class:`TcpServer` is the transport a :class:`~bgdsim.live.driver.LiveDriver` broadcasts
through. On each connection it writes the greeting (the run's id, a fresh nonce), takes
the worker's ``hello`` (within ``HELLO_TIMEOUT``), answers ``welcome`` (the resolved
scenario and seed, as JSON) and counts the worker connected at its ``ready``. Each round
it serialises θ once; after each down-link's latency it sends every reached
worker its ``task`` (θ to an honest one, the adversary's message to a Byzantine one, or
``silent``) and feeds the reports that come back to the round engine.

What it refuses: a frame over the size limit, a truncated frame, one that does not parse,
claims another worker, comes out of order (a replay) or fails its MAC — logged as
``frame_rejected`` with the peer, the connection is closed, the worker is missing from
then on; never a crash, never a hang (the barrier still fires at the round timeout).
Well-formed reports go to the server core as in every runtime: a wrong round, a wrong
shape or a NaN/Inf is a ``rejected`` report (logged with its ``send``, so ``bgdsim replay
--verify`` recomputes it). A worker that disconnects mid-round is a missing report
(``peer_closed``).

What one peer can make the server log is bounded (:mod:`bgdsim.live.budget`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from bgdsim import events as ev
from bgdsim.engine import Groups, PlannedRound
from bgdsim.live.budget import FLOOD_BUDGET, FRAME_FLOOD, FrameBudget
from bgdsim.live.driver import LiveDriver
from bgdsim.live.frames import (
    ID_SIZE,
    MAX_HEADER,
    Channel,
    FrameError,
    greeting,
    peek_header,
    read_body,
    read_nonce,
    to_array,
)

__all__ = ["HELLO_TIMEOUT", "STALL_FRAMES", "TcpServer"]

HELLO_TIMEOUT = 5.0
#: a worker with more than this many full frames unread in its send buffer is dropped
STALL_FRAMES = 2


class TcpServer:
    """The server side of the sockets: connections, frames in, task frames out."""

    def __init__(
        self,
        driver: LiveDriver,
        keys: list[bytes],
        on_join: Callable[[int, str], None] | None = None,
    ) -> None:
        self.driver = driver
        self.on_join = on_join  # (j, peer) as worker j is ready
        self.engine = driver.engine
        self.keys = keys
        m, d = self.engine.m, self.engine.core.dim
        self.max_frame = 6 + MAX_HEADER + 16 * d + 1024
        self.run_id = os.urandom(ID_SIZE)
        sc = self.engine.sc
        self.welcome = orjson.dumps({"scenario": sc.to_dict(), "seed": sc.seed})
        self.conns: dict[int, tuple[asyncio.StreamWriter, Channel]] = {}
        self.joining: set[int] = set()  # said hello, building their data
        self.connected = asyncio.Event()
        self.handlers: set[asyncio.Task[Any]] = set()
        self.server: asyncio.Server | None = None
        self.port = 0
        self.m = m
        self.frames_rejected = 0
        self.budget = FrameBudget(FLOOD_BUDGET, max(m, FLOOD_BUDGET))
        # a frame's body must follow its length within a round timeout (at least 50 ms)
        self.body_timeout = max(self.engine.sc.server.round_timeout * driver.ts, 0.05)

    async def start(self, host: str, port: int) -> None:
        # a backlog of m: workers connecting at once all queue (the system caps it)
        self.server = await asyncio.start_server(self._handle, host, port, backlog=max(self.m, 100))
        self.port = int(self.server.sockets[0].getsockname()[1])

    def _now(self) -> float:
        return self.driver.now() if self.driver.loop is not None else 0.0

    # ------------------------------------------------------------------ incoming
    def _reject(self, peer: str, worker: int | None, reason: str) -> None:
        self.frames_rejected += 1
        if not self.budget.admit(worker, self.engine.t, reason):
            return
        fields: dict[str, Any] = {"round": self.engine.t}
        if worker is not None:
            fields["worker"] = worker
        self.engine.log.emit(ev.FRAME_REJECTED, self._now(), **fields, peer=peer, reason=reason)

    async def _join(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[int, Channel]:
        """Greeting, the worker's nonce and hello (within ``HELLO_TIMEOUT``): the worker and
        its channel."""
        nonce = os.urandom(ID_SIZE)
        writer.write(greeting(self.run_id, nonce))

        async def hello() -> tuple[bytes, bytes]:
            theirs = await read_nonce(reader)
            return theirs, await read_body(reader, 1024 + MAX_HEADER)

        theirs, frame = await asyncio.wait_for(hello(), HELLO_TIMEOUT)
        header = peek_header(frame)
        j = header["worker"]
        if header["kind"] != "hello" or not 0 <= j < self.m:
            raise FrameError(f"expected a hello from a worker 0..{self.m - 1}")
        channel = Channel(self.keys[j], j, self.run_id, nonce + theirs, server=True)
        channel.open(frame)
        if j in self.conns or j in self.joining:
            raise FrameError(f"worker {j} is already connected")
        return j, channel

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        peer = _peer(writer)
        j: int | None = None
        try:
            j, channel = await self._join(reader, writer)
            self.joining.add(j)
            writer.write(channel.seal("welcome", 0, self.welcome, format="json"))
            header, _ = channel.open(await read_body(reader, 1024 + MAX_HEADER))
            if header["kind"] != "ready":
                raise FrameError(f"expected ready, got a {header['kind']!r} frame")
            self.joining.discard(j)
            self.conns[j] = (writer, channel)
            if len(self.conns) == self.m:
                self.connected.set()
            if self.on_join is not None:
                self.on_join(j, peer)
            while True:
                frame = await read_body(reader, self.max_frame, self.body_timeout)
                header, payload = channel.open(frame)
                if header["kind"] != "report":
                    raise FrameError(f"a {header['kind']!r} frame from a worker")
                self._report(j, header["round"], to_array(header, payload, copy=False), peer)
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
            if j is not None:
                self.joining.discard(j)
                if self.conns.get(j, (None,))[0] is writer:
                    del self.conns[j]
            writer.close()
            self.handlers.discard(task)

    def _report(self, j: int, t: int, vector: np.ndarray, peer: str) -> None:
        engine, driver = self.engine, self.driver
        if engine.inbox is None:
            raise FrameError("a report before the first round")
        if not self.budget.answers(j, t) and not self.budget.admit(
            j, engine.t, f"a report of round {t} that answers no task"
        ):
            return  # over its budget: dropped, counted, summarised when the round is over
        _, decision = engine.remote_report(j, t, vector, driver.now(), peer=peer)
        driver.decide(engine.t, decision)

    # ------------------------------------------------------------------ outgoing
    def broadcast(self, plan: PlannedRound, groups: Groups) -> None:
        # θ_{t-1} as this round opens: serialised once for all its frames
        theta = np.ascontiguousarray(self.engine.core.theta, dtype="<f8").tobytes()
        self._floods(plan.t)
        for latency, workers in groups:
            self.driver.spawn(self._down(latency, workers, plan, theta))

    async def _down(
        self, latency: float, workers: list[int], plan: PlannedRound, theta: bytes
    ) -> None:
        driver, engine = self.driver, self.engine
        await asyncio.sleep(latency * driver.ts)
        now, t, d = driver.now(), plan.t, engine.core.dim
        lost = {
            j: "disconnected"
            for j in workers
            if (c := self.conns.get(j)) is None or c[0].is_closing() or self._stalled(j, c[0])
        }
        engine.deliver(plan, workers, now, lost)
        writers = []
        for j in workers:
            if j in lost:
                continue
            writer, channel = self.conns[j]
            msg = plan.outgoing[j]
            wait = max(plan.send_at[j] - now, 0.0)
            if not plan.sends[j] or msg is None or msg.dtype.hasobject:
                frame = channel.seal("task", t, silent=True)
            elif plan.up_lost[j] is not None:  # the up-link loses it: sent, then dropped
                driver.later(wait, self._lost, plan, j)
                frame = channel.seal("task", t, silent=True)
            else:
                wait = (wait + plan.up_latency[j]) * driver.ts
                if j in plan.byzantine:  # the adversary's message, written here
                    body = np.ascontiguousarray(msg)
                    kw = {"role": "byzantine", "dtype": body.dtype.str, "shape": list(body.shape)}
                    frame = channel.seal("task", t, body, wait=wait, **kw)
                    self.budget.task(t, j)
                else:  # honest: θ, and the worker computes its own gradient
                    kw = {"role": "honest", "dtype": "<f8", "shape": [d]}
                    frame = channel.seal("task", t, theta, wait=wait, **kw)
                    self.budget.task(t, j)
            writer.write(frame)
            writers.append(writer)
        for writer in writers:
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    def _stalled(self, j: int, writer: asyncio.StreamWriter) -> bool:
        """Worker j has not read what it was sent: more than ``STALL_FRAMES`` full frames
        wait in its socket's send buffer. Its connection is closed (it is missing from
        then on, as a worker that disconnected), so that a peer that stops reading cannot
        make the server's memory grow round after round."""
        if writer.transport.get_write_buffer_size() <= STALL_FRAMES * self.max_frame:
            return False
        self._reject(_peer(writer), j, "not reading its frames (send buffer full)")
        writer.close()
        return True

    def _lost(self, plan: PlannedRound, j: int) -> None:
        """Worker j's report enters an up-link that loses it (logged as sent and dropped)."""
        self.engine.reports_sent(plan, [j], self.driver.now())

    def _floods(self, before: int | None) -> None:
        """One ``frame_flood`` per peer over its budget in each round before ``before``."""
        for worker, t, dropped, reason in self.budget.close(before):
            fields: dict[str, Any] = {"round": t}
            if worker is not None:
                fields["worker"] = worker
            fields.update(dropped=dropped, budget=self.budget.limit(worker), reason=reason)
            self.engine.log.emit(FRAME_FLOOD, self._now(), **fields)

    async def end(self) -> None:
        """Tell every connected worker the run is over (after the last floods' summaries)."""
        self._floods(None)
        writers = []
        for writer, channel in list(self.conns.values()):
            if not writer.is_closing():
                writer.write(channel.seal("end", 0))
                writers.append(writer)
        for writer in writers:
            try:
                await asyncio.wait_for(writer.drain(), 1.0)
            except (ConnectionError, asyncio.TimeoutError):  # gone, or not reading: closed
                writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer, _ in list(self.conns.values()):
            writer.close()
        while self.handlers:
            handlers = list(self.handlers)
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            self.handlers.difference_update(handlers)
        if self.server is not None:
            await self.server.wait_closed()


# ---------------------------------------------------------------------- connections


def _peer(writer: asyncio.StreamWriter) -> str:
    """The connection's remote address, ``host:port``."""
    name = writer.get_extra_info("peername")
    return f"{name[0]}:{name[1]}" if isinstance(name, tuple) else str(name)
