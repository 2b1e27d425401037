"""Benchmark: a mini-batch round of bgdsim against the bare-numpy work of the same round.

What is measured
    Whole runs of Algorithm 2 (gmom, a new random Byzantine set every round, sign flip),
    with full-batch and with mini-batch honest gradients, four contenders:

    * **bgdsim full** / **bgdsim mini-batch** — ``run_vector(scenario, log_path=...)``:
      the vector runtime with the full event log (written to a temporary directory),
      every worker's full local gradient, or b samples drawn without replacement from
      its own stream ``batch/j`` (:mod:`bgdsim.engine.workers`);
    * **numpy mini-batch, own streams** — the numpy mini-batch round drawing each
      worker's uniforms from its own stream ``batch/j`` as the model requires (read in
      blocks of rounds, as bgdsim does) instead of one generator: the like-for-like
      numpy work, whose θ_T equals bgdsim's bit for bit;
    * **numpy full** / **numpy mini-batch** — the same rounds in bare numpy: the
      problem's batched gradient call (``problem.gradients`` or
      ``problem.sampled_gradients`` on rows drawn from ONE generator call per round,
      ``rng.random((m, b))`` turned into indices by the same vectorised Floyd draw), a
      random Byzantine set from the adversary's stream, sign flip, the geometric median
      of the k batch means (``gmom``, weighted by the workers' sizes n_j when they
      differ, as bgdsim's server does), the step.

    Data loading (and θ* on a data set) is excluded from both sides: the problem is
    built once and ``bgdsim.problems.build`` returns it (``_common.cached_build``).

The claim it checks
    "A mini-batch round costs no more than the numpy work of its gradients plus today's
    per-round overhead": with overhead = bgdsim − numpy per round, the mini-batch
    overhead should not exceed the full-batch one, i.e.
    bgdsim mini-batch <= numpy mini-batch + (bgdsim full − numpy full). It is computed
    against both numpy mini-batch rounds: one generator for all workers (the strictest
    baseline, which the model does not allow: each worker must draw from its own stream)
    and the workers' own streams (the same math as bgdsim).

    It also times the batch draw alone, per round: the vectorised one (a block of
    uniforms per worker every few rounds, then whole-array Floyd) against one
    ``Generator.choice`` call per worker (the draw bgdsim used before).

Configurations
    default: softmax regression on scikit-learn's digits, m = 20, q = 3, k = 10, sign
    flip ×100, b = 32, 60 rounds (the issue's digits setting);
    ``--large``: linear regression, N = 10⁶, d = 20, m = 1000, q = 50, k = 20, sign
    flip ×10, b = 32, 60 rounds.

Method
    Each contender runs R and 2R rounds (``--rounds`` R, default 60); a round's cost is
    the marginal (median T(2R) − median T(R)) / R, so set-up (bgdsim's streams, log
    header, θ* evaluation) drops out; whole-run ms per round are shown too. The eight
    runs alternate in one process (order rotated each repeat) after one untimed warm-up
    each; medians over ``--repeats``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import cached_build, machine_rows, rotated, table

import bgdsim
import bgdsim.problems
from bgdsim.aggregators.gmom import gmom
from bgdsim.engine import build_problem
from bgdsim.engine.workers import BatchStreams, draw_batches
from bgdsim.rng import Streams, stream
from bgdsim.vector import run_vector

SEED = 0
BATCH = 32
OWN = ", own streams"  # the numpy contender reading each worker's stream batch/j
DIGITS = {
    "name": "digits",
    "problem.kind": "softmax_regression",
    "problem.dataset": "digits",
    "problem.test_fraction": 0.2,
    "cluster.workers": 20,
    "cluster.byzantine": 3,
    "server.aggregator": {"kind": "gmom", "batches": 10},
    "adversary.attack": {"kind": "sign_flip", "scale": 100.0},
}
LARGE = {
    "name": "large",
    "problem.kind": "linear_regression",
    "problem.samples": 1_000_000,
    "problem.dim": 20,
    "cluster.workers": 1000,
    "cluster.byzantine": 50,
    "server.aggregator": {"kind": "gmom", "batches": 20},
    "adversary.attack": {"kind": "sign_flip", "scale": 10.0},
}


def scenario(base: dict[str, Any], rounds: int, batch: int | None) -> bgdsim.Scenario:
    over = {**base, "rounds": rounds, "server.step_size": 0.5, "adversary.schedule": "random"}
    if batch is not None:
        over["worker"] = {"batch_size": batch}
    return bgdsim.load_scenario(None, over, seed=SEED)


def numpy_rounds(
    problem: Any, sc: bgdsim.Scenario, batch: int | None, streams: bool = False
) -> np.ndarray:
    """Algorithm 2 in bare numpy (see the module doc); returns θ_T. ``streams``: draw each
    worker's uniforms from its own stream ``batch/j``, read in blocks as bgdsim does."""
    m, q = sc.cluster.workers, sc.cluster.byzantine
    k = sc.server.batches
    scale = float(sc.adversary.attack.params["scale"])
    adv = stream(sc.seed, "adversary")
    draws = np.random.default_rng(1)
    sizes = problem.sizes.astype(np.float64)
    weights_n = None if (sizes == sizes[0]).all() else sizes
    scratch = np.zeros((m, int(sizes.max())), dtype=bool)  # Floyd's marks, reused
    own = None
    if streams and batch is not None:
        named = Streams(sc.seed)
        own = BatchStreams([named[f"batch/{j}"] for j in range(m)], batch, sc.rounds)
    theta = problem.initial_theta()
    for _ in range(sc.rounds):
        if batch is None:
            g = problem.gradients(theta)
        else:
            u = draws.random((m, batch)) if own is None else own.next()
            rows, w = draw_batches(problem.sizes, batch, False, u, scratch)
            g = problem.sampled_gradients(theta, rows, w)
        byz = np.sort(adv.choice(m, size=q, replace=False))
        honest = np.ones(m, dtype=bool)
        honest[byz] = False
        g[byz] = -scale * g[honest].mean(axis=0)
        theta = theta - 0.5 * gmom(g, batches=k, weights=weights_n)
    return np.asarray(theta)


