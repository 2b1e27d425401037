"""Bucketing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim._params import check_params
from bgdsim.aggregators import pre
from bgdsim.aggregators.pre.bucketing import bucketing

FAST = settings(max_examples=40, deadline=None)


def test_by_hand_without_a_shuffle() -> None:
    x = np.array([[0.0], [2.0], [4.0], [6.0], [9.0]])
    np.testing.assert_array_equal(bucketing(x, s=2), [[1.0], [5.0], [9.0]])
    np.testing.assert_array_equal(bucketing(x, s=5), [[4.2]])
    np.testing.assert_array_equal(bucketing(x, s=9), [[4.2]])
    np.testing.assert_array_equal(bucketing(x, s=1), x)


def test_the_shuffle_is_the_generators_permutation() -> None:
    x = np.arange(12.0).reshape(6, 2)
    perm = np.random.default_rng(7).permutation(6)
    want = x[perm].reshape(3, 2, 2).mean(axis=1)
    np.testing.assert_array_equal(bucketing(x, s=2, rng=np.random.default_rng(7)), want)


def test_parameters() -> None:
    assert pre.get("bucketing") is bucketing
    assert check_params(bucketing, {}, where="p", supplied=pre.SUPPLIED) == {"s": 2}
    with pytest.raises(ValueError, match=r"^p\.s: "):
        check_params(bucketing, {"s": 0}, where="p", supplied=pre.SUPPLIED)
    with pytest.raises(ValueError, match="s >= 1"):
        bucketing(np.zeros((3, 1)), s=0)


@FAST
@given(st.integers(1, 30), st.integers(1, 10), st.integers(0, 2**32 - 1))
def test_output_count_and_mean(n: int, s: int, seed: int) -> None:
    x = np.random.default_rng(seed).standard_normal((n, 3))
    y = bucketing(x, s=s, rng=np.random.default_rng(seed))
    assert y.shape == (-(-n // s), 3)
    # the bucket means weighted by their sizes give back the mean of the reports
    sizes = np.full(y.shape[0], float(s))
    sizes[-1] = n - s * (y.shape[0] - 1)
    np.testing.assert_allclose(sizes @ y / n, x.mean(axis=0), rtol=1e-10, atol=1e-12)
