"""One attacked run, then the very same faults against every aggregator.

Runs the paper's linear regression once under a hostile world — a new random Byzantine
set every round sending gaussian noise, lossy links with heavy-tailed latencies,
stragglers, a crash — and logs it. Then it re-runs that log's recorded world (the same
Byzantine sets, latencies, losses, send times and attack draws) against every
aggregator, and prints a table: each defence faces exactly the same faults.

    python scenarios/replay_what_if.py [--out results/what-if] [--rounds 30]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import bgdsim
from bgdsim import aggregators

HERE = Path(__file__).resolve().parent
WORLD = {
    "name": "what-if",
    "adversary.attack": {"kind": "gaussian", "scale": 30.0},
    "cluster.byzantine": 8,
    "network.latency": {"kind": "lognormal", "mu": -4.0, "sigma": 1.0},
    "network.loss": {"kind": "gilbert_elliott", "loss_rate": 0.05, "burst": 3.0},
    "cluster.compute_time": {"kind": "exponential", "mean": 0.02},
    "server.round_timeout": 0.3,
    "faults": [{"kind": "crash", "workers": [0, 1, 2, 3], "from": 5, "until": 15}],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("results") / "what-if")
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    parent = args.out / "parent.jsonl"
    scenario = bgdsim.load_scenario(
        HERE / "paper_linear_regression.toml", {**WORLD, "rounds": args.rounds}
    )
    original = bgdsim.run(scenario, log_path=parent, overwrite=True)  # this script's own logs
    check = bgdsim.verify(parent)
    print(f"parent run: {scenario.server.aggregator}, final error {original.final_error:.4g}; "
          f"{check.message()}\n")  # fmt: skip
    print("| aggregator | final error | min error | reports delivered | verified |")
    print("|---|---|---|---|---|")
    for name in aggregators.names():
        path = args.out / f"{name}.jsonl"
        try:
            result = bgdsim.rerun(parent, {"server.aggregator": name, "name": f"what-if-{name}"},
                                  log_path=path, overwrite=True)  # fmt: skip
        except bgdsim.ScenarioError as exc:  # e.g. a rule whose preconditions q breaks
            print(f"| {name} | (not run: {exc}) | | | |")
            continue
        ok = "yes" if bgdsim.verify(path).ok else "NO"
        print(f"| {name} | {result.final_error:.4g} | {min(result.errors):.4g} | "
              f"{result.counts['up_delivered']} | {ok} |")  # fmt: skip


if __name__ == "__main__":
    main()
