"""Trimmed geometric median of means with a certified approximate median (Remark 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim import aggregators
from bgdsim._params import check_params
from bgdsim.aggregators.geometric_median import geometric_median
from bgdsim.aggregators.gmom import gmom
from bgdsim.aggregators.gmom_trimmed import (
    approximate_geometric_median,
    gmom_trimmed,
    median_gap,
)
from bgdsim.aggregators.mean import mean
from tests.aggregators._helpers import contaminated

FAST = settings(max_examples=25, deadline=None)


def objective(points: np.ndarray, z: np.ndarray) -> float:
    return float(np.linalg.norm(points - z, axis=1).sum())


def test_registered() -> None:
    assert aggregators.get("gmom_trimmed") is gmom_trimmed
    assert aggregators.takes_batches(gmom_trimmed)
    params = check_params(gmom_trimmed, {}, where="params", supplied=("batches",))
    assert params == {"tau": None, "gamma": 1e-6}
    with pytest.raises(ValueError, match=r"^params\.gamma: "):
        check_params(gmom_trimmed, {"gamma": 1.0}, where="params", supplied=("batches",))


def test_by_hand() -> None:
    # batch means (1, 0), (1, 0), (100, 0); τ = 10·d = 20 trims the last; median of the rest
    x = np.array([[0.0, 0], [2, 0], [1, 1], [1, -1], [100, 0], [100, 0]])
    np.testing.assert_array_equal(gmom_trimmed(x, batches=3), [1.0, 0.0])
    np.testing.assert_array_equal(gmom_trimmed(x, batches=3, tau=50.0), [1.0, 0.0])
    # one batch: the mean, unless trimmed (then the fallback: the untrimmed mean again)
    np.testing.assert_array_equal(gmom_trimmed(x, batches=1, tau=np.inf), mean(x))
    np.testing.assert_array_equal(gmom_trimmed(x, batches=1, tau=1.0), mean(x))


def test_trimming_rescues_a_majority_of_spoiled_batches() -> None:
    # 10 reports, 5 batches of 2; outliers in batches 0, 1, 2: gmom follows them, but their
    # batch means have norm ~5e5 > τ = 50 and are trimmed away
    x, centre, radius = contaminated(n=10, d=5, distance=1e6, rows=[0, 2, 4])
    assert np.linalg.norm(gmom(x, batches=5) - centre) > 1e3 * radius
    assert np.linalg.norm(gmom_trimmed(x, batches=5) - centre) <= 3 * radius


def test_every_batch_trimmed_falls_back_to_the_untrimmed_median() -> None:
    x = np.random.default_rng(10).standard_normal((20, 3)) + 1e3  # norms ~1.7e3 > τ = 30
    expected = gmom(x, batches=5, tol=1e-12)
    got = gmom_trimmed(x, batches=5, gamma=1e-12)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(gmom_trimmed(x, batches=5, tau=1e-9), got, rtol=0, atol=1e-6)


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 12), b=st.integers(1, 4))
def test_tau_inf_is_gmom_up_to_the_solver_tolerance(seed: int, k: int, b: int) -> None:
    x = np.random.default_rng(seed).standard_normal((k * b, 4))
    expected = gmom(x, batches=k, tol=1e-12)
    got = gmom_trimmed(x, batches=k, tau=np.inf, gamma=1e-12)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 40), d=st.integers(1, 50))
def test_the_certificate_is_a_valid_bound_and_is_met(seed: int, k: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.standard_normal((k, d)) * rng.uniform(0.1, 10, (k, 1))
    best = objective(points, geometric_median(points, tol=1e-14))
    for z in (points.mean(axis=0), points[0], geometric_median(points, tol=1e-3)):
        true_gap = objective(points, z) / best - 1.0
        assert median_gap(points, z) >= true_gap - 1e-12
    for gamma in (1e-2, 1e-6, 1e-9):
        z, gap = approximate_geometric_median(points, gamma=gamma)
        assert gap <= gamma
        assert objective(points, z) <= (1 + gamma) * best * (1 + 1e-12)


def test_the_certificate_at_a_data_point_median() -> None:
    points = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 5.0]])
    assert median_gap(points, np.zeros(2)) == 0.0  # a strict majority: exactly the median
    assert median_gap(points, np.array([0.5, 0.0])) > 0.0
    z, gap = approximate_geometric_median(points, gamma=1e-6)
    np.testing.assert_array_equal(z, [0.0, 0.0])
    assert gap == 0.0
    assert median_gap(np.ones((3, 2)), np.ones(2)) == 0.0


def test_preconditions() -> None:
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="gmom_trimmed needs batches >= 1, got batches=0"):
        gmom_trimmed(x, batches=0)
    with pytest.raises(ValueError, match=r"gmom_trimmed needs tau > 0, got tau=-1.0"):
        gmom_trimmed(x, batches=2, tau=-1.0)
    with pytest.raises(ValueError, match=r"gmom_trimmed needs 0 < gamma < 1, got gamma=0.0"):
        gmom_trimmed(x, batches=2, gamma=0.0)
    with pytest.raises(ValueError, match=r"gmom_trimmed needs a non-empty \(n, d\) array"):
        gmom_trimmed(np.zeros((0, 2)), batches=2)


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.sampled_from([1, 3, 4, 5, 6]),  # k = 2: any point between the two means is a median
    b=st.integers(1, 4),
    scale=st.floats(1e-3, 1e6),
    tau=st.sampled_from([None, np.inf]),
)
def test_batch_permutations_and_translation(
    seed: int, k: int, b: int, scale: float, tau: float | None
) -> None:
    rng = np.random.default_rng(seed)
    n, d = k * b, 3
    x = rng.standard_normal((n, d))
    base = gmom_trimmed(x, batches=k, tau=tau, gamma=1e-12)
    within = np.concatenate([rng.permutation(b) + b * i for i in range(k)])
    np.testing.assert_allclose(
        gmom_trimmed(x[within], batches=k, tau=tau, gamma=1e-12), base, rtol=0, atol=1e-6
    )
    whole = x.reshape(k, b, d)[rng.permutation(k)].reshape(n, d)
    np.testing.assert_allclose(
        gmom_trimmed(whole, batches=k, tau=tau, gamma=1e-12), base, rtol=0, atol=1e-6
    )
    if tau is None:
        return  # trimming is by norm: no translation equivariance
    shift = scale * rng.standard_normal(d)
    np.testing.assert_allclose(
        gmom_trimmed(x + shift, batches=k, tau=tau, gamma=1e-12),
        base + shift,
        rtol=0,
        atol=1e-6 + 1e-12 * np.abs(shift).max(),
    )


@pytest.mark.parametrize("distance", [1e6, 1e150, 1e300])
def test_robust_to_far_outliers(distance: float) -> None:
    # 40 reports, 10 batches of 4: outliers spoil batches 0..3 (fewer than half)
    x, centre, radius = contaminated(n=40, d=5, distance=distance, rows=[0, 4, 8, 12])
    assert np.linalg.norm(gmom_trimmed(x, batches=10) - centre) <= 3 * radius
    assert np.linalg.norm(gmom_trimmed(x, batches=10, tau=np.inf) - centre) <= 3 * radius
    assert np.abs(mean(x) - centre).max() > 1e3 * radius
