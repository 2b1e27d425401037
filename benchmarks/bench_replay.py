"""Benchmark: ``replay --verify`` against the aggregation work it must redo.

What is measured
    A 200-round log of the paper's problem at m = 1000 workers, d = 100 (N = 100 000,
    gmom with k = 20, q = 5 sign flip, constant latency; ~600 k lines, ~160 MB of
    payloads) is written once. Then, alternating:

    * **verify** — ``bgdsim.verify(log)``: the digest chain over every line and payload
      byte, and every round recomputed (validation verdicts, missing reports, aggregate,
      update) from the recorded reports;
    * **aggregation alone** — the same 200 aggregations and updates in a bare loop over
      the recorded ``(m, d)`` report matrices, loaded into memory beforehand (untimed);
    * **digest chain alone** — BLAKE2b over the log's bytes (lines and sidecar, read into
      memory beforehand): the integrity check verify cannot skip, a sequential hash that
      runs on one core whatever else runs beside it. Its ratio to the aggregation loop is
      a floor under verify's.

Target
    verify <= 1.5 × aggregation alone (verify recomputes no gradients).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import machine_rows, rotated, table, timed

import bgdsim
from bgdsim import aggregators
from bgdsim.replay import read_log


def matrices(path: Path, m: int, d: int) -> list[np.ndarray]:
    """Each round's received reports as an (m, d) matrix (zeros where missing)."""
    sends: dict[tuple[int, int], np.ndarray] = {}
    out: dict[int, np.ndarray] = {}
    for e in read_log(path, payloads=True):
        if e["event"] == "send" and e["dir"] == "up":
            sends[(e["round"], e["worker"])] = e["payload"]
        elif e["event"] == "deliver" and e["dir"] == "up":
            out.setdefault(e["round"], np.zeros((m, d)))[e["worker"]] = sends.pop(
                (e["round"], e["worker"])
            )
    return [out[t] for t in sorted(out)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="20 rounds, 3 repeats")
    args = ap.parse_args(argv)
    rounds = 20 if args.quick else 200
    repeats = 3 if args.quick else args.repeats
    m, d = 1000, 100
    sc = bgdsim.load_scenario(overrides={
        "name": "bench-replay", "rounds": rounds, "cluster.workers": m, "problem.dim": d,
        "problem.samples": 100_000, "server.aggregator.batches": 20,
    })  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bgdsim-bench-") as tmp:
        path = Path(tmp) / "run.jsonl"
        bgdsim.run(sc, log_path=path)
        with open(path, "rb") as f:
            lines = sum(1 for _ in f)
        mb = path.with_suffix(".bin").stat().st_size / 1e6
        mats = matrices(path, m, d)
        fn = aggregators.get("gmom")

        def aggregation_alone() -> None:
            theta = np.zeros(d)
            for x in mats:
                theta = theta - 0.5 * fn(x, batches=20)

        raw = [path.read_bytes(), path.with_suffix(".bin").read_bytes()]

        def digest_chain() -> None:
            for data in raw:
                hashlib.blake2b(data, digest_size=16).digest()

        def verify() -> None:
            check = bgdsim.verify(path)
            if not (check.ok and check.rounds == rounds):
                raise AssertionError(check.message())

        jobs = {
            "verify": verify,
            "aggregation alone": aggregation_alone,
            "digest chain alone": digest_chain,
        }
        times: dict[str, list[float]] = {name: [] for name in jobs}
        for _, name in rotated(list(jobs), repeats + 1):
            times[name].append(timed(jobs[name]))
    med = {k: statistics.median(v[1:]) for k, v in times.items()}  # first: warm-up
    ratio = med["verify"] / med["aggregation alone"]
    print("# bench_replay: replay --verify vs the aggregation work alone\n")
    print(table(("machine", ""), machine_rows()))
    print(f"\nlog: {rounds} rounds, m = {m}, d = {d}: {lines} lines, {mb:.0f} MB of payloads; "
          f"{repeats} repeats (medians, after a warm-up)\n")  # fmt: skip
    rows = [(k, f"{1e3 * v:.0f}", f"{1e3 * v / rounds:.2f}") for k, v in med.items()]
    print(table(("contender", "median ms", "ms / round"), rows))
    verdict = "met" if ratio <= 1.5 else "MISSED"
    print(f"\nverify / aggregation alone: **{ratio:.2f}** (target <= 1.5: {verdict})")
    chain = med["digest chain alone"] / med["aggregation alone"]
    print(f"digest chain alone / aggregation alone: **{chain:.2f}** (a floor under verify's)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
