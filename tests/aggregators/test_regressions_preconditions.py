"""Regressions: PreconditionError, Krum on non-finite rows, Bulyan's tied trim, flat medians."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim import aggregators
from bgdsim.aggregators import PreconditionError
from bgdsim.aggregators.bulyan import bulyan, closest_to_median_mean
from bgdsim.aggregators.geometric_median import geometric_median, geometric_median_info
from bgdsim.aggregators.gmom import gmom
from bgdsim.aggregators.krum import krum, multi_krum
from bgdsim.aggregators.trimmed_mean import trimmed_mean

FAST = settings(max_examples=40, deadline=None)


# ---------------------------------------------------------------- PreconditionError


def test_precondition_error_is_exported_and_a_value_error() -> None:
    assert aggregators.PreconditionError is PreconditionError
    assert "PreconditionError" in aggregators.__all__
    assert issubclass(PreconditionError, ValueError)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: krum(np.zeros((4, 3)), f=1), r"krum needs n >= 2f \+ 3"),
        (lambda: multi_krum(np.zeros((4, 3)), f=1), r"multi_krum needs n >= 2f \+ 3"),
        (lambda: multi_krum(np.zeros((5, 3)), f=1, m_select=6), "m_select <= n"),
        (lambda: bulyan(np.zeros((10, 3)), f=2), r"bulyan needs n >= 4f \+ 3"),
        (lambda: trimmed_mean(np.zeros((4, 3)), f=2), "trimmed_mean needs n > 2f"),
        (lambda: gmom(np.full((4, 2), 1.5e308), batches=2), "batch means"),
    ],
)
def test_unmet_preconditions_raise_precondition_error(call: object, match: str) -> None:
    with pytest.raises(PreconditionError, match=match), np.errstate(over="ignore"):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    "call",
    [
        lambda: krum(np.zeros((5, 3)), f=-1),
        lambda: krum(np.zeros(3), f=0),
        lambda: trimmed_mean(np.zeros((5, 3)), f=1, beta=0.7),
        lambda: gmom(np.zeros((4, 2)), batches=0),
        lambda: geometric_median(np.zeros((3, 2)), tol=-1.0),
    ],
)
def test_parameter_errors_stay_plain_value_errors(call: object) -> None:
    with pytest.raises(ValueError, match=r"needs|must") as info:
        call()  # type: ignore[operator]
    assert not isinstance(info.value, PreconditionError)


# ------------------------------------------------------------- krum: non-finite rows


INF_FIRST = np.array([[np.inf], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0]])


def test_krum_never_returns_an_infinite_row() -> None:
    # before: the inf row's score was NaN and argmin took the first NaN, i.e. inf
    # finite rows 1..6, f = 1, 4 neighbours: scores 30, 15, 10, 10, 15, 30 -> row 3
    np.testing.assert_array_equal(krum(INF_FIRST, f=1), [3.0])
    np.testing.assert_array_equal(multi_krum(INF_FIRST, f=1, m_select=1), [3.0])
    np.testing.assert_array_equal(multi_krum(INF_FIRST, f=1, m_select=2), [3.5])


def test_krum_with_nan_and_inf_rows_picks_a_finite_one() -> None:
    x = np.array([[np.nan, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, -np.inf], [4.0, 0.0]])
    x = np.vstack([x, [[5.0, 0.0], [6.0, 0.0]]])
    # f = 2, 3 neighbours among the 5 finite rows (1, 2, 4, 5, 6 on a line)
    out = krum(x, f=2)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, [4.0, 0.0])  # scores 26, 14, 9, 11, 21 on 1, 2, 4, 5, 6


def test_krum_raises_when_every_score_is_infinite() -> None:
    x = np.array([[np.inf], [np.inf], [np.inf], [1.0], [2.0]])  # f = 1: needs 3 finite
    with pytest.raises(PreconditionError, match="krum needs n - f - 1 = 3 finite reports, got 2"):
        krum(x, f=1)
    with pytest.raises(PreconditionError, match="multi_krum needs m_select = 1"):
        multi_krum(x, f=1, m_select=1)


def test_multi_krum_does_not_average_an_infinite_row() -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0], [np.inf]])
    with pytest.raises(PreconditionError, match="multi_krum needs m_select = n = 5 finite"):
        multi_krum(x, f=0, m_select=5)
    with pytest.raises(PreconditionError, match="multi_krum needs m_select = 5 reports of"):
        multi_krum(np.vstack([x, [[np.nan]]]), f=0, m_select=5)
    np.testing.assert_array_equal(multi_krum(x, f=1), [1.5])  # m = 4 finite rows


def test_bulyan_never_selects_an_infinite_row() -> None:
    x = np.vstack([[[np.inf]], np.arange(1.0, 11.0)[:, None]])  # n = 11, f = 2
    out = bulyan(x, f=2)
    # finite rows 1..10 with f' = 1 (same neighbour counts): θ = 7 chosen around the centre
    # (2..8 or 3..9 by the lowest-index rule), then the 3 values nearest their median
    assert np.isfinite(out).all() and 4.0 <= out[0] <= 7.0
    # three non-finite rows of 11 (f = 2): F = 8 = n - f - 1, the least that works (f' = -1)
    y = np.vstack([[[np.inf], [np.nan], [-np.inf]], np.arange(1.0, 9.0)[:, None]])
    out = bulyan(y, f=2)
    assert np.isfinite(out).all() and 3.0 <= out[0] <= 6.0
    z = np.vstack([[[np.inf], [np.nan], [-np.inf], [np.inf]], np.arange(1.0, 8.0)[:, None]])
    with pytest.raises(PreconditionError, match="bulyan needs 8 finite reports"):
        bulyan(z, f=2)
    with pytest.raises(PreconditionError, match="bulyan needs n = 4"):
        bulyan(np.array([[0.0], [1.0], [2.0], [np.inf]]), f=0)


# ---------------------------------------------------------------- bulyan: tied trim

TIED = np.array([[0.0], [0.0], [1.0], [1.0], [1.5], [3.0], [3.0], [3.0]])


def test_closest_to_median_mean_with_ties_by_hand() -> None:
    # median 1.25; distances 1.25, 1.25, .25, .25, .25, 1.75 x 3: the six nearest are
    # 0, 0, 1, 1, 1.5 and one 3 (before: 1.583, a window dropping a 0 for a second 3)
    np.testing.assert_allclose(closest_to_median_mean(TIED, 6), [6.5 / 6], rtol=1e-15)
    np.testing.assert_allclose(closest_to_median_mean(TIED, 5), [3.5 / 5], rtol=1e-15)
    # copies at median ± r are taken alternately, the lower first: median 2, 1 and 3 tie
    s = np.array([[1.0], [1.0], [1.0], [2.0], [3.0], [3.0], [3.0]])
    np.testing.assert_array_equal(closest_to_median_mean(s, 2), [1.5])
    np.testing.assert_array_equal(closest_to_median_mean(s, 3), [2.0])
    np.testing.assert_allclose(closest_to_median_mean(s, 4), [7.0 / 4], rtol=1e-15)
    np.testing.assert_array_equal(closest_to_median_mean(s, 5), [2.0])
    # column-wise: each column on its own
    two = np.hstack([TIED, -TIED])
    np.testing.assert_allclose(closest_to_median_mean(two, 6), [6.5 / 6, -6.5 / 6])


def test_bulyan_with_colluding_copies_by_hand() -> None:
    x = np.array([0.0, 0.0, 1.0, 1.0, 1.5, 3.0, 3.0, 3.0, 100.0, 100.0])[:, None]
    # f = 1: θ = 8 (the two 100s are never selected), β = 6 -> as above
    np.testing.assert_allclose(bulyan(x, f=1), [6.5 / 6], rtol=1e-15)


def brute_tied_mean(col: np.ndarray, beta: int) -> float:
    """β nearest the median: all strictly nearer than the β-th distance r, then the values at
    median − r and median + r alternately, the lower first."""
    med = float(np.median(col))
    dist = np.abs(col - med)
    r = float(np.sort(dist)[beta - 1])
    inner = col[dist < r]
    need = beta - inner.size
    low = col[(dist == r) & (col <= med)]
    high = col[(dist == r) & (col > med)]
    take_low = min(low.size, max(-(-need // 2), need - high.size))
    chosen = np.concatenate([inner, low[:take_low], high[: need - take_low]])
    return float(chosen.mean())


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    theta=st.integers(1, 14),
    d=st.integers(1, 4),
    levels=st.integers(1, 5),
    data=st.data(),
)
def test_closest_to_median_mean_with_ties_property(
    seed: int, theta: int, d: int, levels: int, data: st.DataObject
) -> None:
    rng = np.random.default_rng(seed)
    s = rng.integers(0, levels, (theta, d)).astype(float) / 2  # many exact ties, exact medians
    beta = data.draw(st.integers(1, theta), label="beta")
    got = closest_to_median_mean(s, beta)
    # permutation invariant
    np.testing.assert_array_equal(closest_to_median_mean(s[rng.permutation(theta)], beta), got)
    for c in range(d):
        col = s[:, c]
        med = float(np.median(col))
        r = float(np.sort(np.abs(col - med))[beta - 1])
        # within the range of the β closest values: [median − r, median + r]
        assert med - r <= got[c] <= med + r
        assert got[c] == pytest.approx(brute_tied_mean(col, beta), rel=1e-14, abs=1e-14)


# ------------------------------------------------------ geometric median: flat valleys


def assert_geometric_median(x: np.ndarray, z: np.ndarray, w: np.ndarray | None = None) -> None:
    """Relative objective gap ≤ 1e-6 against a long reference run, and z within 1e-2 × the
    median point distance of it."""
    weights = np.ones(x.shape[0]) if w is None else w
    ref = _reference(x, weights)

    def f(y: np.ndarray) -> float:
        return float(weights @ np.linalg.norm(x - y, axis=1))

    assert (f(z) - f(ref)) / f(ref) <= 1e-6
    scale = float(np.median(np.linalg.norm(x - ref, axis=1)))
    assert np.linalg.norm(z - ref) <= 1e-2 * scale


def _reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A reference minimiser by Nelder-Mead (small d only), independent of bgdsim's solver."""
    from scipy.optimize import minimize

    def f(y: np.ndarray) -> float:
        return float(w @ np.sqrt(np.sum((x - y) ** 2, axis=1) + 1e-30))

    res = minimize(
        f,
        x.mean(axis=0),
        method="Nelder-Mead",
        options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 200_000, "maxfev": 200_000},
    )
    return np.asarray(res.x)


