"""Coordinate-wise trimmed mean."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim import aggregators
from bgdsim._params import check_params
from bgdsim.aggregators.mean import mean
from bgdsim.aggregators.trimmed_mean import trimmed_mean, trimmed_mean_of_rows
from tests.aggregators._helpers import assert_translated, contaminated

FAST = settings(max_examples=40, deadline=None)


def sorted_trimmed_mean(x: np.ndarray, b: int) -> np.ndarray:
    return np.sort(x, axis=0)[b : x.shape[0] - b].mean(axis=0)


def test_registered() -> None:
    assert aggregators.get("trimmed_mean") is trimmed_mean
    assert check_params(trimmed_mean, {}, where="params", supplied=("f",)) == {"beta": None}
    with pytest.raises(ValueError, match=r"^params\.beta: "):
        check_params(trimmed_mean, {"beta": 0.5}, where="params", supplied=("f",))


def test_by_hand() -> None:
    x = np.array([[0.0, 5.0], [1.0, -1.0], [2.0, 2.0], [3.0, 3.0], [100.0, -100.0]])
    # coordinate 0 keeps 1, 2, 3; coordinate 1 keeps -1, 2, 3
    np.testing.assert_allclose(trimmed_mean(x, f=1), [2.0, 4.0 / 3.0], rtol=1e-15)
    np.testing.assert_array_equal(trimmed_mean(x, f=2), [2.0, 2.0])  # the median
    np.testing.assert_allclose(trimmed_mean(x, f=0, beta=0.2), [2.0, 4.0 / 3.0], rtol=1e-15)
    np.testing.assert_array_equal(trimmed_mean(x, f=0, beta=0.19), mean(x))  # ⌊0.95⌋ = 0


def test_f_zero_is_exactly_the_mean() -> None:
    x = np.random.default_rng(1).standard_normal((13, 7)) * 1e3
    np.testing.assert_array_equal(trimmed_mean(x, f=0), mean(x))


def test_leaves_the_input_alone_and_matches_a_sort() -> None:
    rng = np.random.default_rng(2)
    for n, b in [(3, 1), (10, 4), (11, 3), (40, 1)]:
        x = rng.standard_normal((n, 6))
        before = x.copy()
        np.testing.assert_allclose(trimmed_mean(x, f=b), sorted_trimmed_mean(x, b), rtol=1e-14)
        np.testing.assert_array_equal(x, before)
        np.testing.assert_allclose(
            trimmed_mean_of_rows(np.asfortranarray(x), b), sorted_trimmed_mean(x, b), rtol=1e-14
        )


def test_preconditions() -> None:
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="trimmed_mean needs n > 2f reports, got n=4 with f=2"):
        trimmed_mean(x, f=2)
    with pytest.raises(ValueError, match="trimmed_mean needs f >= 0, got f=-1"):
        trimmed_mean(x, f=-1)
    with pytest.raises(ValueError, match=r"trimmed_mean needs 0 <= beta < 0.5, got beta=0.5"):
        trimmed_mean(x, f=0, beta=0.5)
    with pytest.raises(ValueError, match=r"trimmed_mean needs a non-empty \(n, d\) array"):
        trimmed_mean(np.zeros((0, 2)), f=0)
    np.testing.assert_array_equal(trimmed_mean(x, f=2, beta=0.4), [0.0, 0.0])  # beta overrides f


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 30),
    d=st.integers(1, 5),
    frac=st.floats(0, 0.499),
    scale=st.floats(1e-3, 1e6),
)
def test_permutation_invariant_and_translation_equivariant(
    seed: int, n: int, d: int, frac: float, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    f = int(frac * n)
    x = rng.standard_normal((n, d))
    base = trimmed_mean(x, f=f)
    np.testing.assert_allclose(base, sorted_trimmed_mean(x, f), rtol=0, atol=1e-14)
    np.testing.assert_allclose(trimmed_mean(x[rng.permutation(n)], f=f), base, rtol=0, atol=1e-14)
    shift = scale * rng.standard_normal(d)
    assert_translated(trimmed_mean(x + shift, f=f), base, shift)


@pytest.mark.parametrize("distance", [1e6, 1e150])
def test_robust_to_far_outliers(distance: float) -> None:
    x, centre, radius = contaminated(n=20, f=6, d=5, distance=distance)
    assert np.linalg.norm(trimmed_mean(x, f=6) - centre) <= 3 * radius
    assert np.linalg.norm(trimmed_mean(x, f=0, beta=0.3) - centre) <= 3 * radius
    assert np.abs(mean(x) - centre).max() > 1e3 * radius


CASES = [(0.29, 100, 29), (0.1, 30, 3), (0.3, 10, 3), (1 / 3 - 1e-9, 3, 0), (0.49, 100, 49)]


@pytest.mark.parametrize(("beta", "n", "trimmed"), CASES)
def test_beta_trims_the_fraction_as_written(beta: float, n: int, trimmed: int) -> None:
    # 0.29 * 100 = 28.999999999999996: floored, it trimmed 28 per side instead of 29
    x = np.arange(n, dtype=float)[:, None]
    want = x[trimmed : n - trimmed].mean(axis=0)
    np.testing.assert_allclose(trimmed_mean(x, f=0, beta=beta), want, rtol=0, atol=1e-12)
