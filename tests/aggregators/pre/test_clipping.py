"""Static, quantile-adaptive and ARC clipping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim._params import check_params
from bgdsim.aggregators import pre
from bgdsim.aggregators.pre.clipping import adaptive_clipping, arc, clipping

FAST = settings(max_examples=40, deadline=None)


def test_static_by_hand() -> None:
    x = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    np.testing.assert_allclose(clipping(x, tau=1.0), [[0.6, 0.8], [0.3, 0.4], [0.0, 0.0]])
    with pytest.raises(ValueError, match=r"^p\.tau: Field required$"):
        check_params(clipping, {}, where="p")
    with pytest.raises(ValueError, match="tau > 0"):
        clipping(x, tau=0.0)


def test_adaptive_by_hand() -> None:
    # norms 5, 1, 2, 10: the lower median (2nd smallest) is 2
    x = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0], [0.0, -10.0]])
    want = [[1.2, 1.6], [1.0, 0.0], [0.0, 2.0], [0.0, -2.0]]
    np.testing.assert_allclose(adaptive_clipping(x), want)
    # p = 0.75: the 3rd smallest, 5
    np.testing.assert_allclose(adaptive_clipping(x, quantile=0.75)[3], [0.0, -5.0])
    np.testing.assert_array_equal(adaptive_clipping(x, quantile=1.0), x)
    with pytest.raises(ValueError, match=r"^p\.quantile: "):
        check_params(adaptive_clipping, {"quantile": 0.0}, where="p")


def test_arc_by_hand() -> None:
    # n = 5, f = 1: k = ⌊2·(1/5)·4⌋ = 1; the largest (norm 10) clipped to the next, 4
    x = np.array([[1.0], [2.0], [-3.0], [4.0], [-10.0]])
    np.testing.assert_array_equal(arc(x, f=1), [[1.0], [2.0], [-3.0], [4.0], [-4.0]])
    # f = 2: k = ⌊2·(2/5)·3⌋ = 2: the two largest to the third, 3
    np.testing.assert_array_equal(arc(x, f=2), [[1.0], [2.0], [-3.0], [3.0], [-3.0]])
    np.testing.assert_array_equal(arc(x, f=0), x)
    np.testing.assert_array_equal(arc(x, f=9), x)  # k = 0 once f >= n


def test_registered() -> None:
    for name, fn in [("clipping", clipping), ("adaptive_clipping", adaptive_clipping),
                     ("arc", arc)]:  # fmt: skip
        assert pre.get(name) is fn


@FAST
@given(st.integers(1, 12), st.integers(1, 4), st.integers(0, 2**32 - 1), st.data())
def test_clipping_never_increases_a_norm(n: int, d: int, seed: int, data: st.DataObject) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * 10.0 ** rng.integers(-3, 4, size=(n, 1))
    tau = data.draw(st.floats(1e-3, 1e3))
    f = data.draw(st.integers(0, n))
    before = np.linalg.norm(x, axis=1)
    for y, bound in [(clipping(x, tau=tau), tau), (adaptive_clipping(x), before.max()),
                     (arc(x, f=f), before.max())]:  # fmt: skip
        after = np.linalg.norm(y, axis=1)
        assert (after <= before * (1 + 1e-15)).all()
        assert (after <= bound * (1 + 1e-15)).all()
        # a clipped report keeps its direction
        np.testing.assert_allclose(y * before[:, None], x * after[:, None], rtol=1e-12, atol=0)


def test_the_quantile_rank_is_the_fraction_as_written() -> None:
    # 0.07 * 100 = 7.000000000000001: ceiled, it clipped at the 8th smallest norm
    x = np.arange(1.0, 101.0)[:, None]
    assert np.abs(adaptive_clipping(x, quantile=0.07)).max() == pytest.approx(7.0)
