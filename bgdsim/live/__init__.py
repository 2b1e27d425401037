"""Live runtimes: the SimPy runtime's rounds over asyncio tasks, and over TCP on loopback."""

from __future__ import annotations

from bgdsim.live.asyncio_runtime import run_async, run_asyncio
from bgdsim.live.frames import write_keys
from bgdsim.live.stream import stream
from bgdsim.live.tcp import run_tcp, serve, worker

__all__ = ["run_async", "run_asyncio", "run_tcp", "serve", "stream", "worker", "write_keys"]
