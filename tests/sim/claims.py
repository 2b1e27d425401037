"""The paper's claims as checks that run against any server rule (Chen, Su, Xu 2017).

Each ``check_*`` runs the paper's linear regression (d = 10, N = 1e5, m = 100, k = 20,
q = 5 unless it varies one of them) on the vector runtime, under the strongest adversary
the project has for the setting, and raises :class:`AssertionError` naming the claim when
the rule does not meet it. The same functions check ``gmom`` and a deliberately weakened
rule (tests/sim/test_paper_claims.py), so a check that passes for a weak server is seen.

Thresholds come from the claims and :mod:`bgdsim.theory`, never from a seed's numbers:

* the floor under attack: Corollary 1's C_α√(dk/N) with c₂ = 1 and, tighter, twice the
  model √(σ²d/N + (q/(k − q))²σ²dk/N) (:func:`bgdsim.theory.attack_error_model`);
* shapes: slope −½ ± 0.1 in N, +½ ± 0.15 in d, +½ ± 0.15 for the q-dependent part of the
  error at k = 4q; rounds to the floor growing like log N (between half the exact-step
  rate's and Corollary 1's rounds per decade);
* breakdown: a bounded error (≤ ½‖θ₀ − θ*‖) just below q = k/2, none (divergence or
  ≥ ‖θ₀ − θ*‖) at q = k/2, for k = 20 and for k = m.

``fast=True`` is the reduced default run; ``fast=False`` the long fits (``slow`` marker).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

import bgdsim
from bgdsim import theory
from bgdsim.vector import run_vector
from tests.conftest import DEFAULT_SCENARIO

#: (schedule, attack, attack params): the strongest the project has against gmom
SIGN_FLIP_SPREAD = ("batch_spread", "sign_flip", (("scale", 100.0),))
GM_SHIFT_SPREAD = ("batch_spread", "gm_shift", ())
SIGN_FLIP_ADAPTIVE = ("adaptive", "sign_flip", (("scale", 100.0),))
Adversary = tuple[str, str, tuple[tuple[str, Any], ...]]

ROUNDS = 25
MARGIN = 2.0  # the attack-error model is a leading-order size: allow ×2
D, N, M, K, Q = 10, 100_000, 100, 20, 5


def scenario(
    aggregator: str,
    *,
    d: int = D,
    n: int = N,
    m: int = M,
    k: int = K,
    q: int = Q,
    adversary: Adversary = SIGN_FLIP_SPREAD,
    rounds: int = ROUNDS,
    seed: int = 0,
) -> bgdsim.Scenario:
    """The paper's scenario with these settings: the one place its keys are spelled."""
    schedule, attack, params = adversary
    overrides = {
        "rounds": rounds,
        "problem.dim": d,
        "problem.samples": n,
        "cluster.workers": m,
        "cluster.byzantine": q,
        "server.aggregator": _rule(aggregator, k),
        "adversary.schedule": schedule,
        "adversary.attack": {"kind": attack, **dict(params)},
    }
    return bgdsim.load_scenario(DEFAULT_SCENARIO, overrides, seed=seed)


def _rule(aggregator: str, k: int) -> dict[str, Any]:
    """The aggregator's table: k is a parameter of the rules that batch only."""
    takes = bgdsim.aggregators.takes_batches(bgdsim.aggregators.get(aggregator))
    return {"kind": aggregator, "batches": k} if takes else {"kind": aggregator}


@functools.lru_cache(maxsize=1024)
def errors(aggregator: str, seed: int, **setting: Any) -> tuple[float, ...]:
    """‖θ_t − θ*‖, t = 0..T (inf after a run stopped diverging), cached per setting."""
    sc = scenario(aggregator, seed=seed, **setting)
    result = run_vector(sc, log_path=None)
    out = [float(e) for e in result.errors]
    if result.status != "completed":
        out[-1] = math.inf
    return tuple(out + [math.inf] * (sc.rounds + 1 - len(out)))


def finals(aggregator: str, seeds: range, **setting: Any) -> np.ndarray:
    return np.array([errors(aggregator, s, **setting)[-1] for s in seeds])


