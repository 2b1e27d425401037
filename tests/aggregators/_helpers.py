"""Helpers shared by the aggregator tests: contaminated reports and a translation check."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def contaminated(
    n: int,
    d: int,
    distance: float,
    *,
    f: int = 0,
    rows: Sequence[int] | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """n reports: honest N(1, I) and outliers ``distance`` away; inlier mean and radius.

    The outliers are the first f reports, or the reports at ``rows`` if given; they all sit
    at one point, ``distance`` from the inliers' mean in a random direction.
    """
    rng = np.random.default_rng(seed)
    x = 1.0 + rng.standard_normal((n, d))
    bad = list(range(f)) if rows is None else list(rows)
    good = np.setdiff1d(np.arange(n), bad)
    centre = x[good].mean(axis=0)
    radius = float(np.linalg.norm(x[good] - centre, axis=1).max())
    direction = rng.standard_normal(d)
    x[bad] = centre + distance * direction / np.linalg.norm(direction)
    return x, centre, radius


def assert_translated(got: np.ndarray, base: np.ndarray, shift: np.ndarray) -> None:
    """``got`` is ``base + shift`` up to 1e-12 × (1 + the largest |shift| entry), absolutely."""
    np.testing.assert_allclose(got, base + shift, rtol=0, atol=1e-12 * (1 + np.abs(shift).max()))
