"""The paper's claims on its own problem (Chen, Su, Xu 2017, §2.2 and §4).

Linear regression, d = 10, N = 1e5, m = 100, η = ½, θ₀ = 0, ‖θ*‖ = 1. Each check is one
full simulated run (≈ 0.3 s); thresholds are the ones the claims imply, not fitted to a
seed: the statistical scale of the mean is √(d/N) = 0.01, that of gmom √(dk/N).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import bgdsim
from tests.conftest import ScenarioFactory

D, N = 10, 100_000


def test_fault_free_error_falls_geometrically_to_the_statistical_floor(
    paper: ScenarioFactory,
) -> None:
    result = bgdsim.run(paper(cluster__byzantine=0, server__aggregator="mean"), log_path=None)
    errors = result.errors
    assert errors[5] <= 0.1 * errors[0]
    floor = math.sqrt(D / N)
    assert 0.3 * floor <= result.final_error <= 3 * floor
    # geometric: the error contracts by the factor |1 - η| = ½ until the floor is near
    assert np.all(errors[1:5] <= 0.6 * errors[:4])


@pytest.mark.parametrize("scale", [100.0, 1000.0])
def test_averaging_is_broken_by_sign_flip_workers(paper: ScenarioFactory, scale: float) -> None:
    # 5 of 100 workers send -scale x the honest mean: the average becomes
    # (95 - 5 scale)/100 x the honest mean, so every step moves away from θ*.
    result = bgdsim.run(
        paper(server__aggregator="mean", adversary__attack__scale=scale), log_path=None
    )
    assert result.status == "diverged" or result.final_error > 1e6


def test_a_single_byzantine_worker_breaks_averaging(paper: ScenarioFactory) -> None:
    result = bgdsim.run(
        paper(
            server__aggregator="mean",
            cluster__byzantine=1,
            adversary__attack__scale=1000.0,
        ),
        log_path=None,
    )
    assert result.status == "diverged" or result.final_error > 1e6


@pytest.mark.parametrize(("k", "q"), [(20, 5), (25, 10)])
def test_gmom_reaches_its_floor_under_a_new_random_byzantine_set_each_round(
    paper: ScenarioFactory, k: int, q: int
) -> None:
    result = bgdsim.run(
        paper(server__aggregator__batches=k, cluster__byzantine=q, adversary__schedule="random"),
        log_path=None,
    )
    assert result.final_error <= 3 * math.sqrt(D * k / N)
    assert result.errors[5] <= 0.2 * result.errors[0]


def test_gmom_with_one_batch_is_the_mean_exactly(paper: ScenarioFactory) -> None:
    a = bgdsim.run(paper(server__aggregator__batches=1), log_path=None)
    b = bgdsim.run(paper(server__aggregator="mean"), log_path=None)
    np.testing.assert_array_equal(a.thetas, b.thetas)


def test_gmom_with_m_batches_is_the_geometric_median_exactly(paper: ScenarioFactory) -> None:
    a = bgdsim.run(paper(server__aggregator__batches=100, rounds=10), log_path=None)
    b = bgdsim.run(paper(server__aggregator="geomed", rounds=10), log_path=None)
    np.testing.assert_array_equal(a.thetas, b.thetas)


def test_gmom_survives_what_breaks_the_mean(paper: ScenarioFactory) -> None:
    attack = {"adversary__attack__scale": 100.0}
    robust = bgdsim.run(paper(**attack), log_path=None)
    assert robust.status == "completed"
    assert robust.final_error <= 3 * math.sqrt(D * 20 / N)
