"""Byzantine-set schedules."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bgdsim.adversary import RandomSchedule, StaticSchedule, schedules


def test_random_draws_a_new_uniform_set_of_q_each_round() -> None:
    s = RandomSchedule(10, 3, np.random.default_rng(0))
    sets = [tuple(s.choose(t, np.zeros((10, 2)))) for t in range(2000)]
    assert all(len(b) == 3 and list(b) == sorted(set(b)) for b in sets)
    assert len(set(sets)) > 100  # sets change from round to round
    counts = np.bincount(np.concatenate(sets), minlength=10)
    np.testing.assert_allclose(counts / 2000, 0.3, atol=0.04)  # each worker with prob q/m


def test_static_keeps_one_set() -> None:
    s = StaticSchedule(10, 3, np.random.default_rng(0))
    first = s.choose(1, np.zeros((10, 2)))
    assert len(first) == 3
    assert all((s.choose(t, np.zeros((10, 2))) == first).all() for t in range(2, 10))
    fixed = StaticSchedule(10, 3, np.random.default_rng(0), workers=[7, 2])
    assert fixed.choose(1, np.zeros((10, 2))).tolist() == [2, 7]


@pytest.mark.parametrize(
    ("workers", "fragment"),
    [
        ([1, 1], "duplicate"),
        ([1, 2, 3, 4], "4 workers but cluster.byzantine (q) is 3"),
        ([10], "worker 10 is not in 0..9"),
    ],
)
def test_static_checks_its_workers(workers: list[int], fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        StaticSchedule(10, 3, np.random.default_rng(0), workers=workers)


def test_registry() -> None:
    assert {"static", "random"} <= set(schedules.names())
