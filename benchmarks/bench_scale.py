"""Benchmark: runs at scale, set-up included, against the numpy work of the same rounds.

What is measured (each contender in a fresh process, one after the other, so that its
peak memory is its own):

* **vector, m = 100,000** — ``run_vector`` of the paper's linear regression, d = 10,
  N = 100 m, gmom k = 20, q = m / 20 (a random set each round, sign flip ×10), lognormal
  latency, bursty (Gilbert–Elliott) loss, 200 rounds, the full log; wall time from
  loading the scenario to the closed log (data generation included) and peak RSS.
  Targets: < 60 s, < 8 GB.
* **SimPy, m = 10,000** — ``bgdsim.run`` of the same problem at m = 10,000 with lognormal
  latency, 200 rounds, the full log. Target: < 60 s.
* **log size, m = 15,000** — the vector runtime's log of 200 rounds at d = 10: bytes of
  the per-message records per message (payload vectors aside; target <= 24) and the
  whole log (target <= 500 MB; schema 1 wrote 1.09 GB of JSON + 264 MB of sidecar).
* **numpy work** — for each size, the same rounds in bare numpy (the baseline of
  ``bench_run.py``: batched gradients from sufficient statistics, the same Byzantine
  sets, sign flip, batch means, the same geometric-median solver, the update), after
  generating the same data: what a simulator cannot avoid.

``--quick`` runs 20 rounds instead of 200 (a smoke test; the targets are for 200).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import machine_rows, table

SCALE = 10.0


def scenario(m: int, rounds: int, loss: bool) -> Any:
    import bgdsim

    overrides: dict[str, Any] = {
        "name": f"scale-{m}",
        "seed": 0,
        "rounds": rounds,
        "problem.dim": 10,
        "problem.samples": 100 * m,
        "cluster.workers": m,
        "cluster.byzantine": m // 20,
        "server.aggregator.batches": 20,
        "network.latency": {"kind": "lognormal", "mu": -4.6, "sigma": 0.5},
        "adversary.schedule": "random",
        "adversary.attack": {"kind": "sign_flip", "scale": SCALE},
    }
    if loss:
        overrides["network.loss"] = {"kind": "gilbert_elliott", "loss_rate": 0.01, "burst": 5}
    return bgdsim.load_scenario(overrides=overrides)


def numpy_work(m: int, rounds: int) -> dict[str, float]:
    """Data generation, then the rounds of Algorithm 2 in bare numpy."""
    import bgdsim
    from bgdsim.rng import stream

    t0 = time.perf_counter()
    sc = scenario(m, rounds, loss=False)
    problem = bgdsim.problems.build(sc.problem, m, stream(0, "data"))
    built = time.perf_counter() - t0
    w, y = problem.covariates, problem.responses
    n = w.shape[1]
    wt = w.transpose(0, 2, 1)
    a = np.matmul(wt, w) / n
    b = np.matmul(wt, y[:, :, None])[:, :, 0] / n
    q, k = sc.cluster.byzantine, sc.server.batches
    adv = stream(0, "adversary")
    theta = np.zeros(problem.dim)
    t1 = time.perf_counter()
    for _ in range(rounds):
        g = np.matmul(a, theta) - b
        byz = np.sort(adv.choice(m, size=q, replace=False))
        honest = np.ones(m, dtype=bool)
        honest[byz] = False
        g[byz] = -SCALE * g[honest].mean(axis=0)
        means = g.reshape(k, m // k, -1).mean(axis=1)
        theta = theta - 0.5 * bgdsim.geometric_median(means, tol=1e-10)
        float(np.linalg.norm(theta - problem.theta_star))
    return {"setup_s": built, "rounds_s": time.perf_counter() - t1}


def child(kind: str, m: int, rounds: int, out: str) -> None:
    """One contender in this process; prints a JSON line."""
    result: dict[str, Any] = {"kind": kind, "m": m, "rounds": rounds}
    if kind == "numpy":
        result.update(numpy_work(m, rounds))
    else:
        import bgdsim
        from bgdsim.replay import Log
        from bgdsim.vector import run_vector

        t0 = time.perf_counter()
        sc = scenario(m, rounds, loss=kind == "vector")
        path = Path(out) / f"{kind}-{m}.jsonl"
        runner = bgdsim.run if kind == "simpy" else run_vector
        res = runner(sc, log_path=path)
        result["wall_s"] = time.perf_counter() - t0
        result["status"] = res.status
        side = path.with_suffix(".bin")
        result["log_bytes"] = path.stat().st_size + side.stat().st_size
        records = rows = 0
        with Log(path) as log:
            for _, e in log.lines():
                ref = e.get("messages")
                if ref:
                    records += int(ref["bytes"])
                    rows += int(ref["rows"])
        counts = res.counts
        messages = counts["down_sent"] + counts["up_sent"]
        result.update(record_bytes=records, record_rows=rows, messages=messages)
        path.unlink()
        side.unlink()
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(result), flush=True)


def run_child(kind: str, m: int, rounds: int, out: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, str(m), str(rounds), out]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{kind} m={m} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="20 rounds instead of 200")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        kind, m, rounds, out = args.child
        child(kind, int(m), int(rounds), out)
        return 0
    rounds = 20 if args.quick else 200
    plan = [
        ("vector", 100_000),
        ("numpy", 100_000),
        ("simpy", 10_000),
        ("vector", 10_000),
        ("numpy", 10_000),
        ("vector", 15_000),
    ]
    with tempfile.TemporaryDirectory(prefix="bgdsim-scale-") as tmp:
        results = [run_child(kind, m, rounds, tmp) for kind, m in plan]
    by = {(r["kind"], r["m"]): r for r in results}
    print(f"# bench_scale: {rounds} rounds, d = 10, N = 100 m, k = 20, q = m/20\n")
    print(table(("machine", ""), machine_rows()))
    print()
    rows = []
    for (kind, m), r in by.items():
        if kind == "numpy":
            wall = r["setup_s"] + r["rounds_s"]
            extra = f"data {r['setup_s']:.1f} s + rounds {r['rounds_s']:.1f} s"
        else:
            wall = r["wall_s"]
            base = by.get(("numpy", m))
            extra = ""
            if base is not None:
                work = base["setup_s"] + base["rounds_s"]
                extra = f"{wall / work:.2f} × numpy work ({work:.1f} s)"
        rows.append((f"{kind}, m = {m:,}", f"{wall:.1f}", f"{r['peak_rss_gb']:.2f}", extra))
    print(table(("contender", "wall s (set-up included)", "peak RSS GB", "vs numpy"), rows))
    print()
    size = by[("vector", 15_000)]
    per = size["record_bytes"] / max(size["messages"], 1)
    total_mb = size["log_bytes"] / 1e6
    big, simpy = by[("vector", 100_000)], by[("simpy", 10_000)]
    verdicts = [
        ("vector m = 100,000: < 60 s", f"{big['wall_s']:.1f} s", big["wall_s"] < 60),
        ("vector m = 100,000: < 8 GB", f"{big['peak_rss_gb']:.2f} GB", big["peak_rss_gb"] < 8),
        ("SimPy m = 10,000: < 60 s", f"{simpy['wall_s']:.1f} s", simpy["wall_s"] < 60),
        ("records per message <= 24 B (m = 15,000)", f"{per:.1f} B", per <= 24),
        ("whole log <= 500 MB (m = 15,000)", f"{total_mb:.0f} MB", total_mb <= 500),
    ]
    scaled = "" if rounds == 200 else " (targets are for 200 rounds)"
    print(
        table(
            ("target" + scaled, "measured", ""),
            [(name, value, "met" if ok else "MISSED") for name, value, ok in verdicts],
        )
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
