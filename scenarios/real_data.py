"""Softmax regression on scikit-learn's digits under the strongest attacks, every defence.

Digits (1 797 8×8 images, 10 classes, 20 % held out), m = 20 workers, 40 rounds,
q Byzantine workers re-drawn each round; each defence's final test accuracy, mean over
the seeds, without and with worker momentum (β = 0.9, Karimireddy, He, Jaggi 2021).
Runs on the vector runtime without logs. Prints a Markdown table and saves a figure.
``--batch-size B`` gives every worker mini-batch gradients of B samples; ``--defences``
and ``--attacks`` run a part of the table.

    python scenarios/real_data.py [--seeds 5] [--byzantine 3] [--batch-size B]
                                  [--defences ...] [--attacks ...] [--out results]
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
DEFENCES = ["mean", "gmom", "nnm+gmom", "geomed", "coordinate_median", "trimmed_mean", "krum",
            "centered_clipping", "centered_clipping_history"]  # fmt: skip


def server(defence: str) -> dict[str, Any]:
    """The defence's ``[server]`` keys: ``pre+rule`` runs the pre-aggregator ``pre`` (e.g.
    nearest-neighbour mixing) before the rule; k = 10 batches for the rules that batch."""
    *pre, name = defence.split("+")
    batching = bgdsim.aggregators.takes_batches(bgdsim.aggregators.get(name))
    out: dict[str, Any] = {
        "server.aggregator": {"kind": name, "batches": 10} if batching else {"kind": name}
    }
    if pre:
        out["server.pre"] = [{"kind": p} for p in pre]
    return out


def scenario(
    defence: str, attack: str, q: int, momentum: float | None, seed: int, batch: int | None = None
) -> Any:
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
        **server(defence),
        "server.step_size": 0.5,
        "adversary.attack": {"kind": spec.get("attack", "sign_flip"), **spec.get("params", {})},
    }
    worker = {"momentum": momentum} if momentum else {}
    if batch:
        worker["batch_size"] = batch
    if worker:
        over["worker"] = worker
    return bgdsim.load_scenario(None, over, seed=seed)


def accuracy(
    defence: str, attack: str, q: int, momentum: float | None, seeds: int, batch: int | None = None
) -> float:
    """Mean final test accuracy over the seeds (0 for a run that diverged)."""
    accs = []
    for seed in range(seeds):
        sc = scenario(defence, attack, q, momentum, seed, batch)
        result = run_vector(sc, log_path=False)
        acc = result.metrics["test_accuracy"][-1] if result.status == "completed" else 0.0
        accs.append(float(acc))
    return float(np.mean(accs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--byzantine", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=None, help="mini-batch size b")
    ap.add_argument("--defences", nargs="+", default=DEFENCES, choices=DEFENCES)
    ap.add_argument("--attacks", nargs="+", default=list(ATTACKS), choices=list(ATTACKS))
    ap.add_argument("--out", type=Path, default=Path("results"))
    args = ap.parse_args()
    table: dict[tuple[str, str, str], float] = {}
    batch = "full gradients" if args.batch_size is None else f"mini-batches of {args.batch_size}"
    print(f"digits, m = 20, q = {args.byzantine}, 40 rounds, {batch}, mean test accuracy "
          f"over {args.seeds} seeds (plain / momentum 0.9)\n")  # fmt: skip
    print("| defence | " + " | ".join(args.attacks) + " |")
    print("|---" * (len(args.attacks) + 1) + "|")
    for defence in args.defences:
        cells = []
        for attack in args.attacks:
            for label, beta in (("plain", None), ("momentum", 0.9)):
                table[defence, attack, label] = accuracy(
                    defence, attack, args.byzantine, beta, args.seeds, args.batch_size
                )
            cells.append(f"{table[defence, attack, 'plain']:.3f} / "
                         f"{table[defence, attack, 'momentum']:.3f}")  # fmt: skip
        print(f"| {defence} | " + " | ".join(cells) + " |", flush=True)
    figure(table, args.defences, args.attacks, args.out / "real_data_digits.png")


def figure(
    table: dict[tuple[str, str, str], float], defences: list[str], attacks: list[str], path: Path
) -> None:
    """Grouped bars: one panel per attack, each defence without and with momentum."""
    from bgdsim.plots import style

    fig = style.new_figure(4 * len(attacks), 4)
    axes = fig.subplots(1, len(attacks), sharey=True, squeeze=False)
    x = np.arange(len(defences))
    for ax, attack in zip(axes[0], attacks, strict=True):
        for k, label in enumerate(("plain", "momentum")):
            ax.bar(x + 0.4 * k - 0.2, [table[d, attack, label] for d in defences], 0.4,
                   label=label)  # fmt: skip
        ax.set_title(attack)
        ax.set_xticks(x, defences, rotation=60, ha="right")
    axes[0, 0].set_ylabel("final test accuracy")
    axes[0, 0].legend()
    written = style.save_figure(fig, path.parent, path.stem)
    print(f"\nfigure: {', '.join(map(str, written))}")


if __name__ == "__main__":
    main()
