"""One-shot baselines: aggregate the workers' local least-squares estimators once.

The introduction of Chen, Su, Xu (2017) sets BGD against one-shot schemes: each worker j
fits its own empirical risk minimiser θ̂_j on its N/m samples, sends it once, and the
server aggregates the m estimates robustly — their (coordinate-wise) median or geometric
median. One round of communication, but each θ̂_j rests on N/m samples only, so the
aggregate's error is of order √(d/(N/m)) = √(dm/N), not √(dk/N): the paper's argument
for iterating. With Byzantine workers their estimates are replaced by arbitrary vectors.

* :func:`local_least_squares` — θ̂_j = (W_jᵀW_j)⁻¹W_jᵀy_j for every worker at once.
* :func:`one_shot` — the ``mean``, coordinate-wise ``median`` or ``geometric_median`` of
  the estimates.
* :func:`one_shot_error` — ‖aggregate − θ*‖ on a scenario's own data (the same draw as
  a run of that scenario and seed), q estimates replaced by −scale × the honest mean
  estimate (the one-shot analogue of ``sign_flip``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from bgdsim.aggregators.coordinate_median import coordinate_median
from bgdsim.aggregators.geometric_median import geometric_median
from bgdsim.rng import stream

if TYPE_CHECKING:
    from bgdsim.config import Scenario

__all__ = ["ONE_SHOT_RULES", "local_least_squares", "one_shot", "one_shot_error"]

OneShotRule = Literal["mean", "median", "geometric_median"]
ONE_SHOT_RULES: tuple[OneShotRule, ...] = ("mean", "median", "geometric_median")


def local_least_squares(covariates: np.ndarray, responses: np.ndarray) -> np.ndarray:
    """Every worker's least-squares estimate θ̂_j = argmin_θ ‖W_j θ − y_j‖².

    Args:
        covariates: ``(m, n, d)`` samples W_j (rows of zeros are padding and add nothing).
        responses: ``(m, n)`` responses y_j.

    Returns:
        The ``(m, d)`` estimates, by the normal equations (W_jᵀW_j) θ̂_j = W_jᵀy_j.

    Raises:
        ValueError: shapes that do not match, or a worker whose W_jᵀW_j is singular
            (fewer than d independent samples: its minimiser is not unique).

    >>> w = np.array([[[1.0], [2.0]], [[1.0], [1.0]]])  # m = 2 workers, n = 2, d = 1
    >>> local_least_squares(w, np.array([[1.0, 2.0], [0.0, 2.0]])).tolist()
    [[1.0], [1.0]]
    """
    w = np.asarray(covariates, dtype=np.float64)
    y = np.asarray(responses, dtype=np.float64)
    if w.ndim != 3 or y.shape != w.shape[:2]:
        raise ValueError(
            f"need (m, n, d) covariates and (m, n) responses, got {w.shape}, {y.shape}"
        )
    wt = w.transpose(0, 2, 1)
    gram = np.matmul(wt, w)
    rhs = np.matmul(wt, y[:, :, None])
    try:
        return np.asarray(np.linalg.solve(gram, rhs)[:, :, 0])
    except np.linalg.LinAlgError:
        raise ValueError(
            "a worker's W_jᵀW_j is singular: fewer than d independent samples"
        ) from None


def one_shot(estimates: np.ndarray, rule: OneShotRule) -> np.ndarray:
    """One robust aggregation of the ``(m, d)`` local estimates.

    ``mean``: (1/m) Σ_j θ̂_j; ``median``: the coordinate-wise median; ``geometric_median``:
    argmin_z Σ_j ‖z − θ̂_j‖ (eq. (6)).

    >>> one_shot(np.array([[0.0, 0.0], [1.0, 2.0], [100.0, -50.0]]), "median").tolist()
    [1.0, 0.0]
    """
    x = np.asarray(estimates, dtype=np.float64)
    if rule == "mean":
        return np.asarray(x.mean(axis=0))
    if rule == "median":
        return coordinate_median(x)
    if rule == "geometric_median":
        return np.asarray(geometric_median(x))
    raise ValueError(f"one_shot rule must be one of {', '.join(ONE_SHOT_RULES)}, got {rule!r}")


def one_shot_error(scenario: Scenario, rule: OneShotRule, *, scale: float = 100.0) -> float:
    """‖one_shot(θ̂) − θ*‖ on the data a run of ``scenario`` would draw.

    q = ``cluster.byzantine`` estimates (workers 0..q−1: the data are i.i.d., so which
    ones does not matter) are replaced by −scale × the mean of the honest estimates.

    Raises:
        ValueError: the problem is not ``linear_regression``.
    """
    from bgdsim import problems
    from bgdsim.problems.linear_regression import LinearRegression

    m, q = scenario.cluster.workers, scenario.cluster.byzantine
    problem = problems.build(scenario.problem, m, stream(scenario.seed, "data"))
    if not isinstance(problem, LinearRegression):
        kind = scenario.problem.kind
        raise ValueError(f"one-shot least squares needs linear_regression, got {kind!r}")
    theta = local_least_squares(problem.covariates, problem.responses)
    if q:
        theta[:q] = -scale * theta[q:].mean(axis=0)
    return float(np.linalg.norm(one_shot(theta, rule) - problem.theta_star))
