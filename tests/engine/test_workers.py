"""Honest workers' messages: mini-batches from their own streams, momentum buffers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import bgdsim
from bgdsim.engine.workers import HonestWorkers, draw_batches
from bgdsim.rng import Streams
from bgdsim.vector import run_vector
from tests.conftest import make_scenario


class Fixed:
    """A stand-in problem whose gradients are given, round after round."""

    workers, dim = 2, 1
    sizes = np.array([4, 4])

    def __init__(self, grads: list[list[float]]) -> None:
        self.grads = iter(grads)

    def gradients(self, theta: np.ndarray) -> np.ndarray:
        return np.array(next(self.grads))[:, None]


def test_momentum_by_hand() -> None:
    # β = 0.5, m_0 = 0: m_1 = ½g_1, m_2 = ½m_1 + ½g_2
    w = HonestWorkers(SimpleNamespace(batch_size=None, sampling="without_replacement",
                                      momentum=0.5), Fixed([[2, 4], [6, 0]]), Streams(0))  # type: ignore[arg-type]  # fmt: skip
    assert w.messages(np.zeros(1)).tolist() == [[1.0], [2.0]]
    assert w.messages(np.zeros(1)).tolist() == [[3.5], [1.0]]


def test_batches_without_replacement_are_distinct_and_capped() -> None:
    rngs = [np.random.default_rng(j) for j in range(3)]
    rows, weights = draw_batches(np.array([10, 2, 5]), 4, False, rngs)
    assert len(set(rows[0].tolist())) == 4 and rows[0].max() < 10
    assert sorted(rows[1, :2].tolist()) == [0, 1]
    assert weights.tolist() == [[0.25] * 4, [0.5, 0.5, 0, 0], [0.25] * 4]


def test_batches_with_replacement_use_each_workers_own_stream() -> None:
    a = draw_batches(
        np.array([3, 3]), 5, True, [np.random.default_rng(1), np.random.default_rng(2)]
    )
    b = draw_batches(
        np.array([3, 3]), 5, True, [np.random.default_rng(9), np.random.default_rng(2)]
    )
    assert not np.array_equal(a[0][0], b[0][0]) and np.array_equal(a[0][1], b[0][1])
    assert (a[1] == 0.2).all()


@pytest.mark.parametrize("kind", ["linear_regression", "logistic_regression", "softmax"])
def test_a_batch_of_every_sample_is_the_full_gradient(kind: str) -> None:
    extra: dict[str, Any] = {"problem__kind": kind, "problem__samples": 60, "problem__dim": 3}
    if kind == "softmax":
        extra = {"problem__kind": "softmax_regression", "problem__dataset": "wine"}
    sc = make_scenario(
        cluster__workers=3, cluster__byzantine=0, server__aggregator__batches=1, **extra
    )
    world = bgdsim.engine.World(sc)
    p = world.problem
    theta = np.random.default_rng(0).standard_normal(p.dim) * 0.1
    n = int(p.sizes.max())
    rows = np.tile(np.arange(n), (3, 1))
    weights = (np.arange(n)[None, :] < p.sizes[:, None]) / p.sizes[:, None]
    assert np.allclose(p.sampled_gradients(theta, rows, weights), p.gradients(theta), atol=1e-12)


def stochastic(**extra: Any) -> bgdsim.config.Scenario:
    base: dict[str, Any] = {
        "rounds": 3, "problem__samples": 240, "problem__dim": 4, "cluster__workers": 6,
        "cluster__byzantine": 1, "server__aggregator__batches": 3, "adversary__attack": "alie",
        "worker": {"batch_size": 8, "momentum": 0.9},
    }  # fmt: skip
    return make_scenario(**{**base, **extra})


def test_a_stochastic_run_is_byte_identical_per_seed_and_verifies(tmp_path: Path) -> None:
    bgdsim.run(stochastic(), log_path=tmp_path / "a.jsonl")
    run_vector(stochastic(), log_path=tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    assert bgdsim.verify(tmp_path / "a.jsonl").ok
    other = run_vector(stochastic(seed=1), log_path=False)
    assert not np.array_equal(other.thetas, bgdsim.run(stochastic(), log_path=None).thetas)


def test_with_replacement_changes_the_run() -> None:
    a = run_vector(stochastic(), log_path=False)
    b = run_vector(stochastic(worker={"batch_size": 8, "sampling": "with_replacement"}),
                   log_path=False)  # fmt: skip
    assert not np.array_equal(a.thetas, b.thetas)
