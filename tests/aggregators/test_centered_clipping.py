"""Centered clipping (stateless)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim import aggregators
from bgdsim._params import check_params
from bgdsim.aggregators.centered_clipping import centered_clipping
from bgdsim.aggregators.mean import mean
from tests.aggregators._helpers import assert_translated, contaminated

FAST = settings(max_examples=40, deadline=None)


def test_registered() -> None:
    assert aggregators.get("centered_clipping") is centered_clipping
    assert check_params(centered_clipping, {}, where="params") == {
        "tau": None,
        "iters": 3,
        "start": "coordinate_median",
    }
    with pytest.raises(ValueError, match=r"^params\.start: "):
        check_params(centered_clipping, {"start": "mean"}, where="params")
    with pytest.raises(ValueError, match=r"^params\.tau: "):
        check_params(centered_clipping, {"tau": 0.0}, where="params")


def test_by_hand() -> None:
    # start 1.5 (the median), differences -1.5, -0.5, 0.5, 8.5 clipped to -1, -0.5, 0.5, 1
    x = np.array([[0.0], [1.0], [2.0], [10.0]])
    np.testing.assert_array_equal(centered_clipping(x, tau=1.0, iters=1), [1.5])
    # default τ: the median of the distances 1.5, 0.5, 0.5, 8.5 from the start, 1.0
    np.testing.assert_array_equal(centered_clipping(x, iters=1), [1.5])
    # start 0; step 1: (0 + 0 + 0 + 1)/4; step 2: (3·(−0.25) + 1)/4 more
    y = np.array([[0.0], [0.0], [0.0], [10.0]])
    np.testing.assert_array_equal(centered_clipping(y, tau=1.0, iters=1), [0.25])
    np.testing.assert_array_equal(centered_clipping(y, tau=1.0, iters=2), [0.3125])
    # clipping is by the Euclidean norm: (3, 4) is scaled to (0.6, 0.8)
    z = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(
        centered_clipping(z, tau=1.0, iters=1, start="zero"), [0.2, 0.8 / 3], rtol=1e-15
    )


def test_reductions() -> None:
    x = np.random.default_rng(9).standard_normal((10, 4))
    for start in ("coordinate_median", "zero"):
        got = centered_clipping(x, tau=np.inf, iters=1, start=start)
        np.testing.assert_allclose(got, mean(x), rtol=0, atol=1e-15)
    # most reports at the start: the default radius is 0 and the start is returned
    y = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [5.0, 5.0]])
    np.testing.assert_array_equal(centered_clipping(y), [1.0, 1.0])


def test_preconditions() -> None:
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"centered_clipping needs tau > 0, got tau=0\.0"):
        centered_clipping(x, tau=0.0)
    with pytest.raises(ValueError, match="centered_clipping needs tau > 0, got tau=nan"):
        centered_clipping(x, tau=float("nan"))
    with pytest.raises(ValueError, match="centered_clipping needs iters >= 1, got iters=0"):
        centered_clipping(x, iters=0)
    with pytest.raises(ValueError, match="centered_clipping start must be"):
        centered_clipping(x, start="mean")
    with pytest.raises(ValueError, match=r"centered_clipping needs a non-empty \(n, d\) array"):
        centered_clipping(np.zeros((0, 2)))


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 25),
    d=st.integers(1, 6),
    tau=st.one_of(st.none(), st.floats(1e-2, 1e2)),
    iters=st.integers(1, 5),
    scale=st.floats(1e-3, 1e6),
)
def test_permutation_invariant_and_translation_equivariant(
    seed: int, n: int, d: int, tau: float | None, iters: int, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    base = centered_clipping(x, tau=tau, iters=iters)
    got = centered_clipping(x[rng.permutation(n)], tau=tau, iters=iters)
    np.testing.assert_allclose(got, base, rtol=0, atol=1e-13)
    shift = scale * rng.standard_normal(d)
    assert_translated(centered_clipping(x + shift, tau=tau, iters=iters), base, shift)


@pytest.mark.parametrize("distance", [1e6, 1e150, 1e300])
def test_robust_to_far_outliers(distance: float) -> None:
    x, centre, radius = contaminated(n=20, f=6, d=5, distance=distance)
    for iters in (1, 3, 10):
        assert np.linalg.norm(centered_clipping(x, iters=iters) - centre) <= 3 * radius
    assert np.linalg.norm(centered_clipping(x, tau=0.5, iters=50) - centre) <= 3 * radius
    assert np.abs(mean(x) - centre).max() > 1e3 * radius
