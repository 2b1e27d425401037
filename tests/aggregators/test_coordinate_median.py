"""Coordinate-wise median and coordinate-wise median of batch means."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim import aggregators
from bgdsim.aggregators.coordinate_median import (
    coordinate_median,
    coordinate_median_of_means,
    median_of_rows,
)
from bgdsim.aggregators.mean import mean
from tests.aggregators._helpers import assert_translated, contaminated

FAST = settings(max_examples=40, deadline=None)


def test_registered() -> None:
    assert aggregators.get("coordinate_median") is coordinate_median
    assert aggregators.get("coordinate_median_of_means") is coordinate_median_of_means
    assert aggregators.takes_batches(coordinate_median_of_means)
    assert not aggregators.takes_batches(coordinate_median)


def test_coordinate_median_by_hand() -> None:
    x = np.array([[0.0, 0.0, 7.0], [1.0, 2.0, 7.0], [100.0, -50.0, 7.0]])
    np.testing.assert_array_equal(coordinate_median(x), [1.0, 0.0, 7.0])
    # even n: the mean of the two middle values, per coordinate
    x = np.array([[0.0, 10.0], [1.0, -2.0], [3.0, 4.0], [100.0, 5.0]])
    np.testing.assert_array_equal(coordinate_median(x), [2.0, 4.5])
    np.testing.assert_array_equal(coordinate_median(np.array([[3.0, -1.0]])), [3.0, -1.0])


def test_coordinate_median_of_means_by_hand() -> None:
    # batches {0,1}, {2,3}, {4,5}: means (1, 0), (2, 1), (100, -100): medians 2 and 0
    x = np.array([[0.0, 0], [2, 0], [1, 1], [3, 1], [100, -100], [100, -100]])
    np.testing.assert_array_equal(coordinate_median_of_means(x, batches=3), [2.0, 0.0])
    # k = 4 over 6: sizes 2, 2, 1, 1: means (1, 0), (2, 1), (100, -100), (100, -100)
    np.testing.assert_array_equal(coordinate_median_of_means(x, batches=4), [51.0, -50.0])


def test_matches_numpy_median_and_leaves_the_input_alone() -> None:
    rng = np.random.default_rng(3)
    for n, d in [(1, 4), (2, 3), (7, 5), (10, 1), (31, 17)]:
        x = rng.standard_normal((n, d))
        before = x.copy()
        np.testing.assert_array_equal(coordinate_median(x), np.median(x, axis=0))
        np.testing.assert_array_equal(x, before)
        xf = np.asfortranarray(x)  # x.T is then contiguous: still copied, never sorted in place
        np.testing.assert_array_equal(median_of_rows(xf), np.median(x, axis=0))
        np.testing.assert_array_equal(xf, before)


def test_f_zero_reductions() -> None:
    x = np.random.default_rng(4).standard_normal((12, 3))
    np.testing.assert_array_equal(coordinate_median_of_means(x, batches=12), coordinate_median(x))
    np.testing.assert_array_equal(coordinate_median_of_means(x, batches=50), coordinate_median(x))
    np.testing.assert_array_equal(coordinate_median_of_means(x, batches=1), mean(x))


def test_preconditions() -> None:
    with pytest.raises(ValueError, match=r"coordinate_median needs a non-empty \(n, d\) array"):
        coordinate_median(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        coordinate_median(np.zeros(3))
    with pytest.raises(ValueError, match="coordinate_median_of_means needs a non-empty"):
        coordinate_median_of_means(np.zeros((0, 2)), batches=1)
    with pytest.raises(
        ValueError, match="coordinate_median_of_means needs batches >= 1, got batches=0"
    ):
        coordinate_median_of_means(np.zeros((4, 2)), batches=0)


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 25),
    d=st.integers(1, 6),
    scale=st.floats(1e-3, 1e3),
)
def test_coordinate_median_is_permutation_invariant_and_translation_equivariant(
    seed: int, n: int, d: int, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    base = coordinate_median(x)
    np.testing.assert_array_equal(coordinate_median(x[rng.permutation(n)]), base)
    shift = scale * rng.standard_normal(d)
    assert_translated(coordinate_median(x + shift), base, shift)


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 6),
    b=st.integers(1, 5),
    scale=st.floats(1e-3, 1e3),
)
def test_median_of_means_invariances(seed: int, k: int, b: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    n, d = k * b, 3
    x = rng.standard_normal((n, d))
    base = coordinate_median_of_means(x, batches=k)
    within = np.concatenate([rng.permutation(b) + b * i for i in range(k)])
    np.testing.assert_allclose(coordinate_median_of_means(x[within], batches=k), base, atol=1e-14)
    whole = x.reshape(k, b, d)[rng.permutation(k)].reshape(n, d)
    np.testing.assert_array_equal(coordinate_median_of_means(whole, batches=k), base)
    shift = scale * rng.standard_normal(d)
    assert_translated(coordinate_median_of_means(x + shift, batches=k), base, shift)


@pytest.mark.parametrize("distance", [1e6, 1e150])
def test_robust_to_far_outliers(distance: float) -> None:
    x, centre, radius = contaminated(n=21, f=8, d=5, distance=distance)
    assert np.linalg.norm(coordinate_median(x) - centre) <= 3 * radius
    assert np.abs(mean(x) - centre).max() > 1e3 * radius
    # 40 reports, 10 batches of 4: outliers in batches 0..3 (fewer than half)
    x, centre, radius = contaminated(n=40, d=5, distance=distance, rows=[0, 4, 8, 12])
    agg = coordinate_median_of_means(x, batches=10)
    assert np.linalg.norm(agg - centre) <= 3 * radius
    assert np.abs(mean(x) - centre).max() > 1e3 * radius
