"""The paper's claims on its own problem (Chen, Su, Xu 2017, §2.2 and §4).

Linear regression, d = 10, N = 1e5, m = 100, η = ½, θ₀ = 0, ‖θ*‖ = 1. The claims under
the strongest attacks, the shapes (√(1/N), √d, √q, log N rounds) and the breakdown points
are the functions of :mod:`tests.sim.claims`: a reduced version runs by default, the long
fits under the ``slow`` marker, and the same functions must *fail* against a deliberately
weakened server (gmom with the geometric median replaced by the mean of the batch means).
The single runs below check exact identities and Algorithm 1's breakdown.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import bgdsim
from bgdsim import aggregators
from bgdsim.aggregators.gmom import batch_means
from tests.conftest import ScenarioFactory
from tests.sim import claims

WEAK = "_gmom_mean_of_means_for_tests"


@pytest.fixture(scope="module")
def weakened_server() -> Iterator[str]:
    """gmom with its geometric median replaced by the mean of the k batch means,
    registered for this module only (so the claims checks can run against it)."""

    def mean_of_means(
        vectors: np.ndarray,
        *,
        batches: int,
        tol: float = 1e-10,
        rebatch: bool = False,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        x = np.asarray(vectors, dtype=np.float64)
        return np.asarray(batch_means(x, min(batches, x.shape[0])).mean(axis=0))

    aggregators.register(WEAK)(mean_of_means)
    yield WEAK
    aggregators.registry.unregister(WEAK)
    claims.errors.cache_clear()


@pytest.mark.parametrize("check", list(claims.CHECKS))
def test_claim_holds_for_gmom(check: str) -> None:
    claims.CHECKS[check]("gmom", True)


@pytest.mark.slow
@pytest.mark.parametrize("check", list(claims.CHECKS))
def test_claim_holds_for_gmom_long_fit(check: str) -> None:
    claims.CHECKS[check]("gmom", False)


@pytest.mark.parametrize("check", list(claims.CHECKS))
def test_claim_check_catches_a_weakened_server(weakened_server: str, check: str) -> None:
    with pytest.raises(AssertionError):
        claims.CHECKS[check](weakened_server, True)


def test_weakened_server_is_what_it_claims(weakened_server: str) -> None:
    # without Byzantine workers the weakened rule is the mean: it is weak only under attack
    def run(aggregator: str) -> Any:
        return claims.errors(aggregator, 0, q=0)

    np.testing.assert_allclose(run(weakened_server), run("mean"), rtol=1e-12)


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


def test_gmom_with_one_batch_is_the_mean_exactly(paper: ScenarioFactory) -> None:
    a = bgdsim.run(paper(server__aggregator__batches=1), log_path=None)
    b = bgdsim.run(paper(server__aggregator="mean"), log_path=None)
    np.testing.assert_array_equal(a.thetas, b.thetas)


def test_gmom_with_m_batches_is_the_geometric_median_exactly(paper: ScenarioFactory) -> None:
    a = bgdsim.run(paper(server__aggregator__batches=100, rounds=10), log_path=None)
    b = bgdsim.run(paper(server__aggregator="geomed", rounds=10), log_path=None)
    np.testing.assert_array_equal(a.thetas, b.thetas)
