"""Sharing a training set out: i.i.d., label skew, quantity skew; never an empty worker."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from bgdsim.problems.partition import _no_empty, assign, histograms, largest_remainder


def rows(shares: list[np.ndarray]) -> list[int]:
    return sorted(int(i) for s in shares for i in s)


def test_largest_remainder_sums_exactly() -> None:
    assert largest_remainder(7, np.array([1.0, 1.0, 1.0])).tolist() == [3, 2, 2]
    assert largest_remainder(10, np.array([0.04, 0.96])).tolist() == [0, 10]


def test_iid_cuts_a_shuffle_into_nearly_equal_shares() -> None:
    shares = assign(None, 10, 3, None, np.random.default_rng(0))
    assert [s.size for s in shares] == [4, 3, 3]
    assert rows(shares) == list(range(10))


def test_dirichlet_with_small_alpha_gives_few_classes_per_worker() -> None:
    labels = np.repeat(np.arange(5), 40)
    skewed = assign(SimpleNamespace(kind="dirichlet", alpha=0.05), 200, 5, labels,
                    np.random.default_rng(1))  # fmt: skip
    even = assign(SimpleNamespace(kind="dirichlet", alpha=1000.0), 200, 5, labels,
                  np.random.default_rng(1))  # fmt: skip
    assert rows(skewed) == rows(even) == list(range(200))
    classes = lambda shares: np.mean([(histograms(shares, labels, 5)[j] > 0).sum()  # noqa: E731
                                      for j in range(5)])  # fmt: skip
    assert classes(skewed) < 2.5 < classes(even) == 5.0


def test_quantity_skew_keeps_every_sample_and_worker() -> None:
    shares = assign(SimpleNamespace(kind="quantity", alpha=0.1), 50, 8, None,
                    np.random.default_rng(2))  # fmt: skip
    sizes = [s.size for s in shares]
    assert rows(shares) == list(range(50))
    assert min(sizes) >= 1 and max(sizes) > 50 / 8 * 2


def test_an_empty_share_takes_one_sample_from_the_largest() -> None:
    out = _no_empty([[0, 1, 2], [], [3, 4, 5]])
    assert [o.tolist() for o in out] == [[0, 1], [2], [3, 4, 5]]


def test_the_same_seed_gives_the_same_partition() -> None:
    labels = np.arange(60) % 3
    p = SimpleNamespace(kind="dirichlet", alpha=0.3)
    a = assign(p, 60, 6, labels, np.random.default_rng(9))
    b = assign(p, 60, 6, labels, np.random.default_rng(9))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_histograms_count_labels_per_worker() -> None:
    h = histograms([np.array([0, 2]), np.array([1, 3])], np.array([0, 1, 1, 2]), 3)
    assert h.tolist() == [[1, 1, 0], [0, 1, 1]]
