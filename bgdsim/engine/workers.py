"""What honest workers send: full or mini-batch gradients, and their momentum buffers.

:class:`HonestWorkers` holds the workers' state in the engine (so every runtime, and a
re-run of a log, computes the same messages). Each round, at θ_{t−1}:

* without ``[worker] batch_size`` — every worker's full local gradient ∇f̄_j(θ) (the paper);
* with batch size b — worker j draws b_j = min(b, n_j) of its own samples *without
  replacement*, or b with replacement, from its own stream ``batch/j``, and computes
  g_j = (1/b_j) Σ_{i ∈ S_j} ∇f(X_i, θ);
* with ``momentum`` β — it sends m_t = β·m_{t−1} + (1 − β)·g_t, m_0 = 0 (Karimireddy,
  He, Jaggi 2021, "Learning from history for Byzantine robust optimization", Alg. 2).

Every worker's buffer is updated every round, also in rounds it is Byzantine (the
adversary replaces what it sends, not what it computes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bgdsim.problems import Problem
from bgdsim.rng import Streams

if TYPE_CHECKING:
    from bgdsim.config.learning import WorkerConfig

__all__ = ["HonestWorkers", "draw_batches"]


def draw_batches(
    sizes: np.ndarray, batch: int, replace: bool, rngs: list[np.random.Generator]
) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, weights)``, each ``(m, b)``: worker j's drawn sample indices and 1/b_j
    (0 on filler entries when b_j = n_j < b without replacement).

    >>> rows, w = draw_batches(np.array([3, 1]), 2, False, [np.random.default_rng(0)] * 2)
    >>> w.tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    m = sizes.shape[0]
    rows = np.zeros((m, batch), dtype=np.int64)
    weights = np.zeros((m, batch))
    for j in range(m):
        n = int(sizes[j])
        if replace:
            rows[j] = rngs[j].integers(n, size=batch)
            weights[j] = 1.0 / batch
        else:
            b = min(batch, n)
            rows[j, :b] = rngs[j].choice(n, size=b, replace=False)
            weights[j, :b] = 1.0 / b
    return rows, weights


class HonestWorkers:
    """The honest messages of all m workers, with their state (see the module doc)."""

    def __init__(self, config: WorkerConfig | None, problem: Problem, streams: Streams) -> None:
        self.problem = problem
        self.batch = None if config is None else config.batch_size
        self.replace = config is not None and config.sampling == "with_replacement"
        self.beta = 0.0 if config is None or config.momentum is None else config.momentum
        m = problem.workers
        self.rngs = [streams[f"batch/{j}"] for j in range(m)] if self.batch else []
        self.buffer = np.zeros((m, problem.dim)) if self.beta > 0 else None

    def messages(self, theta: np.ndarray) -> np.ndarray:
        """``(m, d)``: what each worker would send at θ; the state moves on only when
        every message is finite (otherwise the run stops as diverged)."""
        if self.batch is None:
            g = self.problem.gradients(theta)
        else:
            rows, weights = draw_batches(self.problem.sizes, self.batch, self.replace, self.rngs)
            g = self.problem.sampled_gradients(theta, rows, weights)
        if self.buffer is None or not np.isfinite(g).all():
            return g
        self.buffer = self.beta * self.buffer + (1.0 - self.beta) * g
        return self.buffer.copy()
