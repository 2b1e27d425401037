"""Nearest-neighbour mixing (NNM)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bgdsim.aggregators import PreconditionError, pre
from bgdsim.aggregators.pre import mixing
from bgdsim.aggregators.pre.mixing import nnm

FAST = settings(max_examples=40, deadline=None)


def test_by_hand() -> None:
    # f = 1: each report and its nearest other one
    x = np.array([[0.0], [1.0], [10.0]])
    np.testing.assert_array_equal(nnm(x, f=1), [[0.5], [0.5], [5.5]])
    # f = 2 of 4: pairs; 2 is nearer 3 (1) than 0 (2); 0's tie (1 at 1, 2 at 2): 1
    y = np.array([[0.0], [1.0], [2.0], [3.0]])
    np.testing.assert_array_equal(nnm(y, f=2), [[0.5], [0.5], [1.5], [2.5]])
    # Euclidean in 2-d: (0,0)'s nearest is (3,4)? no: (1,1) at √2 < 5
    z = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    np.testing.assert_array_equal(nnm(z, f=1), [[0.5, 0.5], [2.0, 2.5], [0.5, 0.5]])
    # f = 0: every report becomes the mean
    np.testing.assert_array_equal(nnm(x, f=0), np.full((3, 1), 11.0 / 3))


def test_ties_go_to_the_lower_index() -> None:
    # report 1 (at 0) is 1 away from both 0 (at -1) and 2 (at 1): it takes report 0
    x = np.array([[-1.0], [0.0], [1.0]])
    np.testing.assert_array_equal(nnm(x, f=1)[1], [-0.5])
    # equal reports: itself first, so the output is the report
    np.testing.assert_array_equal(nnm(np.ones((4, 2)), f=3), np.ones((4, 2)))


def test_preconditions_and_registration() -> None:
    assert pre.get("nnm") is nnm
    with pytest.raises(PreconditionError, match="n > f"):
        nnm(np.zeros((2, 3)), f=2)
    with pytest.raises(ValueError, match="f >= 0"):
        nnm(np.zeros((2, 3)), f=-1)
    with pytest.raises(ValueError, match="non-empty"):
        nnm(np.zeros((0, 3)), f=0)


def test_huge_reports_do_not_break_the_honest_neighbourhoods() -> None:
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1e200, -1e200]])
    got = nnm(x, f=1)
    np.testing.assert_array_equal(got[:3], [[1 / 3, 1 / 3]] * 3)
    assert np.isfinite(got[3]).all()  # its 3 nearest include itself: a huge but finite mean


def test_blocks_give_the_unblocked_result(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(3).standard_normal((23, 4))
    whole = nnm(x, f=5)
    monkeypatch.setattr(mixing, "_BLOCK_ENTRIES", 50)  # 2 rows per block
    # the same neighbourhoods; only BLAS's summation order may differ with the block shape
    np.testing.assert_allclose(nnm(x, f=5), whole, rtol=1e-14, atol=0)


def _direct(x: np.ndarray, f: int) -> np.ndarray:
    """NNM from the definition: sort every row's distances (ties cannot occur here)."""
    dist = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)
    nearest = np.argsort(dist, axis=1)[:, : x.shape[0] - f]
    return x[nearest].mean(axis=1)


@FAST
@given(st.integers(2, 12), st.integers(1, 5), st.data())
def test_matches_the_definition_and_is_permutation_equivariant(
    n: int, d: int, data: st.DataObject
) -> None:
    f = data.draw(st.integers(0, n - 1))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = 5.0 + rng.standard_normal((n, d))  # continuous: no ties among distances
    got = nnm(x, f=f)
    np.testing.assert_allclose(got, _direct(x, f), rtol=1e-12, atol=1e-12)
    perm = rng.permutation(n)
    np.testing.assert_allclose(nnm(x[perm], f=f), got[perm], rtol=1e-12, atol=1e-12)
