"""Benchmark: bgdsim's robust aggregation rules against bare numpy versions of the same rules.

What. Every rule of ``bgdsim.aggregators`` beyond the mean and gmom — coordinate_median,
coordinate_median_of_means, trimmed_mean, krum, multi_krum, bulyan, centered_clipping,
gmom_trimmed — on one ``(n, d)`` array of reports: n = 1000, d = 10⁴, f = 100 Byzantine
reports where the rule takes f, k = 50 batches where it takes batches (``--quick``:
n = 200, d = 2000, f = 20, k = 20). The honest reports are 1 + N(0, I); the f Byzantine
ones (the first f rows, so they spoil the first f/(n/k) batches) sit in a tight cluster at
distance 10⁶ from the honest mean.

Baseline. For each rule, the straightforward numpy program a reader would write from the
formula: ``np.median`` (of the reports, or of ``reshape(k, n/k, d).mean(1)``); an
``np.sort``-based trimmed mean; Krum / Multi-Krum scores from a Gram-matrix distance
matrix of the raw reports (no reference point, no rescaling) and ``np.partition`` per row;
Bulyan recomputing every Krum score over the remaining reports at each of its n − 2f
selection steps, then ``np.argpartition`` of |S − median|; centered clipping with
``np.linalg.norm`` and explicit clipped differences; and for gmom_trimmed, norm trimming
then a plain Weiszfeld iteration from the mean, stopped at a relative step of 1e-12. Each
baseline computes the same result: agreement is asserted before timing (exact for Krum,
which returns a report; to rounding for the others; to the certified (1 + γ) accuracy for
gmom_trimmed).

Method. One process; for each rule, ``--repeats`` rounds (default 5) that time bgdsim and
the baseline alternately, alternating which goes first, after a warm-up call of each; a
garbage collection precedes every timed call. Medians are reported with the ratio
baseline/bgdsim (> 1: bgdsim faster). The machine may be small and shared: quote the
medians, not single runs.

Usage::

    python benchmarks/bench_aggregators.py [--quick] [--repeats N] [--seed S]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from _common import rotated, timed
from threadpoolctl import threadpool_info

from bgdsim.aggregators.bulyan import bulyan
from bgdsim.aggregators.centered_clipping import centered_clipping
from bgdsim.aggregators.coordinate_median import coordinate_median, coordinate_median_of_means
from bgdsim.aggregators.gmom_trimmed import TAU_PER_DIM, gmom_trimmed
from bgdsim.aggregators.krum import krum, multi_krum
from bgdsim.aggregators.trimmed_mean import trimmed_mean

FULL = {"n": 1000, "d": 10_000, "f": 100, "k": 50}
QUICK = {"n": 200, "d": 2000, "f": 20, "k": 20}
GAMMA = 1e-6  # gmom_trimmed's default


# ------------------------------------------------------------------------------- data


def make_reports(n: int, d: int, f: int, seed: int) -> np.ndarray:
    """Honest 1 + N(0, I); the first f rows a tight cluster 1e6 away from the honest mean."""
    rng = np.random.default_rng(seed)
    x = 1.0 + rng.standard_normal((n, d))
    direction = rng.standard_normal(d)
    direction /= np.linalg.norm(direction)
    x[:f] = 1.0 + 1e6 * direction + 0.1 * rng.standard_normal((f, d))
    return x


# -------------------------------------------------------------------------- baselines


def base_median(x: np.ndarray) -> np.ndarray:
    return np.median(x, axis=0)


def base_median_of_means(x: np.ndarray, k: int) -> np.ndarray:
    n, d = x.shape
    return np.median(x.reshape(k, n // k, d).mean(axis=1), axis=0)


def base_trimmed_mean(x: np.ndarray, f: int) -> np.ndarray:
    return np.sort(x, axis=0)[f : x.shape[0] - f].mean(axis=0)


def base_distances(x: np.ndarray) -> np.ndarray:
    """‖x_i‖² + ‖x_j‖² − 2⟨x_i, x_j⟩ from the raw reports; +inf on the diagonal."""
    g = x @ x.T
    sq = np.diag(g)
    d2 = sq[:, None] + sq[None, :] - 2.0 * g
    np.fill_diagonal(d2, np.inf)
    return d2


def base_scores(d2: np.ndarray, f: int) -> np.ndarray:
    m = d2.shape[0] - f - 2
    return np.partition(d2, m - 1, axis=1)[:, :m].sum(axis=1)


def base_krum(x: np.ndarray, f: int) -> np.ndarray:
    return x[np.argmin(base_scores(base_distances(x), f))]


def base_multi_krum(x: np.ndarray, f: int) -> np.ndarray:
    m = x.shape[0] - f
    return x[np.argsort(base_scores(base_distances(x), f), kind="stable")[:m]].mean(axis=0)


def base_bulyan(x: np.ndarray, f: int) -> np.ndarray:
    n = x.shape[0]
    d2 = base_distances(x)
    left = list(range(n))
    chosen = []
    for _ in range(n - 2 * f):
        m = len(left) - f - 2
        sub = d2[np.ix_(left, left)]
        scores = np.partition(sub, m - 1, axis=1)[:, :m].sum(axis=1) if m > 0 else np.zeros(1)
        chosen.append(left.pop(int(np.argmin(scores))))
    s = x[chosen]
    beta = s.shape[0] - 2 * f
    med = np.median(s, axis=0)
    idx = np.argpartition(np.abs(s - med), beta - 1, axis=0)[:beta]
    return np.take_along_axis(s, idx, axis=0).mean(axis=0)


def base_centered_clipping(x: np.ndarray, iters: int = 3) -> np.ndarray:
    v = np.median(x, axis=0)
    tau = np.median(np.linalg.norm(x - v, axis=1))
    for _ in range(iters):
        diff = x - v
        norms = np.linalg.norm(diff, axis=1)
        v = v + (diff * np.minimum(1.0, tau / norms)[:, None]).mean(axis=0)
    return v


def base_gmom_trimmed(x: np.ndarray, k: int) -> np.ndarray:
    n, d = x.shape
    means = x.reshape(k, n // k, d).mean(axis=1)
    y = means[np.linalg.norm(means, axis=1) <= TAU_PER_DIM * d]
    z = y.mean(axis=0)
    for _ in range(100_000):
        dist = np.linalg.norm(y - z, axis=1)
        w = 1.0 / dist
        new = (w @ y) / w.sum()
        step = np.linalg.norm(new - z)
        z = new
        if step <= 1e-12 * np.median(dist):
            break
    return z


# -------------------------------------------------------------------------- the cells


@dataclass
class Case:
    rule: str
    params: str
    ours: Callable[[], np.ndarray]
    base: Callable[[], np.ndarray]
    exact: bool = False  # agreement bit for bit (Krum returns a report)
    rtol: float = 1e-9


def cases(x: np.ndarray, f: int, k: int) -> list[Case]:
    return [
        Case(
            "coordinate_median",
            "",
            lambda: coordinate_median(x),
            lambda: base_median(x),
            exact=True,
        ),
        Case(
            "coordinate_median_of_means",
            f"k={k}",
            lambda: coordinate_median_of_means(x, batches=k),
            lambda: base_median_of_means(x, k),
        ),
        Case(
            "trimmed_mean",
            f"f={f}",
            lambda: trimmed_mean(x, f=f),
            lambda: base_trimmed_mean(x, f),
        ),
        Case("krum", f"f={f}", lambda: krum(x, f=f), lambda: base_krum(x, f), exact=True),
        Case(
            "multi_krum",
            f"f={f}, m=n-f",
            lambda: multi_krum(x, f=f),
            lambda: base_multi_krum(x, f),
        ),
        Case("bulyan", f"f={f}", lambda: bulyan(x, f=f), lambda: base_bulyan(x, f)),
        Case(
            "centered_clipping",
            "τ=median, L=3",
            lambda: centered_clipping(x),
            lambda: base_centered_clipping(x),
        ),
        Case(
            "gmom_trimmed",
            f"k={k}, τ=10d, γ={GAMMA:g}",
            lambda: gmom_trimmed(x, batches=k, gamma=GAMMA),
            lambda: base_gmom_trimmed(x, k),
            rtol=1e-4,  # both are approximate medians: relative to the honest spread
        ),
    ]


def agree(case: Case, ours: np.ndarray, base: np.ndarray, spread: float) -> float:
    """Assert agreement; return max |ours − base| relative to the honest spread."""
    diff = float(np.abs(ours - base).max()) / spread
    if case.exact:
        assert np.array_equal(ours, base), f"{case.rule}: results differ by {diff:.2e}"
    else:
        assert diff <= case.rtol, f"{case.rule}: results differ by {diff:.2e} (spread units)"
    return diff


def machine() -> str:
    blas = [f"{b['internal_api']} {b['num_threads']} threads" for b in threadpool_info()]
    return (
        f"{platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}"
        f" ({', '.join(sorted(set(blas)))}), {datetime.date.today().isoformat()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n=200, d=2000, f=20, k=20")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per implementation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    n, d, f, k = size["n"], size["d"], size["f"], size["k"]
    x = make_reports(n, d, f, args.seed)
    spread = float(np.std(x[f:]))

    print(f"machine: {machine()}")
    print(f"reports: n={n}, d={d}, f={f} Byzantine at distance 1e6, k={k}; repeats={args.repeats}")
    print()
    print("| rule | params | bgdsim ms | numpy baseline ms | baseline/bgdsim | max diff / σ |")
    print("|---|---|---:|---:|---:|---:|")
    for case in cases(x, f, k):
        diff = agree(case, case.ours(), case.base(), spread)  # also the warm-up
        ours: list[float] = []
        base: list[float] = []
        for _, (sink, fn) in rotated([(ours, case.ours), (base, case.base)], args.repeats):
            sink.append(timed(fn))
        o, b = 1e3 * statistics.median(ours), 1e3 * statistics.median(base)
        print(
            f"| {case.rule} | {case.params} | {o:.1f} | {b:.1f} | {b / o:.2f}x | {diff:.1e} |",
            flush=True,
        )
    print("\nσ: standard deviation of the honest reports' entries; times are medians")
    return 0


if __name__ == "__main__":
    sys.exit(main())
