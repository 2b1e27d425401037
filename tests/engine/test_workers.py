"""Honest workers' messages: mini-batches from their own streams, momentum buffers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import bgdsim
from bgdsim.engine.workers import BatchStreams, HonestWorkers, draw_batches
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


def test_floyds_draws_by_hand() -> None:
    # worker 0: n = 5, b = 3, J = 2, 3, 4; u·(J + 1): 0.5·3 → 1; 0.3·4 → 1, taken → 3;
    # 0.9·5 → 4. Worker 1: n = 2 ≤ b takes both samples, then filler of weight 0.
    u = np.array([[0.5, 0.3, 0.9], [0.7, 0.1, 0.2]])  # (m, b)
    rows, weights = draw_batches(np.array([5, 2]), 3, False, u)
    assert rows.tolist() == [[1, 3, 4], [0, 1, 0]]
    assert weights.tolist() == [[1 / 3] * 3, [0.5, 0.5, 0.0]]
    # J itself may be drawn: 0.99·4 → 3 at J = 3, then 0.6·5 → 3 is taken → J = 4
    assert draw_batches(np.array([5]), 2, False, np.array([[0.99, 0.6]]))[0].tolist() == [[3, 4]]


@pytest.mark.parametrize("batch", [8, 40])  # Floyd's membership by earlier picks / by marks
def test_floyd_takes_the_same_subsets_either_way_and_leaves_its_marks_clear(batch: int) -> None:
    sizes = np.array([400, 7, 90, 53])
    u = np.random.default_rng(5).random((4, batch))
    scratch = np.zeros((4, 400), dtype=bool)
    rows, weights = draw_batches(sizes, batch, False, u, scratch)
    assert not scratch.any()
    big = sizes > batch
    by_hand = []
    for n, draws in zip(sizes[big].tolist(), u[big].tolist(), strict=True):
        chosen: list[int] = []  # Floyd's algorithm, one worker, in plain Python
        for i, x in enumerate(draws):
            top = n - batch + i
            r = int(x * (top + 1))
            chosen.append(top if r in chosen else r)
        by_hand.append(chosen)
    assert rows[big].tolist() == by_hand
    assert rows[1, :7].tolist() == list(range(7)) and (weights[1, 7:] == 0).all()


def test_draws_with_replacement_by_hand() -> None:
    u = np.array([[0.0, 0.999], [0.5, 0.25]])
    rows, weights = draw_batches(np.array([4, 10]), 2, True, u)
    assert rows.tolist() == [[0, 3], [5, 2]] and (weights == 0.5).all()
    top = np.nextafter(1.0, 0.0)  # the largest uniform stays inside range(n)
    assert draw_batches(np.array([3]), 1, True, np.array([[top]]))[0].tolist() == [[2]]


def test_floyd_gives_every_subset_alike() -> None:
    # 5 choose 2 = 10 subsets, 50 000 workers of n = 5 drawing b = 2 at once
    u = np.random.default_rng(3).random((50_000, 2))
    rows, _ = draw_batches(np.full(50_000, 5), 2, False, u)
    assert (rows[:, 0] != rows[:, 1]).all()
    pairs = np.sort(rows, axis=1) @ np.array([5, 1])
    counts = np.bincount(pairs, minlength=25)[[1, 2, 3, 4, 7, 8, 9, 13, 14, 19]]
    assert counts.sum() == 50_000 and abs(counts - 5000).max() < 300  # ~4.2 sigma


def test_each_worker_reads_b_uniforms_a_round_from_its_own_stream() -> None:
    def streams(seeds: list[int]) -> list[np.random.Generator]:
        return [np.random.default_rng(s) for s in seeds]

    one = BatchStreams(streams([1, 2]), 3, rounds=1)
    many = BatchStreams(streams([1, 2]), 3, rounds=None)
    other = BatchStreams(streams([9, 2]), 3, rounds=5)
    expected = np.random.default_rng(2).random(12)
    for t in range(4):  # blocks of one round or of several: the same uniforms
        u = one.next()
        assert np.array_equal(u, many.next()) and u.shape == (2, 3)
        assert np.array_equal(u[1], expected[3 * t : 3 * t + 3])
        v = other.next()
        assert np.array_equal(u[1], v[1]) and not np.array_equal(u[0], v[0])


def test_no_uniform_is_read_for_a_round_the_run_does_not_have(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bgdsim.engine import workers

    monkeypatch.setattr(workers, "_BLOCK_ROUNDS", 2)  # blocks of 2, 2, then the 1 left
    rngs = [np.random.default_rng(4)]
    draws = BatchStreams(rngs, 3, rounds=5)
    expected = np.random.default_rng(4).random(16)
    for t in range(5):
        assert np.array_equal(draws.next()[0], expected[3 * t : 3 * t + 3])
    assert rngs[0].random() == expected[15]  # the stream is exactly 5 rounds in


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
