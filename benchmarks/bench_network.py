"""Benchmark: the cost of the network model at m = 2000.

What is measured
    The same run (linear regression, m = 2000 workers, d = 10, N = 20 000, q = 5 sign
    flip, gmom k = 20, 5 rounds, full event log) under two networks:

    * **rich network** — lognormal link latencies (median 10 ms, sigma 0.5), 1 % bursty
      loss (Gilbert–Elliott, mean burst 4 messages) on every link, and a quorum barrier
      (1900 of the 2000 reports, 5 ms grace);
    * **baseline** — constant 10 ms latency, no loss, the ``all`` barrier: the cheapest
      network the simulator has.

    The data are built once and untimed (``bgdsim.problems.build`` is cached, as in the
    other benchmarks). Both contenders alternate in one process; medians are reported.

Target
    rich network <= 1.3 × baseline: the network model must not dominate a run.

Note
    With a constant latency every message of a broadcast arrives at one instant and the
    runtime coalesces them into one SimPy event; with lognormal latencies each message is
    its own event. Part of the ratio is therefore the event loop itself, not the network
    model; the script also reports the rich network with a constant latency (loss and
    quorum only) to separate the two.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import cached_build, machine_rows, rotated, table, timed

import bgdsim
import bgdsim.problems
from bgdsim.rng import stream

BASE: dict[str, Any] = {
    "name": "bench-network",
    "problem.samples": 20_000,
    "problem.dim": 10,
    "cluster.workers": 2000,
    "cluster.byzantine": 5,
    "server.aggregator.batches": 20,
    "server.round_timeout": 1.0,
}
CONSTANT = {"kind": "constant", "value": 0.01}
LOGNORMAL = {"kind": "lognormal", "mu": -4.605, "sigma": 0.5}
BURSTY = {"kind": "gilbert_elliott", "loss_rate": 0.01, "burst": 4.0}
QUORUM = {"server.barrier": "quorum", "server.quorum": 1900, "server.grace": 0.005}

CONTENDERS: dict[str, dict[str, Any]] = {
    "baseline: constant latency, no loss, all": {"network.latency": CONSTANT},
    "rich: lognormal, 1 % bursty loss, quorum": {
        "network.latency": LOGNORMAL,
        "network.loss": BURSTY,
        **QUORUM,
    },
    "constant latency, 1 % bursty loss, quorum": {
        "network.latency": CONSTANT,
        "network.loss": BURSTY,
        **QUORUM,
    },
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="2 rounds, 3 repeats")
    args = ap.parse_args(argv)
    rounds = 2 if args.quick else 5
    repeats = 3 if args.quick else args.repeats
    scenarios = {
        name: bgdsim.load_scenario(overrides={**BASE, "rounds": rounds, **extra})
        for name, extra in CONTENDERS.items()
    }
    first = next(iter(scenarios.values()))
    problem = bgdsim.problems.build(first.problem, first.cluster.workers, stream(0, "data"))
    times: dict[str, list[float]] = {name: [] for name in scenarios}
    with tempfile.TemporaryDirectory(prefix="bgdsim-bench-") as tmp:
        results = {}
        for name, sc in scenarios.items():  # warm-up, and a sanity check of each run
            with cached_build(problem, sc):
                results[name] = bgdsim.run(sc, log_path=Path(tmp) / "w.jsonl", overwrite=True)
        for _, name in rotated(list(scenarios), repeats):
            sc = scenarios[name]
            with cached_build(problem, sc):
                times[name].append(
                    timed(
                        lambda sc=sc: bgdsim.run(sc, log_path=Path(tmp) / "r.jsonl", overwrite=True)
                    )
                )
    med = {name: statistics.median(ts) for name, ts in times.items()}
    base = med["baseline: constant latency, no loss, all"]
    rows = []
    for name, ts in times.items():
        c = results[name].counts
        rows.append((
            name, f"{1e3 * med[name]:.1f}", f"{1e3 * min(ts):.1f}", f"{1e3 * max(ts):.1f}",
            f"{c['down_dropped'] + c['up_dropped']}", f"{c['barrier_quorum']}/{c['barrier_all']}",
            f"{med[name] / base:.2f}",
        ))  # fmt: skip
    rich = med["rich: lognormal, 1 % bursty loss, quorum"] / base
    print("# bench_network: the network model's cost at m = 2000\n")
    print(table(("machine", ""), machine_rows()))
    print()
    print(f"m = 2000, d = 10, {rounds} rounds, full event log, {repeats} repeats (medians)\n")
    header = ("network", "median ms", "min ms", "max ms", "lost msgs", "quorum/all", "× baseline")
    print(table(header, rows))
    verdict = "met" if rich <= 1.3 else "MISSED"
    print(f"\nrich network / baseline: **{rich:.2f}** (target <= 1.3: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
