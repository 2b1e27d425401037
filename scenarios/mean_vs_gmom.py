"""Algorithm 1 (mean) vs. Algorithm 2 (geometric median of means) as q grows.

The paper's claim in one table: a single Byzantine worker breaks averaging, while the
geometric median of means with k batches holds its √(dk/N) floor as long as
2(1+ε)q ≤ k, and breaks down once Byzantine workers spoil half of the batches.

    python scenarios/mean_vs_gmom.py [--batches 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import bgdsim

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--attack", default="sign_flip")
    ap.add_argument("--scale", type=float, default=100.0)
    args = ap.parse_args()
    base = HERE / "paper_linear_regression.toml"
    k = args.batches
    floor = math.sqrt(10 * k / 100_000)
    print(
        f"attack {args.attack} (scale {args.scale:g}), a new random set each round, "
        f"k = {k}, gmom floor sqrt(dk/N) = {floor:.3g}, mean floor sqrt(d/N) = 0.01\n"
    )
    print("| q | mean: final error | gmom: final error | gmom / floor |")
    print("|---|---|---|---|")
    for q in (0, 1, 2, 5, 8, 10, 15):
        finals = {}
        for agg in ("mean", "gmom"):
            sc = bgdsim.load_scenario(
                base,
                {
                    "server.aggregator": agg,
                    "server.aggregator.batches": k,
                    "cluster.byzantine": q,
                    "adversary.attack": args.attack,
                    "adversary.attack.scale": args.scale,
                },
                seed=args.seed,
            )
            result = bgdsim.run(sc, log_path=None)
            finals[agg] = result.final_error
        print(
            f"| {q} | {finals['mean']:.3g} | {finals['gmom']:.3g} | {finals['gmom'] / floor:.3g} |"
        )


if __name__ == "__main__":
    main()
