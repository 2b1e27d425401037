"""Algorithm 1 (mean) vs. Algorithm 2 (geometric median of means) as q grows.

The paper's claim in one table: a single Byzantine worker breaks averaging, while the
geometric median of means with k batches holds its √(dk/N) floor as long as
2(1+ε)q ≤ k, and breaks down once Byzantine workers spoil half of the batches.

    python scenarios/mean_vs_gmom.py [--batches 20] [--seed 0] [--rounds 40]

A run stopped as diverged (its error past 10⁶ × the initial one, or θ not finite) shows
the error it stopped at and the round, e.g. ``1.2e+06 (diverged at t = 34)``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import bgdsim

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--attack", default="sign_flip")
    ap.add_argument("--scale", type=float, default=100.0)
    ap.add_argument("--rounds", type=int, default=None, help="default: the scenario's")
    args = ap.parse_args(argv)
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
        finals: dict[str, str] = {}
        ratio = ""
        for agg in ("mean", "gmom"):
            overrides: dict[str, object] = {
                "server.aggregator": agg,
                "cluster.byzantine": q,
                "adversary.attack": args.attack,
                "adversary.attack.scale": args.scale,
            }
            if agg == "gmom":  # the mean has no batches
                overrides["server.aggregator.batches"] = k
            if args.rounds is not None:
                overrides["rounds"] = args.rounds
            sc = bgdsim.load_scenario(base, overrides, seed=args.seed)
            result = bgdsim.run(sc, log_path=None)
            text = f"{result.final_error:.3g}"
            if result.status != "completed":
                text += f" ({result.status} at t = {result.rounds})"
            finals[agg] = text
            if agg == "gmom":
                ratio = f"{result.final_error / floor:.3g}"
        print(f"| {q} | {finals['mean']} | {finals['gmom']} | {ratio} |")


if __name__ == "__main__":
    main()
