"""Tests of the geometric-median solver: hostile inputs, validation, and properties.

Accuracy is judged against an independent reference: a Weiszfeld / Vardi-Zhang iteration in
extended precision (``np.longdouble``) on explicitly differenced, rescaled data, polished by
damped Newton steps, or the analytic median where one is known.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim.aggregators.geometric_median import (
    GeometricMedianResult,
    geometric_median,
    geometric_median_info,
)

LD = np.longdouble
SHAPES = [(20, 50), (60, 3), (400, 4)]  # Gram engine (n <= 256, d >= n); vector engine twice
FAST = settings(max_examples=50, deadline=None)


# --------------------------------------------------------------------------- reference


def objective(x: np.ndarray, z: np.ndarray, w: np.ndarray | None = None) -> np.longdouble:
    """Σ w_i ‖x_i − z‖ in extended precision, from explicit differences."""
    diff = np.asarray(x, dtype=LD) - np.asarray(z, dtype=LD)
    dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    total: np.longdouble = np.sum(dist if w is None else np.asarray(w, dtype=LD) * dist)
    return total


def reference_median(x: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """A careful, slow geometric median in extended precision (returned in extended precision)."""
    xl = np.asarray(x, dtype=LD)
    n, d = xl.shape
    wl = np.full(n, LD(1) / n) if w is None else np.asarray(w, dtype=LD) / np.sum(w)
    centre = np.median(xl, axis=0)
    y = xl - centre
    norms = np.sqrt(np.einsum("ij,ij->i", y, y))
    scale = np.median(norms) if np.median(norms) > 0 else np.max(norms)
    if scale == 0:
        return centre
    y = y / scale

    def f(z: np.ndarray) -> np.longdouble:
        diff = y - z
        total: np.longdouble = np.sum(wl * np.sqrt(np.einsum("ij,ij->i", diff, diff)))
        return total

    z = np.zeros(d, dtype=LD)
    zero = LD(1e-17)
    for _ in range(3000):
        diff = y - z
        dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        near = dist <= zero
        inv = np.where(near, LD(0), wl / np.where(near, LD(1), dist))
        t = inv @ y / np.sum(inv)
        if near.any():  # Vardi-Zhang
            eta = np.sum(wl[near])
            r = np.sqrt(np.sum((inv @ (y - z)) ** 2))
            if r <= eta:
                break
            t = (1 - eta / r) * t + (eta / r) * z
        step = np.sqrt(np.sum((t - z) ** 2))
        z = t
        if step <= LD(1e-15):
            break
    for _ in range(8):  # damped Newton polish
        diff = z - y
        dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        if np.min(dist) <= LD(1e-12):
            break
        u = diff / dist[:, None]
        grad = (wl[:, None] * u).sum(axis=0)
        hess = np.zeros((d, d), dtype=LD)
        for i in range(n):
            hess += wl[i] / dist[i] * (np.eye(d, dtype=LD) - np.outer(u[i], u[i]))
        try:
            delta = np.linalg.solve(hess.astype(np.float64), grad.astype(np.float64))
        except np.linalg.LinAlgError:
            break
        f0, lam = f(z), LD(1)
        while lam > 1e-6 and f(z - lam * delta.astype(LD)) > f0:
            lam /= 2
        if lam <= 1e-6:
            break
        z = z - lam * delta.astype(LD)
    # A data point beats the iterate if Vardi-Zhang certifies it.
    k = int(np.argmin(np.einsum("ij,ij->i", y - z, y - z)))
    if f(y[k]) <= f(z):
        z = y[k]
    out: np.ndarray = z * scale + centre
    return out


def median_distance(x: np.ndarray, z: np.ndarray) -> float:
    diff = np.asarray(x, dtype=LD) - np.asarray(z, dtype=LD)
    return float(np.median(np.sqrt(np.einsum("ij,ij->i", diff, diff))))


def assert_accurate(
    x: np.ndarray,
    got: np.ndarray,
    true: np.ndarray,
    w: np.ndarray | None = None,
    *,
    gap: float = 1e-6,
    dist: float = 1e-2,
) -> None:
    """Relative objective gap <= gap and ‖got − true‖ <= dist × median ‖x_i − true‖.

    Both bounds are widened by what rounding the true median to float64 must cost (one ulp per
    coordinate); that floor only matters when the spread is a few ulps of the offset.
    """
    assert got.shape == (x.shape[1],)
    assert got.dtype == np.float64
    assert np.isfinite(got).all()
    ulp = np.spacing(np.abs(true.astype(np.float64))).astype(LD)
    f_true = objective(x, true, w)
    f_got = objective(x, got, w)
    if f_true > 0:
        floor = (objective(x, true + ulp, w) - f_true) / f_true
        assert float((f_got - f_true) / f_true) <= gap + 4 * float(floor)
    error = float(np.sqrt(np.sum((np.asarray(got, dtype=LD) - true) ** 2)))
    ulp_norm = float(np.sqrt(np.sum(ulp**2)))
    assert error <= dist * median_distance(x, true) + 2 * ulp_norm


def gaussian(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


# ------------------------------------------------------------------------------ hostile


@pytest.mark.parametrize(("n", "d"), SHAPES)
@pytest.mark.parametrize("far", [1e6, 1e12])
def test_forty_percent_outliers(n: int, d: int, far: float) -> None:
    rng = np.random.default_rng(n + d)
    x = rng.standard_normal((n, d))
    bad = rng.permutation(n)[: (2 * n) // 5]
    x[bad] = far + rng.standard_normal((bad.size, d))  # one far cluster
    got = geometric_median(x)
    assert_accurate(x, got, reference_median(x))
    assert np.linalg.norm(got) < 10.0  # Lemma 1 region, nowhere near the outliers


@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_scattered_outliers(n: int, d: int) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, d))
    bad = rng.permutation(n)[: (2 * n) // 5]
    x[bad] = 1e6 * rng.standard_normal((bad.size, d))
    assert_accurate(x, geometric_median(x), reference_median(x))


@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_majority_of_identical_points_is_exact(n: int, d: int) -> None:
    rng = np.random.default_rng(3)
    x = 1e6 * rng.standard_normal((n, d))
    p = rng.standard_normal(d) + 5.0
    x[rng.permutation(n)[: n // 2 + 1]] = p
    res = geometric_median_info(x)
    assert res.converged
    np.testing.assert_array_equal(res.median, p)


def test_weighted_majority_is_exact() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 3))
    w = np.array([1.0, 1.0, 1.0, 3.5, 0.1, 0.2, 0.1])  # 3.5 > 3.4
    np.testing.assert_array_equal(geometric_median(x, weights=w), x[3])


@pytest.mark.parametrize("n", [2, 3, 4, 7, 10, 300])
def test_collinear(n: int) -> None:
    rng = np.random.default_rng(n)
    direction = rng.standard_normal(5)
    t = np.sort(rng.standard_normal(n))
    x = 3.0 + np.outer(t, direction)
    got = geometric_median(x)
    # The minimisers form the segment between the middle points (one point for odd n).
    lo, hi = x[(n - 1) // 2], x[n // 2]
    f_true = objective(x, lo)
    assert float((objective(x, got) - f_true) / f_true) <= 1e-6
    s = float(np.clip((got - lo) @ (hi - lo) / max((hi - lo) @ (hi - lo), 1e-300), 0.0, 1.0))
    error = float(np.linalg.norm(got - (lo + s * (hi - lo))))
    assert error <= 1e-2 * median_distance(x, lo)


@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_symmetric_about_a_data_point(n: int, d: int) -> None:
    rng = np.random.default_rng(11)
    centre = rng.standard_normal(d) * 10.0
    half = rng.standard_normal(((n - 1) // 2, d))
    x = np.vstack([centre, centre + half, centre - half])  # mean == median == centre
    res = geometric_median_info(x)
    assert res.converged
    np.testing.assert_allclose(res.median, centre, rtol=0, atol=1e-12 * np.abs(half).max())


def star(n: int, d: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n − 1 points around a centre c whose unit directions sum to rho·e_1, plus c itself.

    With unit weights, Vardi-Zhang's r at c is rho and η = 1: c is the median iff rho <= 1,
    and for rho slightly above 1 the median is just off c (where Weiszfeld crawls).
    """
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((n - 1, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    target = np.zeros(d)
    target[0] = rho
    for _ in range(300):
        u += (target - u.sum(axis=0)) / (n - 1)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
    centre = np.full(d, 7.0)
    x = np.vstack([centre + u * rng.uniform(0.5, 2.0, size=(n - 1, 1)), centre])
    return x[rng.permutation(n)], centre


@pytest.mark.parametrize(("n", "d"), [(40, 60), (300, 3), (301, 2)])
@pytest.mark.parametrize("rho", [0.5, 0.999, 0.99999])
def test_median_at_a_data_point_is_certified(n: int, d: int, rho: float) -> None:
    x, centre = star(n, d, rho, seed=n)
    res = geometric_median_info(x)
    assert res.converged
    assert res.iterations < 100
    np.testing.assert_array_equal(res.median, centre)


@pytest.mark.parametrize(("n", "d"), [(40, 60), (300, 3), (301, 2)])
@pytest.mark.parametrize("rho", [1.00001, 1.001, 1.05])
def test_median_just_off_a_data_point(n: int, d: int, rho: float) -> None:
    """Plain Weiszfeld crawls here (rate 1/rho); the solver must still converge, accurately."""
    x, centre = star(n, d, rho, seed=n)
    res = geometric_median_info(x)
    assert res.converged
    assert res.iterations < 100
    assert not np.array_equal(res.median, centre)
    assert_accurate(x, res.median, reference_median(x), gap=1e-12, dist=1e-8)


def test_majority_reached_from_a_far_start() -> None:
    """n = 400 (vector engine): the start candidates are rows 0, 25, 50, ...; none is in the
    majority, so the iteration has to find the majority point and certify it."""
    rng = np.random.default_rng(13)
    n, d = 400, 5
    x = 3.0 * rng.standard_normal((n, d))
    p = rng.standard_normal(d)
    rows = np.flatnonzero(np.arange(n) % 25 != 0)[: n // 2 + 1]
    x[rows] = p
    res = geometric_median_info(x)
    assert res.converged
    np.testing.assert_array_equal(res.median, p)


@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_mean_is_a_data_point(n: int, d: int) -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((n, d)) ** 3  # skewed: the median is not the mean
    x[0] = x[1:].mean(axis=0)  # now x[0] is the mean of all n points
    np.testing.assert_allclose(x.mean(axis=0), x[0], atol=1e-12)
    assert_accurate(x, geometric_median(x), reference_median(x))


def test_one_point_and_two_points() -> None:
    p = np.array([[1.5, -2.0, 1e300]])
    res = geometric_median_info(p)
    np.testing.assert_array_equal(res.median, p[0])
    assert res.objective == 0.0
    assert res.converged
    two = np.array([[0.0, 0.0], [3.0, 4.0]])
    got = geometric_median(two)
    assert objective(two, got) <= 5.0 * (1 + 1e-12)  # any point of the segment


@pytest.mark.parametrize("n", [1, 5, 300])
def test_all_points_identical(n: int) -> None:
    x = np.tile(np.array([1e-3, 7.0, -1e200]), (n, 1))
    res = geometric_median_info(x)
    np.testing.assert_array_equal(res.median, x[0])
    assert res.objective == 0.0


def test_zero_dimensions_zeros_and_subnormals() -> None:
    assert geometric_median(np.zeros((4, 0))).shape == (0,)
    np.testing.assert_array_equal(geometric_median(np.zeros((500, 3))), np.zeros(3))
    x = np.random.default_rng(0).integers(-5, 6, size=(300, 3)) * 5e-324  # squares underflow
    got = geometric_median(x)
    assert np.all(np.abs(got) <= 5 * 5e-324)
    assert objective(x, got) <= objective(x, np.median(x, axis=0)) * (1 + 1e-12)


@pytest.mark.parametrize(("n", "d"), SHAPES)
@pytest.mark.parametrize("offset", [1.0, 1e3])
@pytest.mark.parametrize("spread", [1e-9, 1e-12])
def test_tiny_spread_around_offset(n: int, d: int, offset: float, spread: float) -> None:
    x = offset + spread * gaussian(n, d, 5)
    assert_accurate(x, geometric_median(x), reference_median(x))


@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_tiny_spread_with_far_outliers(n: int, d: int) -> None:
    rng = np.random.default_rng(6)
    x = 1e3 + 1e-9 * rng.standard_normal((n, d))
    bad = rng.permutation(n)[: n // 5]
    x[bad] = 1e6 * rng.standard_normal((bad.size, d))
    assert_accurate(x, geometric_median(x), reference_median(x))


@pytest.mark.parametrize(("n", "d"), SHAPES)
@pytest.mark.parametrize("size", [1e150, 1e154, 1e300, 1e-160, 1e-300])
def test_extreme_magnitudes(n: int, d: int, size: float) -> None:
    rng = np.random.default_rng(8)
    x = size * (rng.standard_normal((n, d)) + rng.standard_normal(d))
    res = geometric_median_info(x)
    assert res.converged
    assert math.isfinite(res.objective)
    assert_accurate(x, res.median, reference_median(x))


@pytest.mark.parametrize(("n", "d"), SHAPES)
def test_weighted_matches_reference(n: int, d: int) -> None:
    rng = np.random.default_rng(9)
    x = rng.standard_normal((n, d))
    w = rng.exponential(size=n)
    w[::5] = 0.0
    got = geometric_median(x, weights=w)
    assert_accurate(x, got, reference_median(x, w), w)


def test_info_reports() -> None:
    x = gaussian(40, 3, 1)
    res = geometric_median_info(x)
    assert isinstance(res, GeometricMedianResult)
    assert res.converged
    assert res.iterations >= 1
    assert res.objective == pytest.approx(float(objective(x, res.median)), rel=1e-12)
    w = np.arange(1.0, 41.0)
    res_w = geometric_median_info(x, weights=w)
    assert res_w.objective == pytest.approx(float(objective(x, res_w.median, w)), rel=1e-12)
    capped = geometric_median_info(x, max_iter=1)
    assert capped.iterations == 1
    assert not capped.converged
    np.testing.assert_array_equal(geometric_median(x), res.median)


def test_dtypes_weight_scale_and_max_iter_zero() -> None:
    x = gaussian(30, 4, 4)
    ref = geometric_median(x.astype(np.float32))
    assert ref.dtype == np.float64
    w = np.random.default_rng(4).exponential(size=30)
    base = geometric_median(x, weights=w)
    for c in (1e-300, 1e300):
        np.testing.assert_allclose(geometric_median(x, weights=c * w), base, rtol=0, atol=1e-9)
    start = geometric_median_info(x, max_iter=0)
    assert start.iterations == 0
    assert not start.converged
    assert any(np.array_equal(start.median, row) for row in x)  # the start is a data point


def test_loose_tolerance_still_good() -> None:
    x = gaussian(200, 10, 2)
    got = geometric_median(x, tol=1e-3)
    assert_accurate(x, got, reference_median(x), gap=1e-4, dist=1e-1)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("points", "match"),
    [
        (np.zeros(3), r"2-D array of shape \(n, d\), got 1-D"),
        (np.zeros((2, 2, 2)), "got 3-D"),
        (np.zeros((0, 3)), r"at least one point \(n >= 1\)"),
        (np.array([[1 + 2j, 0]]), "real numeric array"),
        (np.array([["a", "b"]]), "real numeric array"),
    ],
)
def test_bad_points(points: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        geometric_median(points)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(("n", "d"), [(1, 3), *SHAPES])
def test_non_finite_names_first_bad_row(bad: float, n: int, d: int) -> None:
    x = gaussian(n, d, 0) * 1e200  # squares overflow too: must not be mistaken for inf
    row = n // 2
    x[row, d - 1] = bad
    if row + 1 < n:
        x[row + 1, 0] = np.nan
    with pytest.raises(ValueError, match=rf"row {row} contains NaN or inf"):
        geometric_median(x)


def test_non_finite_in_zero_weight_row() -> None:
    x = gaussian(5, 2, 0)
    x[1, 0] = np.nan
    with pytest.raises(ValueError, match="row 1 contains NaN"):
        geometric_median(x, weights=[1.0, 0.0, 1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1.0, 2.0], r"shape \(3,\) to match points, got \(2,\)"),
        ([[1.0, 1.0, 1.0]], r"shape \(3,\) to match points, got \(1, 3\)"),
        ([1.0, -0.5, 1.0], r"non-negative, got weights\[1\] = -0.5"),
        ([1.0, np.nan, 1.0], r"finite, got weights\[1\] = nan"),
        ([1.0, 1.0, np.inf], r"finite, got weights\[2\] = inf"),
        ([0.0, 0.0, 0.0], "must not all be zero"),
    ],
)
def test_bad_weights(weights: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        geometric_median(gaussian(3, 2, 0), weights=weights)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tol": -1.0}, "tol must be finite and >= 0"),
        ({"tol": math.nan}, "tol must be finite and >= 0"),
        ({"max_iter": -1}, "max_iter must be >= 0"),
    ],
)
def test_bad_parameters(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        geometric_median(gaussian(3, 2, 0), **kwargs)  # type: ignore[arg-type]


def test_input_is_not_modified_and_lists_work() -> None:
    x = gaussian(30, 4, 3)
    copy = x.copy()
    geometric_median(x)
    np.testing.assert_array_equal(x, copy)
    np.testing.assert_array_equal(geometric_median(x.tolist()), geometric_median(x))
    np.testing.assert_allclose(geometric_median(np.asfortranarray(x)), geometric_median(x))
    ints = np.array([[0, 0], [2, 0], [0, 2], [2, 2], [1, 1]])
    np.testing.assert_array_equal(geometric_median(ints), [1.0, 1.0])


# --------------------------------------------------------------------------- properties


clouds = st.tuples(
    st.integers(3, 40),  # n
    st.integers(2, 60),  # d: covers both engines
    st.integers(0, 2**32 - 1),  # seed
)


def close(a: np.ndarray, b: np.ndarray, x: np.ndarray, rel: float = 1e-6) -> bool:
    return bool(np.linalg.norm(a - b) <= rel * median_distance(x, b))


@FAST
@given(clouds)
def test_permutation_invariance(cloud: tuple[int, int, int]) -> None:
    n, d, seed = cloud
    x = gaussian(n, d, seed)
    perm = np.random.default_rng(seed + 1).permutation(n)
    assert close(geometric_median(x[perm]), geometric_median(x), x)


@FAST
@given(clouds, st.floats(-1e6, 1e6))
def test_translation_equivariance(cloud: tuple[int, int, int], shift: float) -> None:
    n, d, seed = cloud
    x = gaussian(n, d, seed)
    v = shift * np.random.default_rng(seed + 2).standard_normal(d)
    assert close(geometric_median(x + v) - v, geometric_median(x), x, rel=1e-5)


@FAST
@given(clouds)
def test_rotation_equivariance(cloud: tuple[int, int, int]) -> None:
    n, d, seed = cloud
    x = gaussian(n, d, seed)
    q, r = np.linalg.qr(np.random.default_rng(seed + 3).standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    assert close(geometric_median(x @ q.T), geometric_median(x) @ q.T, x)


@FAST
@given(clouds, st.floats(1e-100, 1e100))
def test_scaling_equivariance(cloud: tuple[int, int, int], c: float) -> None:
    n, d, seed = cloud
    x = gaussian(n, d, seed)
    assert close(geometric_median(c * x) / c, geometric_median(x), x)


@FAST
@given(clouds)
def test_integer_weights_equal_duplicated_points(cloud: tuple[int, int, int]) -> None:
    n, d, seed = cloud
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    counts = rng.integers(1, 4, size=n)
    weighted = geometric_median(x, weights=counts)
    duplicated = geometric_median(np.repeat(x, counts, axis=0))
    assert close(weighted, duplicated, x)


@FAST
@given(clouds, st.floats(1e-3, 1e8))
def test_strict_majority_is_exact(cloud: tuple[int, int, int], spread: float) -> None:
    n, d, seed = cloud
    rng = np.random.default_rng(seed)
    x = spread * rng.standard_normal((n, d))
    p = rng.standard_normal(d)
    x[rng.permutation(n)[: n // 2 + 1]] = p
    np.testing.assert_array_equal(geometric_median(x), p)


@FAST
@given(
    st.integers(4, 60),
    st.integers(1, 30),
    st.floats(0.01, 0.49),
    st.floats(1e-6, 1e3),
    st.floats(1.0, 1e8),
    st.integers(0, 2**32 - 1),
)
def test_lemma_1(n: int, d: int, alpha: float, r: float, far: float, seed: int) -> None:
    """≥ (1 − α)n points within r of 0 ⇒ ‖median‖ ≤ C_α r, C_α = 2(1 − α)/(1 − 2α)."""
    rng = np.random.default_rng(seed)
    bad = math.floor(alpha * n)
    inside = rng.standard_normal((n - bad, d))
    inside *= (r * rng.uniform(0, 1, size=(n - bad, 1)) ** (1 / d)) / np.linalg.norm(
        inside, axis=1, keepdims=True
    )
    outside = far * rng.standard_normal((bad, d))
    outside[: bad // 2] = far * np.ones(d)  # half of them piled up at one far point
    x = np.vstack([inside, outside])[rng.permutation(n)]
    c_alpha = 2 * (1 - alpha) / (1 - 2 * alpha)
    assert np.linalg.norm(geometric_median(x)) <= c_alpha * r * (1 + 1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(8, 60), st.integers(2, 30), st.integers(0, 2**32 - 1))
def test_agrees_with_scipy_minimize(n: int, d: int, seed: int) -> None:
    """Gaussian clouds (the median is then a.s. not a data point, where f is smooth)."""
    x = gaussian(n, d, seed)
    centre = np.median(x, axis=0)
    y = x - centre

    def f(z: np.ndarray) -> float:
        return float(np.linalg.norm(y - z, axis=1).sum())

    def grad(z: np.ndarray) -> np.ndarray:
        diff = z - y
        norms = np.linalg.norm(diff, axis=1)
        return np.asarray((diff / np.maximum(norms, 1e-300)[:, None]).sum(axis=0))

    opt = scipy.optimize.minimize(f, np.zeros(d), jac=grad, method="BFGS", tol=1e-12)
    ref = opt.x + centre
    got = geometric_median(x)
    f_ref, f_got = objective(x, ref), objective(x, got)
    assert float((f_got - f_ref) / f_ref) <= 1e-9
    assert close(got, ref, x, rel=1e-4)


def test_duplicated_points_near_the_median_converge_like_weights() -> None:
    # found by hypothesis: the median sits next to a duplicated point; treating only one
    # copy exactly made Weiszfeld crawl for 1000 iterations without converging
    rng = np.random.default_rng(361)
    x = rng.standard_normal((3, 2))
    counts = np.array([2, 2, 1])
    weighted = geometric_median_info(x, weights=counts)
    duplicated = geometric_median_info(np.repeat(x, counts, axis=0))
    assert duplicated.converged and duplicated.iterations < 100
    np.testing.assert_allclose(duplicated.median, weighted.median, rtol=1e-9)


# ------------------------------------------------ collinear points: f is piecewise linear


def test_one_dimensional_median_found_from_a_straight_stretch() -> None:
    # found by the gmom_trimmed certificate property: the iteration walked down a straight
    # stretch of f with growing steps, was taken for a stall, and the Newton polish (no
    # curvature in 1-D) claimed convergence 0.031 away from the median
    rng = np.random.default_rng(37)
    points = rng.standard_normal((37, 1)) * rng.uniform(0.1, 10, (37, 1))
    info = geometric_median_info(points, tol=1e-14)
    assert info.converged
    assert info.median[0] == np.median(points[:, 0])  # a data point, bit for bit


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    half=st.integers(1, 40),
    d=st.integers(1, 4),
)
def test_collinear_points_with_an_odd_count_have_their_middle_point_as_median(
    seed: int, half: int, d: int
) -> None:
    rng = np.random.default_rng(seed)
    t = rng.standard_normal(2 * half + 1) * rng.uniform(0.1, 10, 2 * half + 1)
    direction = rng.standard_normal(d)
    direction /= np.linalg.norm(direction)
    points = rng.standard_normal(d) + t[:, None] * direction
    got = geometric_median(points, tol=1e-12)
    expected = points[np.argsort(t)[half]]
    scale = float(np.median(np.abs(t - np.median(t))))
    assert np.linalg.norm(got - expected) <= 1e-6 * max(scale, 1e-300)


def test_the_polish_does_not_claim_a_point_with_a_gradient_on_a_line() -> None:
    from bgdsim.aggregators.geometric_median._polish import _polish

    # exactly collinear, z between two points: the Hessian is 0, the gradient is not
    y = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [5.0, 0.0], [9.0, 0.0]])
    w = np.full(5, 0.2)
    z, _, converged, _ = _polish(y, w, np.array([3.0, 0.0]), 1e-10, 1e-12)
    assert not converged
    np.testing.assert_array_equal(z, [3.0, 0.0])  # never moved to a worse point


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 40), d=st.integers(1, 3))
def test_low_dimensional_medians_meet_the_first_order_condition(seed: int, k: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((k, d)) * rng.uniform(0.1, 10, (k, 1))
    info = geometric_median_info(x, tol=1e-12)
    assert info.converged
    r = np.linalg.norm(info.median - x, axis=1)
    at = r <= 1e-12 * float(np.median(r[r > 0])) if (r > 0).any() else r == 0
    g = ((info.median - x)[~at] / r[~at, None]).sum(axis=0)
    assert np.linalg.norm(g) <= int(at.sum()) + 1e-6 * k
