"""Softmax regression on scikit-learn's digits under the strongest attacks, every defence.

Digits (1 797 8×8 images, 10 classes, 20 % held out), m = 20 workers, 40 rounds,
q Byzantine workers re-drawn each round; each defence's final test accuracy, mean over
the seeds, without and with worker momentum (β = 0.9, Karimireddy, He, Jaggi 2021).
Runs on the vector runtime without logs. Prints a Markdown table and saves a figure.

    python scenarios/real_data.py [--seeds 5] [--byzantine 3] [--out results]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import bgdsim
from bgdsim.vector import run_vector

ATTACKS: dict[str, dict[str, Any]] = {
    "none": {},
    "sign_flip x100": {"attack": "sign_flip", "params": {"scale": 100.0}},
    "alie": {"attack": "alie", "params": {}},
    "ipm": {"attack": "ipm", "params": {}},
}
DEFENCES = ["mean", "gmom", "geomed", "coordinate_median", "trimmed_mean", "krum",
            "centered_clipping"]  # fmt: skip


def rule(defence: str) -> dict[str, Any]:
    """The defence's table: k = 10 batches for the rules that batch."""
    batching = bgdsim.aggregators.takes_batches(bgdsim.aggregators.get(defence))
    return {"kind": defence, "batches": 10} if batching else {"kind": defence}


def scenario(defence: str, attack: str, q: int, momentum: float | None, seed: int) -> Any:
    """The one place the scenario is written (the table layout of its keys may change)."""
    spec = ATTACKS[attack]
    over: dict[str, Any] = {
        "name": "digits",
        "rounds": 40,
        "problem.kind": "softmax_regression",
        "problem.dataset": "digits",
        "problem.test_fraction": 0.2,
        "cluster.workers": 20,
        "cluster.byzantine": q if spec else 0,
        "server.aggregator": rule(defence),
        "server.step_size": 0.5,
        "adversary.attack": {"kind": spec.get("attack", "sign_flip"), **spec.get("params", {})},
    }
    if momentum:
        over["worker"] = {"momentum": momentum}
    return bgdsim.load_scenario(None, over, seed=seed)


def accuracy(defence: str, attack: str, q: int, momentum: float | None, seeds: int) -> float:
    """Mean final test accuracy over the seeds (0 for a run that diverged)."""
    accs = []
    for seed in range(seeds):
        result = run_vector(scenario(defence, attack, q, momentum, seed), log_path=False)
        acc = result.metrics["test_accuracy"][-1] if result.status == "completed" else 0.0
        accs.append(float(acc))
    return float(np.mean(accs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--byzantine", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("results"))
    args = ap.parse_args()
    table: dict[tuple[str, str, str], float] = {}
    print(f"digits, m = 20, q = {args.byzantine}, 40 rounds, mean test accuracy over "
          f"{args.seeds} seeds (plain / momentum 0.9)\n")  # fmt: skip
    print("| defence | " + " | ".join(ATTACKS) + " |")
    print("|---" * (len(ATTACKS) + 1) + "|")
    for defence in DEFENCES:
        cells = []
        for attack in ATTACKS:
            for label, beta in (("plain", None), ("momentum", 0.9)):
                table[defence, attack, label] = accuracy(
                    defence, attack, args.byzantine, beta, args.seeds
                )
            cells.append(f"{table[defence, attack, 'plain']:.3f} / "
                         f"{table[defence, attack, 'momentum']:.3f}")  # fmt: skip
        print(f"| {defence} | " + " | ".join(cells) + " |", flush=True)
    figure(table, args.out / "real_data_digits.png")


def figure(table: dict[tuple[str, str, str], float], path: Path) -> None:
    """Grouped bars: one panel per attack, each defence without and with momentum."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(ATTACKS), figsize=(4 * len(ATTACKS), 4), sharey=True)
    x = np.arange(len(DEFENCES))
    for ax, attack in zip(axes, ATTACKS, strict=True):
        for k, label in enumerate(("plain", "momentum")):
            ax.bar(x + 0.4 * k - 0.2, [table[d, attack, label] for d in DEFENCES], 0.4,
                   label=label)  # fmt: skip
        ax.set_title(attack)
        ax.set_xticks(x, DEFENCES, rotation=60, ha="right")
    axes[0].set_ylabel("final test accuracy")
    axes[0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"\nfigure: {path}")


if __name__ == "__main__":
    main()
