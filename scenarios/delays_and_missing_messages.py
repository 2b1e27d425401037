"""Delays and missing messages: final error vs. drop rate, round timeout and stragglers.

The paper's server hears from every honest worker; this script asks what happens when it
does not. On the paper's linear regression (m = 100, q = 5, sign_flip) it sweeps

* the message drop rate (both directions, i.i.d.),
* the round timeout, under heavy-tailed (lognormal) link latencies,
* the straggler spread: lognormal compute times of growing sigma, a fixed timeout,

for the mean and the geometric median of means, under each missing-report policy (zero,
exclude, stale), and prints the final error ‖θ_T − θ*‖ (geometric mean over seeds; inf
when a seed diverged) as tables; ``--out`` saves a figure (PNG and SVG) with one panel
per sweep, the band spanning the seeds, diverged points marked.

    python scenarios/delays_and_missing_messages.py [--seeds 2] [--jobs 2]
        [--out results/delays_and_missing_messages.png] [--quiet]

A line on stderr as each point of each sweep finishes (``--quiet``: none).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from _progress import steps

import bgdsim

HERE = Path(__file__).resolve().parent
BASE = HERE / "paper_linear_regression.toml"
AGGREGATORS = ("mean", "gmom")
POLICIES = ("zero", "exclude", "stale")
HEAVY = {"kind": "lognormal", "mu": -4.0, "sigma": 1.0}  # median 18 ms, long tail

SWEEPS: dict[str, tuple[str, list[float]]] = {
    "drop": ("drop rate $p$ (each direction)", [0.0, 0.05, 0.1, 0.2, 0.3]),
    "timeout": ("round timeout (s), lognormal latency", [0.02, 0.05, 0.1, 0.2, 0.5]),
    "straggler": (r"compute-time $\sigma$ (lognormal), timeout 0.2 s", [0.0, 0.5, 1.0, 1.5, 2.0]),
}


def overrides(sweep: str, x: float) -> dict[str, Any]:
    if sweep == "drop":
        return {"network.drop": x}
    if sweep == "timeout":
        return {"network.latency": HEAVY, "server.round_timeout": x}
    compute = {"kind": "lognormal", "mu": -3.0, "sigma": x} if x > 0 else 0.05
    return {"cluster.compute_time": compute, "server.round_timeout": 0.2}


def final_error(job: tuple[str, float, str, str, int, int]) -> float:
    sweep, x, aggregator, policy, seed, rounds = job
    sc = bgdsim.load_scenario(
        BASE,
        {**overrides(sweep, x), "server.aggregator": aggregator, "server.missing": policy,
         "rounds": rounds},
        seed=seed,
    )  # fmt: skip
    result = bgdsim.run(sc, log_path=None)
    return result.final_error if result.status == "completed" else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ap.add_argument("--out", type=Path, default=Path("results") / "delays_and_missing_messages.png")
    args = ap.parse_args()
    jobs = [(s, x, a, p, seed, args.rounds) for s, (_, xs) in SWEEPS.items() for x in xs
            for a in AGGREGATORS for p in POLICIES for seed in range(args.seeds)]  # fmt: skip
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = pool.map(final_error, jobs, chunksize=4)
        finals = steps(results, [f"{SWEEPS[s][0]} = {x:g}" for s, x, *_ in jobs], args.quiet)
    cells: dict[tuple[str, float, str, str], list[float]] = {}
    for (s, x, a, p, *_), err in zip(jobs, finals, strict=True):
        cells.setdefault((s, x, a, p), []).append(err)
    med = {key: centre(v) for key, v in cells.items()}

    print(
        f"final error ‖θ_T − θ*‖, geometric mean of {args.seeds} seed(s) (inf: a seed "
        f"diverged); m = 100, q = 5 sign_flip, {args.rounds} rounds; the fault-free floors "
        "are ~0.012 (mean) and ~0.012 (gmom)\n"
    )
    for sweep, (label, xs) in SWEEPS.items():
        cols = [f"{a} / {p}" for a in AGGREGATORS for p in POLICIES]
        print(f"### {label}\n")
        print(f"| {label} | " + " | ".join(cols) + " |")
        print("|---|" + "---|" * len(cols))
        for x in xs:
            row = [med[(sweep, x, a, p)] for a in AGGREGATORS for p in POLICIES]
            print(f"| {x:g} | " + " | ".join(f"{v:.3g}" for v in row) + " |")
        print()
    written = save_figure(args.out, cells, args)
    print("figure: " + ", ".join(map(str, written)))


def centre(values: list[float]) -> float:
    """The geometric mean over seeds, inf if any seed diverged."""
    from bgdsim.plots import style

    return style.geometric_mean(values) if np.all(np.isfinite(values)) else float("inf")


def save_figure(
    out: Path, cells: dict[tuple[str, float, str, str], list[float]], args: argparse.Namespace
) -> list[Path]:
    """One panel per sweep in the project's style; PNG and SVG."""
    from bgdsim.plots import style

    fig = style.new_figure(4.4 * len(SWEEPS), 4.6)
    axes = fig.subplots(1, len(SWEEPS), squeeze=False, sharey=True)[0]
    for ax, (sweep, (label, xs)) in zip(axes, SWEEPS.items(), strict=True):
        i = 0
        for a, line in zip(AGGREGATORS, ("--", "-"), strict=True):
            for p, marker in zip(POLICIES, ("o", "s", "^"), strict=True):
                color = f"C{i}"
                i += 1
                runs = [cells[(sweep, x, a, p)] for x in xs]
                ok = [j for j, v in enumerate(runs) if np.all(np.isfinite(v))]
                band = [style.band(runs[j], "minmax") for j in ok]
                px = [xs[j] for j in ok]
                ax.plot(px, [style.geometric_mean(runs[j]) for j in ok], line, marker=marker,
                        color=color, label=f"{a}, missing = {p}")  # fmt: skip
                if band and args.seeds > 1:
                    ax.fill_between(px, [b[0] for b in band], [b[1] for b in band],
                                    color=color, alpha=0.15, linewidth=0)  # fmt: skip
                style.mark_diverged(ax, [xs[j] for j in range(len(xs)) if j not in ok], color)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(style.FINAL_ERROR)
    handles, labels = axes[0].get_legend_handles_labels()
    if any(not np.all(np.isfinite(v)) for v in cells.values()):
        handles.append(style.diverged_handle())
        labels.append(handles[-1].get_label())
    fig.legend(handles, labels, loc="outside right center", fontsize="x-small")
    fig.suptitle(
        f"sign_flip(scale=10), random sets, $q$ = 5 of $m$ = 100, {args.rounds} rounds "
        f"({style.seeds_note(args.seeds, 'minmax')})",
        fontsize="medium",
    )
    return style.save_figure(fig, out.parent, out.stem)


if __name__ == "__main__":
    main()
