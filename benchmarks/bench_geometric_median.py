"""Benchmark: bgdsim's geometric median against ``geom_median`` at equal accuracy.

For k points in d dimensions (a Gaussian cloud with ~20% outliers piled near one far point):

1. a high-precision reference objective f* comes from an independent, plain Weiszfeld /
   Vardi-Zhang run (explicit differences, blockwise, stopped at a relative step of 1e-13),
   and bgdsim at ``tol=1e-13``; the smaller objective wins;
2. each solver's tolerance is tuned to the loosest setting whose result reaches a relative
   objective gap (f − f*)/f* ≤ 1e-6 (bgdsim: ``tol``; geom_median: ``ftol`` with a raised
   ``maxiter``, read off one long run's objective log);
3. both are timed at those settings, alternating in one process; medians are reported.

Usage::

    python benchmarks/bench_geometric_median.py [--quick] [--repeats N] [--seed S]

The machine may be small and noisy: quote the medians, not single runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass

import numpy as np
from _common import rotated, timed
from geom_median.numpy import compute_geometric_median

from bgdsim.aggregators.geometric_median import geometric_median

TARGET_GAP = 1e-6
FULL_K = (10, 100, 1000)
FULL_D = (10, 1_000, 100_000)
QUICK = ((10, 10), (100, 1_000), (1000, 10), (100, 100_000))
BLOCK_BYTES = 1 << 24
GM_MAXITER = 2000  # geom_median's own default is 100


# ------------------------------------------------------------------------------- data


def make_points(k: int, d: int, seed: int) -> np.ndarray:
    """Standard Gaussian cloud; 20% of the rows replaced by a tight far cluster."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((k, d))
    bad = rng.permutation(k)[: max(1, k // 5)]
    direction = rng.standard_normal(d)
    direction /= np.linalg.norm(direction)
    x[bad] = 50.0 * np.sqrt(d) * direction + 0.1 * rng.standard_normal((bad.size, d))
    return x


def objective(x: np.ndarray, z: np.ndarray) -> float:
    """Σ_i ‖x_i − z‖ from explicit differences, blockwise."""
    rows = max(1, BLOCK_BYTES // (8 * x.shape[1]))
    total = 0.0
    for s in range(0, x.shape[0], rows):
        diff = x[s : s + rows] - z
        total += float(np.sqrt(np.einsum("ij,ij->i", diff, diff)).sum())
    return total


def distances(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    rows = max(1, BLOCK_BYTES // (8 * x.shape[1]))
    out = np.empty(x.shape[0])
    for s in range(0, x.shape[0], rows):
        diff = x[s : s + rows] - z
        out[s : s + rows] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return out


def reference_median(x: np.ndarray, max_iter: int = 3000) -> np.ndarray:
    """Plain Weiszfeld with the Vardi-Zhang step, explicit differences, from the coord. median."""
    z: np.ndarray = np.median(x, axis=0)
    for _ in range(max_iter):
        dist = distances(x, z)
        near = dist <= 1e-15 * float(np.median(dist))
        inv = np.zeros_like(dist)
        np.divide(1.0, dist, out=inv, where=~near)
        t = (inv @ x) / inv.sum()
        if near.any():
            eta = float(near.sum())
            r = float(np.linalg.norm(inv @ x - inv.sum() * z))
            if r <= eta:
                break
            t = (1 - eta / r) * t + (eta / r) * z
        step = float(np.linalg.norm(t - z))
        z = t
        if step <= 1e-13 * float(np.median(dist)):
            break
    return z


# ------------------------------------------------------------------------------ solvers


def run_bgdsim(x: np.ndarray, tol: float) -> np.ndarray:
    return geometric_median(x, tol=tol)


def run_geom_median(x: np.ndarray, ftol: float, maxiter: int = GM_MAXITER) -> np.ndarray:
    return np.asarray(compute_geometric_median(x, maxiter=maxiter, ftol=ftol).median)


def tune_bgdsim(x: np.ndarray, f_star: float) -> tuple[float, float]:
    """The loosest tol in a decade grid reaching the target gap, and that gap."""
    gap = float("nan")
    for e in range(1, 15):
        tol = 10.0**-e
        gap = objective(x, run_bgdsim(x, tol)) / f_star - 1.0
        if gap <= TARGET_GAP:
            return tol, gap
    return tol, gap


def tune_geom_median(x: np.ndarray, f_star: float) -> tuple[float, float]:
    """The loosest ftol in a grid whose stop reaches the target gap, from one logged run."""
    logs = compute_geometric_median(x, maxiter=GM_MAXITER, ftol=1e-16).logs
    f_mean = f_star / x.shape[0]  # its logs hold the weighted mean distance
    changes = [abs(logs[t - 1] - logs[t]) / logs[t] for t in range(1, len(logs))]
    grid = [m * 10.0**-e for e in range(1, 17) for m in (5.0, 2.0, 1.0)]
    for ftol in grid:
        stop = next((t + 1 for t, c in enumerate(changes) if c <= ftol), len(logs) - 1)
        if logs[stop] / f_mean - 1.0 <= TARGET_GAP:
            gap = objective(x, run_geom_median(x, ftol)) / f_star - 1.0
            if gap <= TARGET_GAP:
                return ftol, gap
    return 0.0, objective(x, run_geom_median(x, 0.0)) / f_star - 1.0


@dataclass
class Row:
    k: int
    d: int
    ours_ms: float
    theirs_ms: float
    ours_gap: float
    theirs_gap: float
    tol: float
    ftol: float


def bench_cell(k: int, d: int, seed: int, repeats: int | None) -> Row:
    x = make_points(k, d, seed)
    f_star = min(objective(x, reference_median(x)), objective(x, run_bgdsim(x, 1e-13)))
    tol, ours_gap = tune_bgdsim(x, f_star)
    ftol, theirs_gap = tune_geom_median(x, f_star)
    if repeats is None:  # more repeats for cheap cells
        probe = timed(lambda: run_geom_median(x, ftol)) + timed(lambda: run_bgdsim(x, tol))
        repeats = int(np.clip(2.0 / max(probe, 1e-6), 3 if probe > 2.0 else 5, 41))
    ours: list[float] = []
    theirs: list[float] = []
    pair = [
        (ours, lambda: run_bgdsim(x, tol)),
        (theirs, lambda: run_geom_median(x, ftol)),
    ]
    for _, (sink, fn) in rotated(pair, repeats):  # alternate, and alternate who goes first
        sink.append(timed(fn))
    return Row(
        k,
        d,
        1e3 * statistics.median(ours),
        1e3 * statistics.median(theirs),
        ours_gap,
        theirs_gap,
        tol,
        ftol,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small subset of the cells")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per solver")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    cells = list(QUICK) if args.quick else [(k, d) for k in FULL_K for d in FULL_D]

    print(
        "| k | d | bgdsim ms | geom-median ms | ratio | bgdsim gap | geom-median gap "
        "| bgdsim tol | geom-median ftol |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    slower = 0
    for k, d in cells:
        r = bench_cell(k, d, args.seed, args.repeats)
        ratio = r.theirs_ms / r.ours_ms
        slower += ratio < 1.0
        print(
            f"| {r.k} | {r.d} | {r.ours_ms:.3g} | {r.theirs_ms:.3g} | {ratio:.1f}x "
            f"| {r.ours_gap:.1e} | {r.theirs_gap:.1e} | {r.tol:.0e} | {r.ftol:.0e} |",
            flush=True,
        )
    print(f"\nratio = geom-median time / bgdsim time (medians); bgdsim slower in {slower} cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())
