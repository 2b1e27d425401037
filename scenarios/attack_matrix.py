"""Aggregators × attacks × schedules on the paper's problem: who survives what.

Runs the paper's linear regression (d = 10, N = 1e5, m = 100, q = 5 by default) for every
combination, over several seeds, and reports the median final error ‖θ_T − θ*‖ divided by
the fault-free floor (the mean's final error with no Byzantine worker, same seed). A cell
near 1 means the defence shrugged the attack off; ≥ 10 means it was broken. Prints a
markdown table per schedule and saves a heatmap.

    python scenarios/attack_matrix.py [--seeds 2] [--byzantine 5] [--jobs 2] [--quick]
        [--out results/attack_matrix.png] [--quiet]

The heatmap is written as PNG and SVG (``--out`` names the PNG). A line on stderr as
each schedule × aggregator finishes (``--quiet``: none).
"""

from __future__ import annotations

import argparse
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from _progress import steps

import bgdsim
from bgdsim import aggregators, attacks

HERE = Path(__file__).resolve().parent
BASE = HERE / "paper_linear_regression.toml"
SKIP_ATTACKS = {"malformed"}  # tests the server's validation, not the aggregators
QUICK_AGGREGATORS = ["mean", "gmom", "coordinate_median", "krum", "trimmed_mean"]
QUICK_ATTACKS = ["sign_flip", "alie", "ipm", "gm_shift", "silent"]


def final_error(job: tuple[str, str, str, int, int, int]) -> float:
    aggregator, attack, schedule, q, seed, rounds = job
    overrides: dict[str, Any] = {
        "server.aggregator": aggregator,
        "adversary.attack": attack,
        "adversary.schedule": schedule,
        "cluster.byzantine": q,
        "rounds": rounds,
    }
    result = bgdsim.run(bgdsim.load_scenario(BASE, overrides, seed=seed), log_path=None)
    return result.final_error if result.status == "completed" else math.inf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--byzantine", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--schedules", nargs="+", default=["random", "batch_spread"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="a few aggregators and attacks only")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ap.add_argument("--out", type=Path, default=Path("results") / "attack_matrix.png")
    args = ap.parse_args()

    aggs = QUICK_AGGREGATORS if args.quick else aggregators.names()
    atts = QUICK_ATTACKS if args.quick else [a for a in attacks.names() if a not in SKIP_ATTACKS]
    atts = [a for a in atts if not a.startswith("_")]
    seeds = range(args.seeds)
    q = args.byzantine
    jobs = [
        (g, a, s, q, seed, args.rounds)
        for s in args.schedules
        for g in aggs
        for a in atts
        for seed in seeds
    ]
    floors_jobs = [("mean", "sign_flip", "random", 0, seed, args.rounds) for seed in seeds]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = pool.map(final_error, jobs + floors_jobs, chunksize=4)
        labels = [f"{s} / {g}" for g, _, s, *_ in jobs] + ["fault-free floor"] * len(floors_jobs)
        finals = steps(results, labels, args.quiet)
    floor = float(np.median(finals[len(jobs) :]))
    cells: dict[tuple[str, str, str], list[float]] = {}
    for (g, a, s, *_), err in zip(jobs, finals, strict=False):
        cells.setdefault((g, a, s), []).append(err)
    ratio = {key: float(np.median(v)) / floor for key, v in cells.items()}

    print(
        f"final error / fault-free floor ({floor:.3g}); m = 100, q = {q}, "
        f"{args.seeds} seed(s), {args.rounds} rounds; inf = diverged\n"
    )
    for sched in args.schedules:
        print(f"### schedule: {sched}\n")
        print("| aggregator | " + " | ".join(atts) + " |")
        print("|---|" + "---|" * len(atts))
        for g in aggs:
            row = [ratio[(g, a, sched)] for a in atts]
            print(f"| {g} | " + " | ".join(f"{r:.3g}" for r in row) + " |")
        print()
    setup = (
        f"final error / fault-free floor ({floor:.3g}) per aggregator and attack: "
        f"$q$ = {q} of $m$ = 100, each attack in its default setting, {args.rounds} "
        f"rounds, median over {args.seeds} seed{'s' if args.seeds != 1 else ''}"
    )
    written = save_heatmap(args.out, aggs, atts, args.schedules, ratio, setup)
    print("heatmap: " + ", ".join(map(str, written)))


def save_heatmap(
    out: Path,
    aggs: list[str],
    atts: list[str],
    scheds: list[str],
    ratio: dict[tuple[str, str, str], float],
    setup: str,
) -> list[Path]:
    """One panel per schedule, in the project's style: one log colour scale for all
    panels (larger = worse = the bright end), diverged cells grey; PNG and SVG."""
    from bgdsim.plots import style

    fig = style.new_figure(1.6 + 0.55 * len(atts) * len(scheds), 2.0 + 0.42 * len(aggs))
    axes = fig.subplots(1, len(scheds), squeeze=False, sharey=True)[0]
    norm, clipped = style.heat_norm(ratio.values())
    image = None
    for ax, sched in zip(axes, scheds, strict=True):
        grid = np.array([[ratio[(g, a, sched)] for a in atts] for g in aggs])
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=style.heat_cmap(), norm=norm,
                          aspect="auto")  # fmt: skip
        ax.set_xticks(range(len(atts)), atts, rotation=60, ha="right")
        ax.set_yticks(range(len(aggs)), aggs)
        ax.set_xlabel(style.axis_label("adversary.attack"))
        ax.set_title(f"{style.axis_label('adversary.schedule')}: {sched}", fontsize="small")
        for i in range(len(aggs)):
            for j in range(len(atts)):
                v = grid[i, j]
                ax.text(j, i, "div." if not np.isfinite(v) else f"{v:.2g}", ha="center",
                        va="center", fontsize=6, color=style.text_color(norm, v))  # fmt: skip
    axes[0].set_ylabel(style.axis_label("server.aggregator"))
    label = "final error / fault-free floor\n(1 = unharmed; grey: diverged)"
    style.colorbar(fig, image, list(axes), label, clipped)
    fig.suptitle(style.wrap(setup, 110), fontsize="medium")
    return style.save_figure(fig, out.parent, out.stem)


if __name__ == "__main__":
    main()
