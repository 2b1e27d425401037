"""A run's events as they happen: ``async for event in stream(scenario): ...``.

The run writes its log as usual through a :class:`~bgdsim.live.driver.LiveLog` whose tap
receives every rendered line; the stream parses exactly those bytes, so it yields the
same events, in the same order, as the log file (payload references point into the run's
sidecar). The run executes in a worker thread (the SimPy runtime, or the asyncio runtime
in its own event loop); each line is handed over through an ``asyncio.Queue`` of bounded
size, and the run thread blocks while the queue is full (backpressure: a slow consumer
slows a live run down, it never makes the buffer grow). Closing the generator early stops
the run at its next event.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from bgdsim.config import Scenario, require_scenario
from bgdsim.live.asyncio_runtime import run_async
from bgdsim.live.driver import LiveLog, check_time_scale
from bgdsim.result import RunResult
from bgdsim.sim.runtime import resolve_log_path, run

__all__ = ["StreamStopped", "run_simpy_tapped", "stream"]

_END = object()


class StreamStopped(Exception):
    """The consumer closed the stream: the run stops."""


def run_simpy_tapped(
    scenario: Scenario, path: Path | None, tap: Any, *, wall: bool = False
) -> RunResult:
    """``bgdsim.sim.run`` with a tap on its log (the same lines, byte for byte)."""
    return run(scenario, log_path=path, open_log=partial(LiveLog, wall=wall, tap=tap))


async def stream(
    scenario: Scenario,
    runtime: str = "simpy",
    *,
    log_path: str | Path | bool | None = True,
    time_scale: float = 1.0,
    maxsize: int = 1024,
) -> AsyncIterator[dict[str, Any]]:
    """Yield the events of a run of ``scenario`` as dicts, as they are logged.

    Args:
        runtime: ``"simpy"`` or ``"asyncio"``.
        log_path: where the run's log goes (as for :func:`bgdsim.run`); the events
            reference its sidecar.
        time_scale: for the asyncio runtime.
        maxsize: the most lines buffered between the run and the consumer.
    """
    require_scenario(scenario, "stream")
    if runtime not in ("simpy", "asyncio"):
        raise ValueError(f"unknown runtime {runtime!r} (expected simpy or asyncio)")
    if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
        raise ValueError(f"maxsize must be an integer >= 1, got {maxsize!r}")
    if log_path is None or log_path is False:
        raise ValueError("stream() yields the lines of the run's log: log_path cannot be None")
    if runtime == "asyncio":
        check_time_scale(time_scale)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=maxsize)
    stop = threading.Event()
    path = resolve_log_path(scenario, log_path)

    def put(item: Any) -> None:
        if stop.is_set():
            raise StreamStopped
        fut = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
        while True:
            try:
                fut.result(timeout=0.05)
                return
            except concurrent.futures.TimeoutError:
                if stop.is_set():
                    fut.cancel()
                    raise StreamStopped from None

    def produce() -> None:
        try:
            if runtime == "simpy":
                run_simpy_tapped(scenario, path, put)
            else:
                asyncio.run(run_async(scenario, log_path=path, time_scale=time_scale, tap=put))
        except StreamStopped:
            return
        except BaseException as exc:  # handed to the consumer
            with contextlib.suppress(StreamStopped):
                put(exc)
            return
        with contextlib.suppress(StreamStopped):
            put(_END)

    worker = loop.run_in_executor(None, produce)
    try:
        while True:
            item = await queue.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            yield orjson.loads(item)
    finally:
        stop.set()
        while not worker.done():
            while not queue.empty():
                queue.get_nowait()
            await asyncio.sleep(0.01)
        await worker
