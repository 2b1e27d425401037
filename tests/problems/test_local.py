"""A worker's own share of a problem: its gradient is the batched row, bit for bit."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from bgdsim import problems
from bgdsim.config import ProblemConfig
from bgdsim.problems import Problem

CASES = {
    "linear, d<=n (sufficient statistics)": ("linear_regression", 5, 6, 600, 0.0),
    "linear, d>n (direct)": ("linear_regression", 40, 6, 120, 0.0),
    "linear, unequal sizes": ("linear_regression", 5, 6, 600, 0.5),
    "linear, wide (d = 2000)": ("linear_regression", 2000, 3, 150, 0.0),
    "logistic": ("logistic_regression", 5, 6, 600, 0.0),
    "logistic, unequal sizes": ("logistic_regression", 7, 5, 500, 0.6),
    "logistic, wide (d = 2000)": ("logistic_regression", 2000, 3, 150, 0.0),
}


def build(kind: str, dim: int, m: int, samples: int, spread: float) -> Problem:
    cfg = ProblemConfig.model_validate(
        {"kind": kind, "dim": dim, "samples": samples, "size_spread": spread}
    )
    return problems.build(cfg, m, np.random.default_rng(7))


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
@pytest.mark.parametrize("own", [False, True], ids=["views", "deep-copied"])
def test_every_workers_share_gives_the_batched_gradient_bit_for_bit(
    case: tuple[str, int, int, int, float], own: bool
) -> None:
    p = build(*case)
    rng = np.random.default_rng(3)
    for theta in (np.zeros(p.dim), rng.standard_normal(p.dim), 50.0 * rng.standard_normal(p.dim)):
        batched = p.gradients(theta)
        for j in range(p.workers):
            share = copy.deepcopy(p.local(j)) if own else p.local(j)
            mine = share.gradients(theta.copy())
            assert mine.shape == (1, p.dim) and mine.dtype == np.float64
            assert mine[0].tobytes() == batched[j].tobytes(), (j, theta[:3])


def test_a_share_holds_only_its_workers_samples() -> None:
    p = build("linear_regression", 4, 5, 500, 0.5)
    share = p.local(3)
    assert share.workers == 1 and share.sizes.tolist() == [p.sizes[3]]
    assert share.samples == int(p.sizes[3]) and share.dim == p.dim
    assert np.shares_memory(share.covariates, p.covariates)  # views, no copy
    owned = copy.deepcopy(share)
    assert not np.shares_memory(owned.covariates, p.covariates)
    assert owned.covariates.shape == (1, *p.covariates.shape[1:])
    assert p.workers == 5 and p.gradients(np.ones(4)).shape == (5, 4)  # the full one intact


def test_a_share_of_no_worker_is_an_error() -> None:
    p = build("logistic_regression", 3, 4, 400, 0.0)
    with pytest.raises(IndexError):
        p.local(4)
    with pytest.raises(IndexError):
        p.local(-1)
