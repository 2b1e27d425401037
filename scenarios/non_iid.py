"""Non-IID workers: each defence's final test accuracy as the Dirichlet alpha shrinks.

Softmax regression on scikit-learn's digits (20 % held out), m = 20 workers, 40 rounds;
the training samples are shared out with Dirichlet label skew (Hsu, Qi, Brown 2019):
alpha = 100 is nearly i.i.d., alpha = 0.1 leaves each worker a class or two. Each cell
is the mean final test accuracy over the seeds, without attack and with q Byzantine
workers (re-drawn each round) sending ALIE. Runs on the vector runtime without logs;
prints a Markdown table and saves a figure.

    python scenarios/non_iid.py [--seeds 3] [--byzantine 3] [--out results]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import bgdsim
from bgdsim.vector import run_vector

ALPHAS = [100.0, 1.0, 0.3, 0.1]
DEFENCES = ["mean", "gmom", "coordinate_median", "trimmed_mean", "krum", "centered_clipping"]


def rule(defence: str) -> dict[str, Any]:
    """The defence's table: k = 10 batches for the rules that batch."""
    batching = bgdsim.aggregators.takes_batches(bgdsim.aggregators.get(defence))
    return {"kind": defence, "batches": 10} if batching else {"kind": defence}


def scenario(defence: str, alpha: float, q: int, seed: int) -> Any:
    """The one place the scenario is written (the table layout of its keys may change)."""
    over: dict[str, Any] = {
        "name": "digits-non-iid",
        "rounds": 40,
        "problem.kind": "softmax_regression",
        "problem.dataset": "digits",
        "problem.test_fraction": 0.2,
        "data": {"partition": {"kind": "dirichlet", "alpha": alpha}},
        "cluster.workers": 20,
        "cluster.byzantine": q,
        "server.aggregator": rule(defence),
        "server.step_size": 0.5,
        "adversary.attack": "alie",
    }
    return bgdsim.load_scenario(None, over, seed=seed)


def accuracy(defence: str, alpha: float, q: int, seeds: int) -> float:
    """Mean final test accuracy over the seeds (0 for a run that diverged)."""
    accs = []
    for seed in range(seeds):
        result = run_vector(scenario(defence, alpha, q, seed), log_path=False)
        ok = result.status == "completed"
        accs.append(float(result.metrics["test_accuracy"][-1]) if ok else 0.0)
    return float(np.mean(accs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--byzantine", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("results"))
    args = ap.parse_args()
    table: dict[tuple[str, int, float], float] = {}
    qs = (0, args.byzantine)
    print(f"digits, m = 20, 40 rounds, Dirichlet label skew; mean test accuracy over "
          f"{args.seeds} seeds, no attack / q = {args.byzantine} ALIE\n")  # fmt: skip
    print("| defence | " + " | ".join(f"alpha = {a:g}" for a in ALPHAS) + " |")
    print("|---" * (len(ALPHAS) + 1) + "|")
    for defence in DEFENCES:
        cells = []
        for alpha in ALPHAS:
            for q in qs:
                table[defence, q, alpha] = accuracy(defence, alpha, q, args.seeds)
            cells.append(" / ".join(f"{table[defence, q, alpha]:.3f}" for q in qs))
        print(f"| {defence} | " + " | ".join(cells) + " |", flush=True)
    figure(table, qs, args.out / "non_iid_digits.png")


def figure(table: dict[tuple[str, int, float], float], qs: tuple[int, int], path: Path) -> None:
    """Accuracy against alpha (log scale), one line per defence, one panel per q."""
    from bgdsim.plots import style

    fig = style.new_figure(10, 4)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, q in zip(axes, qs, strict=True):
        for defence in DEFENCES:
            ax.plot(ALPHAS, [table[defence, q, a] for a in ALPHAS], marker="o", label=defence)
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("Dirichlet alpha (smaller: more skewed)")
        ax.set_title("no attack" if q == 0 else f"q = {q}, ALIE")
    axes[0].set_ylabel("final test accuracy")
    axes[0].legend(fontsize=8)
    written = style.save_figure(fig, path.parent, path.stem)
    print(f"\nfigure: {', '.join(map(str, written))}")


if __name__ == "__main__":
    main()