def geomean(x: np.ndarray) -> float:
    """Geometric mean over seeds; inf if any run blew up."""
    x = np.asarray(x, dtype=np.float64)
    if not (np.isfinite(x) & (x > 0)).all():
        return math.inf
    return float(np.exp(np.mean(np.log(x))))


def point(aggregator: str, seeds: range, **setting: Any) -> float:
    """The geometric mean of the final errors over ``seeds``, asserted finite (a run that
    blew up fails the claim at once, without running the rest of the grid)."""
    err = geomean(finals(aggregator, seeds, **setting))
    assert math.isfinite(err), f"{aggregator} blew up at {setting or 'the default setting'}"
    return err


def fit_slope(x: list[float], y: list[float]) -> tuple[float, float]:
    """Least-squares slope of log y on log x and its standard error (needs finite y > 0)."""
    assert all(math.isfinite(v) and v > 0 for v in y), f"no slope: errors {y}"
    lx, ly = np.log(x), np.log(y)
    (slope, icept), n = np.polyfit(lx, ly, 1), len(lx)
    resid = ly - (slope * lx + icept)
    se = math.sqrt(float(resid @ resid) / max(n - 2, 1) / float(((lx - lx.mean()) ** 2).sum()))
    return float(slope), se


def _seeds(fast: bool, n_fast: int = 3, n_slow: int = 10) -> range:
    return range(n_fast if fast else n_slow)


def check_floor_under_attack(aggregator: str, fast: bool = True) -> dict[str, float]:
    """Corollary 1 under the strongest attacks: the final error (geometric mean over
    seeds) is below C_α√(dk/N) (c₂ = 1) and below MARGIN × the attack-error model."""
    seeds = _seeds(fast)
    few = seeds if not fast else range(1)
    worst = {
        "sign_flip x100, batch_spread": point(aggregator, seeds),
        "gm_shift, batch_spread": geomean(finals(aggregator, few, adversary=GM_SHIFT_SPREAD)),
        "sign_flip x100, adaptive": geomean(finals(aggregator, few, adversary=SIGN_FLIP_ADAPTIVE)),
    }
    corollary1 = theory.corollary1_rate(D, K, N, theory.remark1_alpha(theory.remark1_epsilon(Q, K)))
    model = MARGIN * theory.attack_error_model(D, K, Q, N)
    for name, err in worst.items():
        assert err <= corollary1, f"{name}: final error {err:.4g} > C_α√(dk/N) = {corollary1:.4g}"
        assert err <= model, f"{name}: final error {err:.4g} > {MARGIN:g} × model = {model:.4g}"
    return worst


def check_rate_in_n(aggregator: str, fast: bool = True) -> tuple[float, float]:
    """Corollary 1: the floor ∝ √(dk/N), a log-log slope of −½ ± 0.1 in N."""
    ns = [10_000, 30_000, 100_000, 300_000] if fast else [10_000, 20_000, 50_000, 100_000,
                                                         200_000, 500_000, 1_000_000]  # fmt: skip
    ys = [point(aggregator, _seeds(fast), n=n) for n in ns]
    slope, se = fit_slope([float(n) for n in ns], ys)
    assert abs(slope + 0.5) <= 0.1, f"slope in N {slope:+.3f} ± {se:.3f}, not −0.5 ± 0.1"
    return slope, se


def check_rate_in_d(aggregator: str, fast: bool = True) -> tuple[float, float]:
    """Corollary 1: the floor ∝ √d, a log-log slope of +½ ± 0.15 in d."""
    ds = [5, 10, 20, 40] if fast else [3, 5, 10, 20, 40, 80]
    ys = [point(aggregator, _seeds(fast), d=d) for d in ds]
    slope, se = fit_slope([float(d) for d in ds], ys)
    assert abs(slope - 0.5) <= 0.15, f"slope in d {slope:+.3f} ± {se:.3f}, not +0.5 ± 0.15"
    return slope, se


