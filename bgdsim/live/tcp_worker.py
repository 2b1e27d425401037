"""The TCP runtime's worker: its own data, its own gradient, signed reports.

A worker connects and reads the server's greeting (the run id and a connection nonce,
:mod:`bgdsim.live.frames`), says ``hello`` and gets ``welcome``: the resolved scenario
(``Scenario.to_dict()``) and the seed, as JSON. From them it rebuilds the run's data as
the server's world draws it — :func:`~bgdsim.engine.world.build_problem` from the
seed's named streams — keeps its own share (:meth:`~bgdsim.problems.Problem.local`) and says
``ready``. Then, round after round, a ``task``:

* ``role="honest"``: the payload is θ; the worker computes ∇f̄_j(θ) on its own samples
  (bit for bit the row the server's batched call computes for the adversary's view) and
  reports it ``wait`` seconds after the task arrived (its compute time counts in);
* ``role="byzantine"``: the payload is the message the omniscient adversary (which lives
  on the server) wrote for j this round; reported after ``wait``;
* ``silent``: nothing to send (a silenced worker, or an up-link that loses the report).

``end`` closes the run. A frame that fails its checks raises
:class:`~bgdsim.live.frames.FrameError` (the worker stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from bgdsim import problems
from bgdsim.config import validate_scenario
from bgdsim.engine.world import build_problem
from bgdsim.live.frames import (
    ID_SIZE,
    Channel,
    FrameError,
    read_body,
    read_greeting,
    read_key,
    to_array,
    worker_greeting,
)
from bgdsim.rng import Streams

__all__ = ["Gradient", "LocalData", "WorkerFn", "handshake", "split_address", "worker",
           "worker_loop"]  # fmt: skip

WorkerFn = Callable[[str, int, int, bytes], Coroutine[Any, Any, object]]
Gradient = Callable[[np.ndarray], np.ndarray]
WORKER_MAX_FRAME = 1 << 28


def split_address(address: str) -> tuple[str, int]:
    """``"HOST:PORT"`` → (host, port).

    Raises:
        ValueError: not ``HOST:PORT``, or a port outside 0–65535.
    """
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    number = int(port)
    if not 0 <= number <= 65535:
        raise ValueError(f"the port must be 0 to 65535, got {number}")
    return host.strip("[]") or "127.0.0.1", number


class LocalData:
    """A worker's data, derived from the run: the server's welcome → its gradient.

    The data are rebuilt once per distinct welcome in this process, so the workers of one
    process (``run_tcp``'s) share one build.

    Args:
        own: deep-copy the worker's share so the full data can be freed (a worker
            process); otherwise shares are views into the shared build.
    """

    def __init__(self, *, own: bool) -> None:
        self.own = own
        self._welcome: bytes | None = None
        self._problem: problems.Problem | None = None

    def _build(self, welcome: bytes) -> problems.Problem:
        if welcome != self._welcome or self._problem is None:
            try:
                doc = orjson.loads(welcome)
                scenario, seed = doc["scenario"], int(doc["seed"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                raise FrameError("a welcome without a scenario and a seed") from None
            sc = validate_scenario(scenario, "the server's scenario")
            problem = build_problem(sc, Streams(seed))
            self._welcome, self._problem = welcome, problem
        return self._problem

    def gradient(self, welcome: bytes, j: int) -> Gradient:
        """Worker j's ∇f̄_j: θ → its local gradient (a ``(d,)`` float64 array)."""
        full = self._build(welcome)
        if not 0 <= j < full.workers:
            raise FrameError(f"worker {j} is not in the run's 0..{full.workers - 1}")
        try:
            share = full.local(j)
        except NotImplementedError:  # a problem that cannot be split: its row j
            return lambda theta: full.gradients(theta)[j]
        if self.own:
            share = copy.deepcopy(share)
            self._welcome = self._problem = None
        return lambda theta: share.gradients(theta)[0]


