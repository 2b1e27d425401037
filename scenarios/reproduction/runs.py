"""Runs of the reproduction: settings, seeds, parallel runs on the vector runtime, fits.

A :class:`Point` is one setting run over several seeds. Settings use short names
(``q``, ``k``, ``n``, ``d``, ``m``, ``aggregator``, ``attack``, ``rounds``);
:func:`overrides` is the one place they become scenario keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import bgdsim
from bgdsim import aggregators

HERE = Path(__file__).resolve().parent.parent
BASE = HERE / "paper_linear_regression.toml"
BASE_NAME = "scenarios/paper_linear_regression.toml"

#: attacks by name: (schedule, attack, attack params)
ATTACKS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "sign_flip": ("batch_spread", "sign_flip", {"scale": 100.0}),
    "gm_shift": ("batch_spread", "gm_shift", {}),
    "adaptive": ("adaptive", "sign_flip", {"scale": 100.0}),
}
ATTACK_TEXT = {
    "sign_flip": "sign_flip ×100, batch_spread",
    "gm_shift": "gm_shift, batch_spread",
    "adaptive": "sign_flip ×100, adaptive",
}


def overrides(setting: dict[str, Any]) -> dict[str, Any]:
    """Scenario overrides for a setting (default attack: sign_flip ×100, batch_spread)."""
    keys = {
        "q": "cluster.byzantine",
        "m": "cluster.workers",
        "n": "problem.samples",
        "d": "problem.dim",
        "rounds": "rounds",
    }
    schedule, attack, params = ATTACKS[setting.get("attack", "sign_flip")]
    out: dict[str, Any] = {
        "adversary.schedule": schedule,
        "adversary.attack": {"kind": attack, **params},
    }
    out.update({keys[k]: v for k, v in setting.items() if k in keys})
    rule = str(setting.get("aggregator", "gmom"))
    if "aggregator" in setting or "k" in setting:
        batching = aggregators.takes_batches(aggregators.get(rule))
        table: dict[str, Any] = {"kind": rule}
        if batching and "k" in setting:
            table["batches"] = setting["k"]
        out["server.aggregator"] = table
    return out


def scenario(setting: dict[str, Any], seed: int) -> bgdsim.Scenario:
    return bgdsim.load_scenario(BASE, overrides(setting), seed=seed)


def run_errors(setting: dict[str, Any], seed: int) -> list[float]:
    """‖θ_t − θ*‖ for t = 0..T of one run (inf once it stopped being finite)."""
    from bgdsim.vector import run_vector

    sc = scenario(setting, seed)
    result = run_vector(sc, log_path=None)
    errors = [float(e) for e in result.errors]
    if result.status != "completed":
        errors[-1] = math.inf
    return errors + [math.inf] * (sc.rounds + 1 - len(errors))


@dataclass
class Point:
    """One setting run over several seeds."""

    setting: dict[str, Any]
    seeds: list[int]
    runs: list[list[float]] = field(default_factory=list)

    @property
    def finals(self) -> np.ndarray:
        return np.array([r[-1] for r in self.runs])

    @property
    def center(self) -> float:
        """Geometric mean of the final errors over seeds (inf if any run blew up)."""
        return geomean(self.finals)

    def curve(self) -> np.ndarray:
        """The geometric-mean error curve over seeds."""
        runs = np.clip(np.nan_to_num(np.array(self.runs), posinf=1e300), 1e-300, 1e300)
        return np.asarray(np.exp(np.mean(np.log(runs), axis=0)))

    def scenario(self) -> bgdsim.Scenario:
        return scenario(self.setting, self.seeds[0])


def geomean(x: Any) -> float:
    f = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(f) & (f > 0)):
        return math.inf
    return float(np.exp(np.mean(np.log(f))))


def run_points(points: list[Point], jobs: int) -> int:
    """Run every point's seeds (joblib, ``jobs`` processes); returns the number of runs."""
    from joblib import Parallel, delayed

    work = [(p, s) for p in points for s in p.seeds]
    out = Parallel(n_jobs=jobs)(delayed(run_errors)(p.setting, s) for p, s in work)
    for (p, _), errors in zip(work, out, strict=True):
        p.runs.append(errors)
    return len(work)


def fit_line(x: list[float], y: list[float]) -> tuple[float, float]:
    """Least-squares slope of y on x and its standard error (nan if n ≤ 2)."""
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    slope, intercept = np.polyfit(xs, ys, 1)
    n = len(xs)
    if n <= 2:
        return float(slope), math.nan
    resid = ys - (slope * xs + intercept)
    se = math.sqrt(float(resid @ resid) / (n - 2) / float(((xs - xs.mean()) ** 2).sum()))
    return float(slope), se


def fit_slope(x: list[float], y: list[float]) -> tuple[float, float]:
    """Least-squares slope of log y on log x and its standard error, over the pairs
    where y is finite and positive."""
    keep = [(a, b) for a, b in zip(x, y, strict=True) if math.isfinite(b) and b > 0]
    if len(keep) < 2:
        return math.nan, math.nan
    return fit_line([math.log(a) for a, _ in keep], [math.log(b) for _, b in keep])


def fmt_fit(fit: tuple[float, float]) -> str:
    slope, se = fit
    if math.isnan(slope):
        return "n/a (fewer than 2 points)"
    return f"{slope:+.3f}" + ("" if math.isnan(se) else f" ± {se:.3f}")


def g(x: float) -> str:
    return "diverged" if not math.isfinite(x) else f"{x:.3g}"
