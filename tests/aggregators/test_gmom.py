"""Geometric median of means (Algorithm 2), mean (Algorithm 1), geomed (k = m)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim import aggregators
from bgdsim.aggregators import batch_bounds, batch_means, geometric_median
from bgdsim.aggregators.gmom import geomed, gmom
from bgdsim.aggregators.mean import mean


def test_registry_has_the_core_rules() -> None:
    assert {"mean", "gmom", "geomed"} <= set(aggregators.names())
    with pytest.raises(KeyError, match="did you mean 'gmom'"):
        aggregators.get("gmon")


def test_batches_are_consecutive_and_differ_in_size_by_at_most_one() -> None:
    assert batch_bounds(10, 5).tolist() == [0, 2, 4, 6, 8]
    assert batch_bounds(10, 3).tolist() == [0, 4, 7]  # sizes 4, 3, 3
    assert batch_bounds(3, 5).tolist() == [0, 1, 2]  # n < k: one report per batch
    with pytest.raises(ValueError, match="batches must be >= 1"):
        batch_bounds(3, 0)


@given(n=st.integers(1, 60), k=st.integers(1, 60))
def test_batch_means_are_the_means_of_the_documented_batches(n: int, k: int) -> None:
    x = np.arange(n * 2, dtype=float).reshape(n, 2)
    means = batch_means(x, min(k, n))
    parts = np.array_split(x, min(k, n))
    np.testing.assert_allclose(means, [p.mean(axis=0) for p in parts])
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1


def test_gmom_by_hand() -> None:
    # batches {0,1}, {2,3}, {4,5}: means (1,0), (1,0), (100,0): the median is (1,0)
    x = np.array([[0.0, 0], [2, 0], [1, 1], [1, -1], [100, 0], [100, 0]])
    np.testing.assert_allclose(gmom(x, batches=3), [1.0, 0.0], atol=1e-9)
    np.testing.assert_array_equal(mean(x), x.mean(axis=0))


def test_gmom_with_one_batch_is_the_mean_and_with_n_batches_is_geomed() -> None:
    x = np.random.default_rng(0).standard_normal((12, 4))
    np.testing.assert_array_equal(gmom(x, batches=1), mean(x))
    np.testing.assert_array_equal(gmom(x, batches=12), geomed(x))
    np.testing.assert_array_equal(geomed(x), geometric_median(x, tol=1e-10))


def test_gmom_is_robust_while_fewer_than_half_the_batches_are_spoiled() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 3)) * 0.1 + 1.0
    x[[0, 4, 8, 12]] = 1e6  # spoils 4 of 10 batches
    np.testing.assert_allclose(gmom(x, batches=10), 1.0, atol=0.2)
    assert np.abs(mean(x)).max() > 1e4


@settings(max_examples=30, deadline=None)
@given(shift=st.floats(-1e3, 1e3), perm_seed=st.integers(0, 2**32 - 1))
def test_gmom_is_translation_equivariant_and_invariant_to_order_within_batches(
    shift: float, perm_seed: int
) -> None:
    rng = np.random.default_rng(perm_seed)
    x = rng.standard_normal((20, 3))
    base = gmom(x, batches=4)
    np.testing.assert_allclose(
        gmom(x + shift, batches=4), base + shift, atol=1e-6 * (1 + abs(shift))
    )
    y = x.reshape(4, 5, 3)[:, rng.permutation(5)].reshape(20, 3)
    np.testing.assert_allclose(gmom(y, batches=4), base, atol=1e-7)


@pytest.mark.parametrize("fn", [mean, geomed], ids=["mean", "geomed"])
def test_rules_refuse_an_empty_or_non_matrix_input(fn: object) -> None:
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        fn(np.zeros((0, 3)))  # type: ignore[operator]
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        gmom(np.zeros(3), batches=1)
