"""Benchmark: the round overhead of the asyncio and TCP runtimes against SimPy.

What is measured
    The same run — linear regression, m = 100 workers, d = 10 000, N = 10 000 (100 samples
    per worker), gmom k = 10, q = 5 sign flip, 10 rounds, zero latency, full event log, a
    60 s round timeout (the barrier waits for all m: a hiccup of the machine must not
    turn into a timed-out round and another trajectory) —
    on the three runtimes. The data are built
    once and untimed (``bgdsim.problems.build`` cached, as in the other benchmarks).
    A runtime's *round overhead* is (its wall time − the SimPy runtime's) / rounds: what
    real tasks, sockets, framing and MACs (Poly1305) add to the same protocol. On
    TCP the honest workers also compute their own gradients (m local gradients a round,
    in this one process, on top of the server's batched call that feeds the omniscient
    adversary): that compute is timed alone (``worker gradients``, the m calls of
    ``Problem.local(j).gradients`` at one θ) and subtracted for the *net* overhead.

    The *bare transport* is the floor under the TCP figure: the same bytes over the same
    loopback, with nothing of a simulation — m connections in one event loop, each round
    the server writes every worker an 80 kB frame (length prefix, payload, Poly1305 tag
    under a one-time key per frame, as bgdsim's frames) and each worker checks it and
    answers with an 80 kB frame the server checks; frames are read by a
    ``BufferedProtocol`` straight into one buffer each (no stream reader, no copies),
    no headers, no log, no gradients. Its time per round is what any asyncio
    implementation of the round's transport spends before doing anything else.

    A second part measures the asyncio runtime against SimPy at m = 1 000, d = 10,
    N = 100 000, zero latency, 20 rounds, full log: rounds per second of each.

Targets
    tcp round overhead < 20 ms at m = 100 (before the workers computed their own
    gradients); now reported with and without their compute. The asyncio runtime within
    2× the SimPy runtime's time per round at m = 1 000 (was 31 vs 115 rounds/s).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import cached_build, machine_rows, rotated, table, timed

import bgdsim
import bgdsim.problems
from bgdsim.live import run_asyncio, run_tcp
from bgdsim.rng import stream

_PREFIX = struct.Struct(">I")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3 rounds, 3 repeats")
    args = ap.parse_args(argv)
    rounds = 3 if args.quick else 10
    repeats = 3 if args.quick else args.repeats
    sc = bgdsim.load_scenario(overrides={
        "name": "bench-live", "rounds": rounds, "cluster.workers": 100, "problem.dim": 10_000,
        "problem.samples": 10_000, "server.aggregator.batches": 10, "server.round_timeout": 60.0,
        "network.latency": {"kind": "constant", "value": 0.0},
    })  # fmt: skip
    problem = bgdsim.problems.build(sc.problem, 100, stream(sc.seed, "data"))
    with tempfile.TemporaryDirectory(prefix="bgdsim-bench-") as tmp, cached_build(problem, sc):
        log = Path(tmp) / "r.jsonl"
        jobs = {
            "simpy": lambda: bgdsim.run(sc, log_path=log, overwrite=True),
            "asyncio": lambda: run_asyncio(sc, log_path=log, overwrite=True),
            "tcp": lambda: asyncio.run(run_tcp(sc, log_path=log, overwrite=True)),
        }
        finals = {name: fn().final_error for name, fn in jobs.items()}  # warm-up + check
        times: dict[str, list[float]] = {name: [] for name in jobs}
        for _, name in rotated(list(jobs), repeats):
            times[name].append(timed(jobs[name]))
        theta = np.full(sc.problem.dim, 0.01)
        shares = [problem.local(j) for j in range(sc.cluster.workers)]
        grads = statistics.median(
            timed(lambda: [share.gradients(theta) for share in shares]) for _ in range(repeats)
        )
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["simpy"]
    print("# bench_live: round overhead of the live runtimes\n")
    print(table(("machine", ""), machine_rows()))
    print(f"\nm = 100, d = 10 000, {rounds} rounds, zero latency, full log; {repeats} repeats\n")
    rows = [
        (k, f"{1e3 * v:.0f}", f"{1e3 * (v - base) / rounds:.1f}", f"{finals[k]:.6g}")
        for k, v in med.items()
    ]
    print(table(("runtime", "median ms", "overhead ms / round", "final error"), rows))
    tcp = 1e3 * (med["tcp"] - base) / rounds
    net = tcp - 1e3 * grads
    verdict = "met" if net < 20 else "MISSED"
    same = len(set(finals.values())) == 1
    print(f"\nsame final error on every runtime: {'yes' if same else '**NO**'}")
    print(f"worker gradients (m local gradients, one round): {1e3 * grads:.1f} ms")
    print(f"tcp round overhead: **{tcp:.1f} ms**, net of the workers' gradients "
          f"**{net:.1f} ms** (target < 20 ms: {verdict})")  # fmt: skip
    bare = statistics.median(asyncio.run(bare_transport(100, 10_000, 3 if args.quick else 20)))
    print(f"bare transport (the same frames and tags, no simulation): {1e3 * bare:.1f} ms / round "
          f"= {1e3 * bare / 20:.2f}× the 20 ms target")  # fmt: skip
    many_workers(repeats, 5 if args.quick else 20)
    return 0


class _Framed(asyncio.BufferedProtocol):
    """Reads length-prefixed frames straight into one buffer each; ``on_frame(self, frame)``."""

    def __init__(self, on_frame: Any) -> None:
        self.on_frame = on_frame
        self.head = bytearray(_PREFIX.size)
        self.buf: bytearray | None = None
        self.pos = 0
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self.head if self.buf is None else self.buf)[self.pos :]

    def buffer_updated(self, nbytes: int) -> None:
        self.pos += nbytes
        if self.buf is None:
            if self.pos == _PREFIX.size:
                self.buf, self.pos = bytearray(_PREFIX.unpack(self.head)[0]), 0
        elif self.pos == len(self.buf):
            frame, self.buf, self.pos = self.buf, None, 0
            self.on_frame(self, frame)


async def bare_transport(m: int, d: int, rounds: int) -> list[float]:
    """Seconds per round of the bare transport (see the module's docstring)."""
    from cryptography.hazmat.primitives.poly1305 import Poly1305

    key, seq = os.urandom(32), [0]

    def tag(data: Any) -> bytes:  # a fresh one-time key per frame, as bgdsim's channel
        seq[0] += 1
        one = hashlib.blake2b(seq[0].to_bytes(8, "big"), key=key, digest_size=32).digest()
        poly = Poly1305(one)
        poly.update(data)
        return poly.finalize()

    def frame(payload: bytes) -> bytes:
        return b"".join((_PREFIX.pack(len(payload) + 16), payload, tag(payload)))

    loop = asyncio.get_running_loop()
    rng = np.random.default_rng(0)
    theta, report = rng.random(d).tobytes(), frame(rng.random(d).tobytes())
    got, done = [0], [loop.create_future()]

    def at_server(_: _Framed, data: bytearray) -> None:
        tag(memoryview(data)[:-16])
        got[0] += 1
        if got[0] == m:
            done[0].set_result(None)

    def at_worker(proto: _Framed, data: bytearray) -> None:
        tag(memoryview(data)[:-16])
        proto.transport.write(report)

    ends: list[_Framed] = []

    def accept() -> _Framed:
        ends.append(_Framed(at_server))
        return ends[-1]

    server = await loop.create_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    workers = [
        (await loop.create_connection(lambda: _Framed(at_worker), "127.0.0.1", port))[0]
        for _ in range(m)
    ]
    while len(ends) < m:
        await asyncio.sleep(0.01)
    times = []
    for _ in range(rounds + 1):  # the first one warms up
        got[0], done[0] = 0, loop.create_future()
        start = time.perf_counter()
        for end in ends:
            end.transport.write(frame(theta))
        await done[0]
        times.append(time.perf_counter() - start)
    for transport in workers:
        transport.close()
    server.close()
    await server.wait_closed()
    return times[1:]


def many_workers(repeats: int, rounds: int) -> None:
    """asyncio against SimPy at m = 1 000, zero latency: rounds per second."""
    sc = bgdsim.load_scenario(overrides={
        "name": "bench-live-1000", "rounds": rounds, "cluster.workers": 1000,
        "problem.dim": 10, "problem.samples": 100_000, "server.round_timeout": 60.0,
        "network.latency": {"kind": "constant", "value": 0.0},
    })  # fmt: skip
    problem = bgdsim.problems.build(sc.problem, 1000, stream(sc.seed, "data"))
    with tempfile.TemporaryDirectory(prefix="bgdsim-bench-") as tmp, cached_build(problem, sc):
        log = Path(tmp) / "r.jsonl"
        jobs = {
            "simpy": lambda: bgdsim.run(sc, log_path=log, overwrite=True),
            "asyncio": lambda: run_asyncio(sc, log_path=log, overwrite=True),
        }
        for fn in jobs.values():
            fn()  # warm-up
        times: dict[str, list[float]] = {name: [] for name in jobs}
        for _, name in rotated(list(jobs), repeats):
            times[name].append(timed(jobs[name]))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nm = 1 000, d = 10, {rounds} rounds, zero latency, full log; {repeats} repeats\n")
    rows = [(k, f"{1e3 * v / rounds:.2f}", f"{rounds / v:.0f}") for k, v in med.items()]
    print(table(("runtime", "ms / round", "rounds / s"), rows))
    ratio = med["asyncio"] / med["simpy"]
    verdict = "met" if ratio <= 2 else "MISSED"
    print(f"\nasyncio / simpy time per round: **{ratio:.2f}** (target <= 2: {verdict})")


if __name__ == "__main__":
    sys.exit(main())