def check_sqrt_q(aggregator: str, fast: bool = True) -> tuple[float, float]:
    """Remark 1: at k = 4q the floor ∝ √(dq/N). The part of the error the Byzantine
    workers cause, √(e² − e₀²) (e₀: q = 0 at the same k and seeds), has slope +½ ± 0.15.
    m = 120, N = 120000, so that every k = 4q divides m."""
    qs = [2, 5, 15] if fast else [1, 2, 3, 5, 6, 10, 15]
    seeds, excess = _seeds(fast), []
    for q in qs:
        wide = {"m": 120, "n": 120_000, "k": 4 * q}
        e, e0 = point(aggregator, seeds, q=q, **wide), point(aggregator, seeds, q=0, **wide)
        assert e > e0, f"q = {q}: error {e:.4g} not above the fault-free {e0:.4g}"
        excess.append(math.sqrt(e * e - e0 * e0))
    slope, se = fit_slope([float(q) for q in qs], excess)
    assert abs(slope - 0.5) <= 0.15, f"slope of the excess in q {slope:+.3f} ± {se:.3f}"
    return slope, se


def rounds_to_floor(curve: np.ndarray) -> int:
    """The first t with ‖θ_t − θ*‖ ≤ 2 × the floor (the geometric mean of the second half)."""
    floor = geomean(curve[len(curve) // 2 :])
    assert math.isfinite(floor), "the error has no floor (the run blew up)"
    return int(np.argmax(curve <= 2 * floor))


def check_rounds_log_n(aggregator: str, fast: bool = True) -> list[int]:
    """Theorem 1: the error reaches its floor in O(log N) rounds. From ‖θ₀ − θ*‖ = 1 to a
    floor ∝ N^(−½) at a rate r per round takes log(N)/(2 log(1/r)) + c rounds, so each
    decade of N adds between ½ × that at r = 1 − η = ½ (the exact step) and that at
    Corollary 1's r = ½ + √3/4."""
    ns = [10_000, 100_000, 1_000_000]
    seeds = _seeds(fast, 2, 6)
    ts = []
    for n in ns:
        runs = np.array([errors(aggregator, s, n=n) for s in seeds])
        ts.append(rounds_to_floor(np.exp(np.mean(np.log(runs), axis=0))))
    per_decade = (ts[-1] - ts[0]) / math.log10(ns[-1] / ns[0])
    lo = 0.5 * math.log(10) / (2 * math.log(2))
    hi = math.log(10) / (2 * math.log(1 / theory.contraction(1.0, 1.0)))
    assert ts == sorted(ts), f"rounds to the floor {ts} do not grow with N = {ns}"
    assert lo <= per_decade <= hi, (
        f"{per_decade:.2f} rounds per decade of N, not in [{lo:.2f}, {hi:.2f}]"
    )
    return ts


def _bounded(err: float) -> bool:
    return err <= 0.5  # ‖θ₀ − θ*‖ = 1: the error stays at most half the initial one


def _broken(err: float) -> bool:
    return not err < 1.0  # diverged, or no better than θ₀


def check_breakdown_k20(aggregator: str, fast: bool = True) -> dict[int, float]:
    """Theorem 1 with k = 20: bounded up to q = k/2 − 1 = 9, broken at q = k/2 = 10."""
    seeds = _seeds(fast, 1, 4)
    got = {q: float(finals(aggregator, seeds, q=q).max()) for q in (9, 10)}
    assert _bounded(got[9]), f"k = 20, q = 9: final error {got[9]:.4g}, not bounded"
    assert _broken(got[10]), f"k = 20, q = 10: final error {got[10]:.4g}, not broken"
    return got


def check_breakdown_k_m(aggregator: str, fast: bool = True) -> dict[int, float]:
    """k = m (§2.1): bounded up to q = m/2 − 1 = 49, broken at q = m/2 = 50."""
    seeds = _seeds(fast, 1, 4)
    got = {q: float(finals(aggregator, seeds, q=q, k=M).max()) for q in (49, 50)}
    assert _bounded(got[49]), f"k = m, q = 49: final error {got[49]:.4g}, not bounded"
    assert _broken(got[50]), f"k = m, q = 50: final error {got[50]:.4g}, not broken"
    return got


CHECKS: dict[str, Callable[[str, bool], Any]] = {
    "floor under attack": check_floor_under_attack,
    "slope in N": check_rate_in_n,
    "slope in d": check_rate_in_d,
    "sqrt q at k = 4q": check_sqrt_q,
    "rounds to floor ~ log N": check_rounds_log_n,
    "breakdown at k/2, k = 20": check_breakdown_k20,
    "breakdown at m/2, k = m": check_breakdown_k_m,
}