def test_nearly_collinear_points() -> None:
    x = np.array([[0.0, 0.0], [1.0, 0.01], [2.0, -0.01], [3.0, 0.0]])
    info = geometric_median_info(x)
    # before: (1.123, 0.0065), converged=False after 1000 iterations
    assert info.converged
    np.testing.assert_allclose(info.median, [1.5, 0.0], atol=1e-6)
    assert_geometric_median(x, info.median)


@pytest.mark.parametrize("eps", [1e-2, 1e-3, 1e-4])
@pytest.mark.parametrize("d", [2, 5, 300])
def test_nearly_collinear_in_higher_dimensions(eps: float, d: int) -> None:
    rng = np.random.default_rng(d)
    direction = rng.standard_normal(d)
    direction /= np.linalg.norm(direction)
    t = np.array([0.0, 1.0, 2.0, 3.0])
    x = 7.0 + t[:, None] * direction + eps * rng.standard_normal((t.size, d))
    info = geometric_median_info(x)
    assert info.converged
    z = info.median
    f = lambda y: float(np.linalg.norm(x - y, axis=1).sum())  # noqa: E731
    # no descent direction left (the first-order condition; at a data point x_k:
    # ‖Σ_{i≠k} u_i/‖u_i‖‖ ≤ 1, Vardi-Zhang's)
    r = np.linalg.norm(z - x, axis=1)
    at = r == 0.0
    g = ((z - x)[~at] / r[~at, None]).sum(axis=0)
    assert np.linalg.norm(g) <= int(at.sum()) + 1e-6 * t.size
    assert f(z) <= f(x.mean(axis=0))


def test_bucketed_duplicated_rows_in_a_flat_valley() -> None:
    # batch means of colluding workers: each distinct row repeated, nearly collinear
    base = np.array([[0.0, 0.0], [1.0, 0.01], [2.0, -0.01], [3.0, 0.0]])
    x = np.repeat(base, [3, 2, 2, 3], axis=0)
    info = geometric_median_info(x)
    assert info.converged
    assert_geometric_median(x, info.median)
    # the same as weights
    w = np.array([3.0, 2.0, 2.0, 3.0])
    info_w = geometric_median_info(base, weights=w)
    assert info_w.converged
    np.testing.assert_allclose(info_w.median, info.median, atol=1e-6)
    assert_geometric_median(base, info_w.median, w)