def old_draw(sizes: np.ndarray, batch: int, rngs: list[np.random.Generator]) -> None:
    """The draw before: one ``Generator.choice`` call per worker, every round."""
    m = sizes.shape[0]
    rows = np.zeros((m, batch), dtype=np.int64)
    weights = np.zeros((m, batch))
    for j in range(m):
        b = min(batch, int(sizes[j]))
        rows[j, :b] = rngs[j].choice(int(sizes[j]), size=b, replace=False)
        weights[j, :b] = 1.0 / b


def draw_per_round(sizes: np.ndarray, batch: int, rounds: int) -> tuple[float, float]:
    """Seconds per round of the vectorised draw and of the per-worker one (medians of 5)."""
    m = sizes.shape[0]
    new, old = [], []
    for _ in range(5):
        streams = Streams(SEED)
        rngs = [streams[f"batch/{j}"] for j in range(m)]
        draws = BatchStreams(rngs, batch, rounds)
        gc.collect()
        t = time.perf_counter()
        for _ in range(rounds):
            draw_batches(sizes, batch, False, draws.next())
        new.append((time.perf_counter() - t) / rounds)
        gc.collect()
        t = time.perf_counter()
        for _ in range(rounds):
            old_draw(sizes, batch, rngs)
        old.append((time.perf_counter() - t) / rounds)
    return statistics.median(new), statistics.median(old)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--large", action="store_true", help="linear regression, m = 1000")
    args = ap.parse_args(argv)
    base = LARGE if args.large else DIGITS
    rounds = args.rounds
    full, mini = scenario(base, rounds, None), scenario(base, rounds, BATCH)
    plans = {  # each contender at R and 2R rounds: the difference is R rounds, no set-up
        ("full", 1): full,
        ("full", 2): scenario(base, 2 * rounds, None),
        ("mini-batch", 1): mini,
        ("mini-batch", 2): scenario(base, 2 * rounds, BATCH),
    }
    problem = build_problem(full, Streams(SEED))
    results: dict[tuple[str, int], list[float]] = {}
    finals: dict[str, np.ndarray] = {}

    with tempfile.TemporaryDirectory(prefix="bgdsim-bench-") as tmp:

        def run_bgdsim(sc: bgdsim.Scenario, name: str) -> float:
            path = Path(tmp) / f"{name}.jsonl"
            with cached_build(problem, sc) as calls:
                t = time.perf_counter()
                res = run_vector(sc, log_path=path, overwrite=True)
                elapsed = time.perf_counter() - t
            if calls[0] != 1 or res.status != "completed":
                raise AssertionError(f"unexpected run: {res.status}, cached build {calls[0]}")
            finals[name] = res.thetas[-1]
            return elapsed

        def run_numpy(sc: bgdsim.Scenario, name: str, batch: int | None, own: bool) -> float:
            t = time.perf_counter()
            finals[name] = numpy_rounds(problem, sc, batch, own)
            return time.perf_counter() - t

        def contender(who: str, kind: str, length: int) -> Callable[[], float]:
            sc, name = plans[kind.removesuffix(OWN), length], f"{who} {kind}"
            if who == "bgdsim":
                return lambda: run_bgdsim(sc, name)
            batch = None if kind == "full" else BATCH
            return lambda: run_numpy(sc, name, batch, kind.endswith(OWN))

        keys = [(f"{who} {kind}", length) for kind in ("full", "mini-batch")
                for who in ("bgdsim", "numpy") for length in (1, 2)]  # fmt: skip
        keys += [(f"numpy mini-batch{OWN}", length) for length in (1, 2)]
        contenders = []
        for name, length in keys:
            who, kind = name.split(" ", 1)
            contenders.append(((name, length), contender(who, kind, length)))
        for key, fn in contenders:  # warm-up
            fn()
            results[key] = []
        for _, (key, fn) in rotated(contenders, args.repeats):
            gc.collect()
            results[key].append(fn())
    new_draw, old_per_round = draw_per_round(problem.sizes, BATCH, rounds)

    med = {key: statistics.median(ts) for key, ts in results.items()}
    names = list(dict.fromkeys(name for name, _ in results))
    # the marginal cost of a round: (T(2R) − T(R)) / R
    ms = {name: 1e3 * (med[name, 2] - med[name, 1]) / rounds for name in names}
    whole = {name: 1e3 * med[name, 2] / (2 * rounds) for name in names}
    over_full = ms["bgdsim full"] - ms["numpy full"]
    over_mini = ms["bgdsim mini-batch"] - ms["numpy mini-batch"]
    bound = ms["numpy mini-batch"] + over_full
    m = full.cluster.workers
    print(f"# bench_minibatch: a mini-batch round vs its numpy work ({base['name']})\n")
    print(table(("machine", ""), machine_rows()))
    print()
    sizes = f"[{problem.sizes.min()}, {problem.sizes.max()}]"
    attack = f"sign flip ×{full.adversary.attack.params['scale']:g}"
    setup = [
        ("problem", f"{full.problem.kind}, d = {problem.dim}, sizes n_j in {sizes}"),
        ("cluster", f"m = {m}, q = {full.cluster.byzantine} (random set each round)"),
        ("server / attack", f"gmom k = {full.server.batches}, η = 0.5; {attack}"),
        ("mini-batch", f"b = {BATCH}, without replacement"),
        ("rounds / repeats", f"{rounds} and {2 * rounds} / {args.repeats} (+1 warm-up each)"),
    ]
    print(table(("setup", ""), setup))
    print()
    rows = []
    for name in names:
        own = ms["numpy " + name.split(" ", 1)[1].removesuffix(OWN)]
        rows.append((name, f"{ms[name]:.3f}", f"{whole[name]:.3f}", f"{ms[name] / own:.2f}"))
    whole_run = f"ms / round (whole {2 * rounds}-round run)"
    header = ("contender", "ms / round (marginal)", whole_run, "× its numpy")
    print(table(header, rows))
    print()
    ratio = ms["bgdsim mini-batch"] / bound
    verdict = "met" if ratio <= 1 else "MISSED"
    own_bound = ms[f"numpy mini-batch{OWN}"] + over_full
    own_ratio = ms["bgdsim mini-batch"] / own_bound
    own_verdict = "met" if own_ratio <= 1 else "MISSED"
    gap = float(np.max(np.abs(finals["bgdsim full"] - finals["numpy full"])))
    own_gap = float(np.max(np.abs(finals["bgdsim mini-batch"] - finals[f"numpy mini-batch{OWN}"])))
    summary = [
        ("overhead per round, full batch (bgdsim − numpy)", f"{over_full:.3f} ms"),
        ("overhead per round, mini-batch (bgdsim − numpy)", f"{over_mini:.3f} ms"),
        ("bgdsim mini-batch / (numpy mini-batch + full-batch overhead)",
         f"**{ratio:.2f}** (claim: <= 1, {verdict})"),
        ("the same, numpy reading each worker's own stream as bgdsim must",
         f"**{own_ratio:.2f}** (claim: <= 1, {own_verdict})"),
        ("reading the workers' own streams, numpy (own − one generator)",
         f"{ms[f'numpy mini-batch{OWN}'] - ms['numpy mini-batch']:.3f} ms"),
        ("batch draw per round, vectorised (per-worker streams)", f"{1e3 * new_draw:.3f} ms"),
        ("batch draw per round, one choice() per worker (before)",
         f"{1e3 * old_per_round:.3f} ms"),
        ("max |θ_T(bgdsim full) − θ_T(numpy full)|", f"{gap:.2e}"),
        ("max |θ_T(bgdsim mini-batch) − θ_T(numpy mini-batch, own streams)|",
         f"{own_gap:.2e}"),
    ]  # fmt: skip
    print(table(("summary", ""), summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
