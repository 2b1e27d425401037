"""Benchmark: the round overhead of the asyncio and TCP runtimes against SimPy.

What is measured
    The same run — linear regression, m = 100 workers, d = 10 000, N = 10 000 (100 samples
    per worker), gmom k = 10, q = 5 sign flip, 10 rounds, zero latency, full event log, a
    60 s round timeout (the barrier waits for all m: a hiccup of the machine must not
    turn into a timed-out round and another trajectory) —
    on the three runtimes. The data are built
    once and untimed (``bgdsim.problems.build`` cached, as in the other benchmarks).
    A runtime's *round overhead* is (its wall time − the SimPy runtime's) / rounds: what
    real tasks, sockets, framing and MACs (HMAC-SHA256) add to the same protocol. On
    TCP the honest workers also compute their own gradients (m local gradients a round,
    in this one process, on top of the server's batched call that feeds the omniscient
    adversary): that compute is timed alone (``worker gradients``, the m calls of
    ``Problem.local(j).gradients`` at one θ) and subtracted for the *net* overhead.

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
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import cached_build, machine_rows, rotated, table, timed

import bgdsim
import bgdsim.problems
from bgdsim.live import run_asyncio, run_tcp
from bgdsim.rng import stream


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
    many_workers(repeats, 5 if args.quick else 20)
    return 0


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
