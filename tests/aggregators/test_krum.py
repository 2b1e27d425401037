"""Krum and Multi-Krum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim import aggregators
from bgdsim._params import check_params
from bgdsim.aggregators.krum import krum, krum_scores, multi_krum, pairwise_sq_distances
from bgdsim.aggregators.mean import mean
from tests.aggregators._helpers import contaminated

FAST = settings(max_examples=30, deadline=None)


def brute_scores(x: np.ndarray, f: int) -> np.ndarray:
    """Krum scores from explicit differences, one report at a time."""
    n = x.shape[0]
    out = np.empty(n)
    for i in range(n):
        d2 = np.sort([float(np.sum((x[i] - x[j]) ** 2)) for j in range(n) if j != i])
        out[i] = d2[: n - f - 2].sum()
    return out


def test_registered() -> None:
    assert aggregators.get("krum") is krum
    assert aggregators.get("multi_krum") is multi_krum
    assert check_params(krum, {}, where="params", supplied=("f",)) == {}
    assert check_params(multi_krum, {}, where="params", supplied=("f",)) == {"m_select": None}
    with pytest.raises(ValueError, match=r"^params\.m_select: "):
        check_params(multi_krum, {"m_select": 0}, where="params", supplied=("f",))


def test_krum_by_hand() -> None:
    # two neighbours each: scores 5, 2, 2, 5, huge: reports 1 and 2 tie, the lower index wins
    x = np.array([[0.0], [1.0], [2.0], [3.0], [100.0]])
    np.testing.assert_array_equal(krum(x, f=1), [1.0])
    np.testing.assert_allclose(krum_scores(pairwise_sq_distances(x), 1)[:4], [5, 2, 2, 5])
    np.testing.assert_array_equal(multi_krum(x, f=1, m_select=2), [1.5])
    np.testing.assert_array_equal(multi_krum(x, f=1, m_select=3), [1.0])  # 0 beats 3 on a tie
    np.testing.assert_array_equal(multi_krum(x, f=1), [1.5])  # m = n - f = 4: 0, 1, 2, 3
    # a unit square and a far point: the four corners tie (score 2), the first is returned
    sq = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [10.0, 10.0]])
    np.testing.assert_array_equal(krum(sq, f=1), [0.0, 0.0])
    np.testing.assert_array_equal(multi_krum(sq, f=1), [0.5, 0.5])


def test_the_result_is_a_report_bit_for_bit() -> None:
    x = np.random.default_rng(5).standard_normal((9, 4)) * 1e3 + 1e9
    out = krum(x, f=2)
    assert any(np.array_equal(out, row) for row in x)


def test_scores_match_explicit_differences_even_under_a_large_offset() -> None:
    rng = np.random.default_rng(6)
    x = rng.standard_normal((12, 30))
    for offset in (0.0, 1e8):
        got = krum_scores(pairwise_sq_distances(x + offset), 3)
        np.testing.assert_allclose(got, brute_scores(x, 3), rtol=1e-7)
    d2 = pairwise_sq_distances(x)
    np.testing.assert_array_equal(d2, d2.T)
    np.testing.assert_array_equal(np.diag(d2), 0.0)


def test_reduction_cases() -> None:
    x = np.random.default_rng(7).standard_normal((11, 5))
    np.testing.assert_array_equal(multi_krum(x, f=0, m_select=11), mean(x))
    for f in (0, 2, 4):
        np.testing.assert_array_equal(multi_krum(x, f=f, m_select=1), krum(x, f=f))


def test_preconditions() -> None:
    with pytest.raises(ValueError, match=r"krum needs n >= 2f \+ 3 reports, got n=7 with f=3"):
        krum(np.zeros((7, 2)), f=3)
    with pytest.raises(
        ValueError, match=r"multi_krum needs n >= 2f \+ 3 reports, got n=4 with f=1"
    ):
        multi_krum(np.zeros((4, 2)), f=1)
    with pytest.raises(ValueError, match="krum needs f >= 0, got f=-1"):
        krum(np.zeros((7, 2)), f=-1)
    with pytest.raises(ValueError, match=r"krum needs a non-empty \(n, d\) array"):
        krum(np.zeros((0, 2)), f=0)
    with pytest.raises(
        ValueError, match="multi_krum needs 1 <= m_select <= n, got m_select=8 with n=7"
    ):
        multi_krum(np.zeros((7, 2)), f=1, m_select=8)
    krum(np.zeros((7, 2)), f=2)  # n = 2f + 3 is enough


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 25),
    d=st.integers(1, 8),
    frac=st.floats(0, 1),
    scale=st.floats(1e-3, 1e6),
)
def test_permutation_invariant_and_translation_equivariant(
    seed: int, n: int, d: int, frac: float, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    f = int(frac * (n - 3) / 2)
    x = rng.standard_normal((n, d))
    perm = rng.permutation(n)
    shift = scale * rng.standard_normal(d)
    tol = 1e-12 * (1 + np.abs(shift).max())
    scores = brute_scores(x, f)
    order = np.argsort(scores, kind="stable")
    base = krum(x, f=f)
    if scores[order[1]] <= scores[order[0]] * (1 + 1e-9):
        # a tie (always so for n = 3, f = 0: the closest pair): a minimiser is returned
        tied = order[scores[order] <= scores[order[0]] * (1 + 1e-9)]
        assert any(np.array_equal(base, x[i]) for i in tied)
        return
    np.testing.assert_array_equal(base, x[order[0]])
    np.testing.assert_array_equal(krum(x[perm], f=f), base)
    np.testing.assert_allclose(krum(x + shift, f=f), base + shift, rtol=0, atol=tol)
    m = int(rng.integers(1, n))
    if scores[order[m]] <= scores[order[m - 1]] * (1 + 1e-9):
        return  # the m-th and (m+1)-th best tie: the selection is not unique
    base = multi_krum(x, f=f, m_select=m)
    np.testing.assert_allclose(base, x[order[:m]].mean(axis=0), rtol=0, atol=1e-14)
    np.testing.assert_allclose(multi_krum(x[perm], f=f, m_select=m), base, rtol=0, atol=1e-14)
    np.testing.assert_allclose(multi_krum(x + shift, f=f, m_select=m), base + shift, atol=tol)


@pytest.mark.parametrize("distance", [1e6, 1e150, 1e300])
def test_robust_to_far_outliers(distance: float) -> None:
    x, centre, radius = contaminated(n=20, f=8, d=5, distance=distance)
    assert np.linalg.norm(krum(x, f=8) - centre) <= 3 * radius
    assert np.linalg.norm(multi_krum(x, f=8) - centre) <= 3 * radius
    assert np.abs(mean(x) - centre).max() > 1e3 * radius


@pytest.mark.parametrize("scale", [1e-200, 1e-150, 1.0, 1e150, 1e200])
def test_distances_neither_overflow_nor_underflow(scale: float) -> None:
    x = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, 0.0]]) * scale
    d2 = pairwise_sq_distances(x)
    assert np.isfinite(d2).all()
    assert d2[0, 1] > 0
    np.testing.assert_allclose(d2[0] / d2[0, 1], [0.0, 1.0, 4.0, 9.0, 0.0], rtol=1e-15)
    np.testing.assert_array_equal(krum(x, f=1), x[0])
    np.testing.assert_array_equal(pairwise_sq_distances(np.ones((4, 3)) * scale), 0.0)
