"""Bulyan: iterated Krum selection, then the coordinate-wise mean around the median."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim import aggregators
from bgdsim._params import check_params
from bgdsim.aggregators.bulyan import bulyan, closest_to_median_mean, iterated_krum
from bgdsim.aggregators.krum import krum, pairwise_sq_distances
from bgdsim.aggregators.mean import mean
from tests.aggregators._helpers import assert_translated, contaminated

FAST = settings(max_examples=30, deadline=None)


def brute_selection(x: np.ndarray, f: int, count: int) -> list[int]:
    """Iterated Krum, every score recomputed from explicit differences at every step."""
    n = x.shape[0]
    d2 = np.array([[float(np.sum((x[i] - x[j]) ** 2)) for j in range(n)] for i in range(n)])
    left = list(range(n))
    chosen: list[int] = []
    for _ in range(count):
        k = len(left) - f - 2
        scores = [np.sort([d2[i, j] for j in left if j != i])[:k].sum() for i in left]
        chosen.append(left.pop(int(np.argmin(scores))))  # argmin: the first (lowest index)
    return chosen


def brute_closest_mean(s: np.ndarray, beta: int) -> np.ndarray:
    med = np.median(s, axis=0)
    idx = np.argsort(np.abs(s - med), axis=0, kind="stable")[:beta]
    return np.take_along_axis(s, idx, axis=0).mean(axis=0)


def test_registered() -> None:
    assert aggregators.get("bulyan") is bulyan
    assert check_params(bulyan, {}, where="params", supplied=("f",)) == {}


def test_by_hand() -> None:
    # f = 1, θ = 5, β = 3. Step 1 (4 neighbours): 2 and 3 tie at 10, take 2. Step 2 (3): 3
    # scores 9. Step 3 (2): 1 and 4 tie at 10, take 1. Step 4 (1): 4 and 5 tie at 1, take 4.
    # Step 5 (0 neighbours): every score is 0, take 0. Then {0, 1, 2, 3, 4}: median 2, the
    # three values closest to it are 1, 2, 3.
    x = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [1000.0]])
    assert iterated_krum(pairwise_sq_distances(x), 1, 5).tolist() == [2, 3, 1, 4, 0]
    assert brute_selection(x, 1, 5) == [2, 3, 1, 4, 0]
    np.testing.assert_array_equal(bulyan(x, f=1), [2.0])
    # the first choice is Krum's
    assert iterated_krum(pairwise_sq_distances(x), 1, 1).tolist() == [2]
    np.testing.assert_array_equal(krum(x, f=1), x[2])


def test_closest_to_median_by_hand() -> None:
    s = np.array([[0.0, 4.0], [1.0, 0.0], [2.0, 1.0], [2.5, 2.0], [9.0, 3.0]])
    # column 0: median 2, nearest three 1, 2, 2.5; column 1: median 2, windows 1-3 (reach 1)
    np.testing.assert_allclose(closest_to_median_mean(s, 3), [5.5 / 3, 2.0], rtol=1e-15)
    # median 2.5: the windows {1, 2, 3} and {2, 3, 4} both reach 1.5 from it and are equally
    # central; the lower one is taken
    t = np.array([[1.0], [2.0], [3.0], [4.0]])
    np.testing.assert_array_equal(closest_to_median_mean(t, 3), [2.0])
    np.testing.assert_array_equal(closest_to_median_mean(t, 2), [2.5])
    np.testing.assert_array_equal(closest_to_median_mean(t, 4), [2.5])


def test_f_zero_is_the_mean() -> None:
    x = np.random.default_rng(8).standard_normal((6, 4))
    np.testing.assert_array_equal(bulyan(x, f=0), mean(x))


def test_preconditions() -> None:
    with pytest.raises(ValueError, match=r"bulyan needs n >= 4f \+ 3 reports, got n=10 with f=2"):
        bulyan(np.zeros((10, 3)), f=2)
    with pytest.raises(ValueError, match="bulyan needs f >= 0, got f=-1"):
        bulyan(np.zeros((10, 3)), f=-1)
    with pytest.raises(ValueError, match=r"bulyan needs a non-empty \(n, d\) array"):
        bulyan(np.zeros(3), f=0)
    bulyan(np.zeros((11, 3)), f=2)  # n = 4f + 3 is enough


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(7, 18),
    d=st.integers(1, 3),
    integer=st.booleans(),
    data=st.data(),
)
def test_incremental_selection_matches_recomputing_every_score(
    seed: int, n: int, d: int, integer: bool, data: st.DataObject
) -> None:
    rng = np.random.default_rng(seed)
    f = data.draw(st.integers(1, (n - 3) // 4), label="f")
    # small integers: many exact ties, all arithmetic exact; else generic continuous data
    x = rng.integers(0, 4, (n, d)).astype(float) if integer else rng.standard_normal((n, d))
    got = iterated_krum(pairwise_sq_distances(x), f, n - 2 * f).tolist()
    assert got == brute_selection(x, f, n - 2 * f)


@FAST
@given(seed=st.integers(0, 2**32 - 1), theta=st.integers(1, 15), d=st.integers(1, 4))
def test_closest_to_median_mean_matches_a_sort_by_distance(seed: int, theta: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((theta, d))
    # β ≡ θ (mod 2), as in Bulyan (θ = n − 2f, β = θ − 2f); otherwise, for even θ, the two
    # middle values are equally far from the median and a tie is certain
    beta = theta - 2 * int(rng.integers(0, (theta + 1) // 2))
    np.testing.assert_allclose(
        closest_to_median_mean(s, beta), brute_closest_mean(s, beta), rtol=0, atol=1e-14
    )


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(7, 24),
    d=st.integers(1, 6),
    scale=st.floats(1e-3, 1e6),
    data=st.data(),
)
def test_permutation_invariant_and_translation_equivariant(
    seed: int, n: int, d: int, scale: float, data: st.DataObject
) -> None:
    rng = np.random.default_rng(seed)
    f = data.draw(st.integers(0, (n - 3) // 4), label="f")
    x = rng.standard_normal((n, d))
    base = bulyan(x, f=f)
    shift = scale * rng.standard_normal(d)
    assert_translated(bulyan(x + shift, f=f), base, shift)
    if f in (1, 2):
        return  # the last selection step (0 or 1 neighbours) always ties: lowest index wins
    np.testing.assert_allclose(bulyan(x[rng.permutation(n)], f=f), base, rtol=0, atol=1e-14)


@pytest.mark.parametrize("distance", [1e6, 1e150])
def test_robust_to_far_outliers(distance: float) -> None:
    x, centre, radius = contaminated(n=23, f=5, d=5, distance=distance)
    assert np.linalg.norm(bulyan(x, f=5) - centre) <= 3 * radius
    assert np.abs(mean(x) - centre).max() > 1e3 * radius


def _krum_by_definition(x: np.ndarray, f: int, count: int) -> list[int]:
    """Krum ``count`` times, every score summed afresh from exact distances."""
    d2 = ((x[:, None] - x[None]) ** 2).sum(-1)
    alive, chosen = list(range(len(x))), []
    for _ in range(count):
        k = len(alive) - f - 2
        scores = [np.sort([d2[i, j] for j in alive if j != i])[:k].sum() for i in alive]
        chosen.append(alive.pop(int(np.argmin(scores))))
    return sorted(chosen)


def test_far_reports_close_to_each_other_keep_their_distance_and_scores() -> None:
    # two colluding reports 1e-3 apart at 1e9: the Gram expansion gave their squared
    # distance as 0 (its rounding is ~ε·1e18), and subtracting distances of ~1e18 from
    # scores left rounding larger than the scores; Bulyan then chose another set than
    # the definition in 44 of 300 such rounds
    y = np.vstack([np.zeros((5, 2)), [[1e9, 0.0], [1e9 + 1e-3, 0.0]]])
    assert pairwise_sq_distances(y)[5, 6] == pytest.approx(1e-6, rel=1e-3)
    rng = np.random.default_rng(0)
    for t in range(60):
        f, d = 2, 4
        n = 4 * f + 3 + t % 5
        x = rng.standard_normal((n, d))
        x[:f] = 1e9 + 1e-3 * rng.standard_normal((f, d))
        x = x[rng.permutation(n)]
        got = sorted(iterated_krum(pairwise_sq_distances(x), f, n - 2 * f).tolist())
        assert got == _krum_by_definition(x, f, n - 2 * f), t