async def handshake(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, j: int, key: bytes
) -> tuple[Channel, bytes]:
    """Greeting, the worker's nonce, ``hello``, ``welcome``: worker j's channel and the
    welcome's payload (the caller says ``ready`` once it has its data)."""
    run_id, nonce = await read_greeting(reader)
    mine = os.urandom(ID_SIZE)
    channel = Channel(key, j, run_id, nonce + mine, server=False)
    writer.write(worker_greeting(mine) + channel.seal("hello", 0))
    await writer.drain()
    header, payload = channel.open(await read_body(reader, WORKER_MAX_FRAME))
    if header["kind"] != "welcome":
        raise FrameError(f"expected a welcome, got a {header['kind']!r} frame")
    return channel, bytes(payload)


async def worker_loop(
    host: str,
    port: int,
    j: int,
    key: bytes,
    *,
    data: LocalData | None = None,
    on_event: Callable[[str, int], None] | None = None,
) -> bool:
    """Worker j: connect, get the run's data, answer every task until the server ends
    the run. ``data``: where its data come from (default: its own copy); ``on_event``:
    told ``("joined", 0)``, ``("round", t)`` at each task, ``("done", 0)`` at the end.

    Returns:
        True if the server ended the run, False if it closed the connection first.
    """
    tell = on_event or (lambda _what, _t: None)
    reader, writer = await asyncio.open_connection(host, port)
    pending: set[asyncio.Task[Any]] = set()
    loop = asyncio.get_running_loop()

    def send(t: int, vector: np.ndarray) -> None:
        shape = list(vector.shape)
        writer.write(channel.seal("report", t, vector, dtype=vector.dtype.str, shape=shape))

    async def reply(wait: float, t: int, vector: np.ndarray) -> None:
        await asyncio.sleep(wait)
        send(t, vector)
        await writer.drain()

    try:
        channel, welcome = await handshake(reader, writer, j, key)
        gradient = (LocalData(own=True) if data is None else data).gradient(welcome, j)
        writer.write(channel.seal("ready", 0))
        await writer.drain()
        tell("joined", 0)
        while True:
            try:
                frame = await read_body(reader, WORKER_MAX_FRAME)
            except asyncio.IncompleteReadError:
                return False  # the server closed the connection
            header, payload = channel.open(frame)
            if header["kind"] == "end":
                tell("done", 0)
                return True
            if header["kind"] == "task":
                tell("round", int(header["round"]))
            if header["kind"] != "task" or header.get("silent"):
                continue
            start = loop.time()
            vector = to_array(header, payload, copy=False)
            if header.get("role") == "honest":
                with np.errstate(all="ignore"):  # θ may be huge after an attack
                    vector = gradient(vector)
            wait = float(header.get("wait", 0.0)) - (loop.time() - start)
            if wait <= 0.0:  # due now: no task (the next read waits on the socket anyway)
                send(header["round"], vector)
                if writer.transport.get_write_buffer_size() > 0:
                    await writer.drain()
                continue
            task = loop.create_task(reply(wait, header["round"], vector))
            pending.add(task)
            task.add_done_callback(pending.discard)
    finally:
        for task in list(pending):
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def worker(
    connect: str,
    worker_id: int,
    key_file: str | Path,
    on_event: Callable[[str, int], None] | None = None,
) -> None:
    """``bgdsim worker --connect HOST:PORT --id J --key-file FILE``: one worker process
    (``on_event`` as for :func:`worker_loop`).

    Raises:
        ConnectionError: the server closed the connection before it ended the run.
    """
    host, port = split_address(connect)
    key, data = read_key(key_file), LocalData(own=True)
    try:
        ended = await worker_loop(host, port, worker_id, key, data=data, on_event=on_event)
    except asyncio.IncompleteReadError:
        raise ConnectionError("the server closed the connection before welcoming it") from None
    if not ended:
        raise ConnectionError("the server closed the connection before the end of the run")
