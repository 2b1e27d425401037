"""What honest workers send: full or mini-batch gradients, and their momentum buffers.

:class:`HonestWorkers` holds the workers' state in the engine (so every runtime, and a
re-run of a log, computes the same messages). Each round, at θ_{t−1}:

* without ``[worker] batch_size`` — every worker's full local gradient ∇f̄_j(θ) (the paper);
* with batch size b — worker j draws b_j = min(b, n_j) of its own samples *without
  replacement*, or b with replacement (:func:`draw_batches`), and computes
  g_j = (1/b_j) Σ_{i ∈ S_j} ∇f(X_i, θ);
* with ``momentum`` β — it sends m_t = β·m_{t−1} + (1 − β)·g_t, m_0 = 0 (Karimireddy,
  He, Jaggi 2021, "Learning from history for Byzantine robust optimization", Alg. 2).

Every worker's buffer is updated every round, also in rounds it is Byzantine (the
adversary replaces what it sends, not what it computes).

Randomness: worker j reads its own stream ``batch/j`` as a sequence of uniform doubles
u ∈ [0, 1) (``Generator.random``), exactly b of them per round whatever it draws. They
are read for many rounds at once per worker (:class:`BatchStreams`; doubles concatenate,
so the block size changes nothing) and turned into every worker's indices by a handful of
whole-array operations per round, not one generator call per worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bgdsim.problems import Problem
from bgdsim.rng import Streams

if TYPE_CHECKING:
    from bgdsim.config.learning import WorkerConfig

__all__ = ["BatchStreams", "HonestWorkers", "draw_batches"]


def draw_batches(
    sizes: np.ndarray,
    batch: int,
    replace: bool,
    uniforms: np.ndarray,
    scratch: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, weights)``, each ``(m, b)``: worker j's sample indices and 1/b_j (0 on filler
    entries when n_j < b without replacement), from its b uniforms ``uniforms[j]``.

    With replacement, sample i is ⌊u_i·n_j⌋. Without, a worker with n_j ≤ b takes all its
    samples (in order); one with n_j > b runs Floyd's algorithm (Bentley, Floyd 1987, "A
    sample of brilliance"): for i = 0, …, b − 1, J = n_j − b + i and r = ⌊u_i·(J + 1)⌋;
    it takes r, or J if r is already taken — a uniformly random b-subset, all workers at
    once in b vectorised steps. ``scratch``: an all-False C-contiguous bool array of at
    least ``(m, max n_j)``, reused across rounds for b > 32 (it is left all False); None:
    a new one when needed.

    >>> u = np.array([[0.5, 0.5], [0.5, 0.9]])  # (m, b): worker 0 draws 0.5, 0.5
    >>> draw_batches(np.array([5, 2]), 2, False, u)[0].tolist()  # ⌊0.5·4⌋ = 2, then 2 → 4
    [[2, 4], [0, 1]]
    >>> draw_batches(np.array([5, 2]), 2, True, u)[0].tolist()
    [[2, 2], [1, 1]]
    """
    n = np.asarray(sizes, dtype=np.int64)
    m = n.shape[0]
    if replace:
        rows = (uniforms * n[:, None]).astype(np.int64)
        np.minimum(rows, (n - 1)[:, None], out=rows)  # u·n rounds up to n only for u ≈ 1
        return rows, np.full((m, batch), 1.0 / batch)
    big = n > batch
    if big.all():  # the usual case: every worker draws b of its samples
        rows = np.ascontiguousarray(_floyd(n, batch, uniforms, scratch))
        return rows, np.full((m, batch), 1.0 / batch)
    counts = np.minimum(n, batch)
    rows = np.zeros((m, batch), dtype=np.int64)
    rows[:] = np.arange(batch)
    rows[rows >= counts[:, None]] = 0  # filler: weight 0
    weights = (np.arange(batch) < counts[:, None]) / counts[:, None]
    if big.any():
        rows[big] = _floyd(n[big], batch, uniforms[big], scratch)
    return rows, weights


#: up to this b, Floyd's "already taken?" compares with the earlier picks (b²/2 per
#: worker, sequential memory); beyond it, it looks the pick up in a mark array (the same
#: answers, b random reads and writes per worker)
_PREFIX_MAX = 32


def _floyd(n: np.ndarray, batch: int, uniforms: np.ndarray, taken: np.ndarray | None) -> np.ndarray:
    """``(m, b)``: Floyd's b-subset of range(n_j) for every worker, n_j > b (see above),
    from ``(m, b)`` uniforms; the b steps run on contiguous ``(b, m)`` copies. ``taken``:
    for b > :data:`_PREFIX_MAX`, an all-False ``(≥ m, ≥ max n_j)`` scratch array (None: a
    new one), all False again on return."""
    m = n.shape[0]
    top = (n - batch)[:, None] + np.arange(batch)[None, :]  # J, (m, b)
    picks = (uniforms * (top + 1)).astype(np.int64)
    np.minimum(picks, top, out=picks)
    steps, tops = picks.T.copy(), top.T.copy()
    if batch <= _PREFIX_MAX:
        for i in range(1, batch):
            row = steps[i]
            np.copyto(row, tops[i], where=(steps[:i] == row).any(axis=0))  # taken: J
        return steps.T
    if taken is None:
        taken = np.zeros((m, int(n.max())), dtype=bool)
    at = np.arange(m)
    for i in range(batch):
        row = steps[i]
        np.copyto(row, tops[i], where=taken[at, row])  # r taken already: J instead
        taken[at, row] = True
    taken.reshape(-1)[(at * taken.shape[1])[None, :] + steps] = False
    return steps.T


#: rounds of uniforms read per worker at once, and the most doubles a block may hold
_BLOCK_ROUNDS = 64
_BLOCK_DOUBLES = 1 << 20


class BatchStreams:
    """Each worker's next b uniforms per round from its own stream ``batch/j``, drawn for
    ``block`` rounds at once (at most ~8 MB of doubles): ``(m, b)`` per call. With the
    run's ``rounds`` known, the last block reads only the rounds left."""

    def __init__(self, rngs: list[np.random.Generator], batch: int, rounds: int | None) -> None:
        self.rngs = rngs
        self.batch = batch
        m = max(len(rngs), 1)
        self.block = max(
            1, min(rounds or _BLOCK_ROUNDS, _BLOCK_ROUNDS, _BLOCK_DOUBLES // (m * batch))
        )
        self.left = rounds  # rounds not read yet (None: unknown)
        self.buffer = np.empty((len(rngs), 0))  # (m, block·b): worker j's in row j
        self.at = 0

    def next(self) -> np.ndarray:
        """The b uniforms of this round, worker j's in row j (a view)."""
        if self.at == self.buffer.shape[1]:
            block = self.block
            if self.left is not None:  # past the run's end: one round at a time
                block = min(block, self.left) if self.left > 0 else 1
                self.left = max(self.left - block, 0)
            self.buffer = np.empty((len(self.rngs), block * self.batch))
            for j, rng in enumerate(self.rngs):
                rng.random(out=self.buffer[j])
            self.at = 0
        out = self.buffer[:, self.at : self.at + self.batch]
        self.at += self.batch
        return out


class HonestWorkers:
    """The honest messages of all m workers, with their state (see the module doc);
    ``rounds``: how many rounds the run has (only sizes the blocks of uniforms)."""

    def __init__(
        self,
        config: WorkerConfig | None,
        problem: Problem,
        streams: Streams,
        rounds: int | None = None,
    ) -> None:
        self.problem = problem
        self.batch = None if config is None else config.batch_size
        self.replace = config is not None and config.sampling == "with_replacement"
        self.beta = 0.0 if config is None or config.momentum is None else config.momentum
        m = problem.workers
        self.draws = (
            BatchStreams([streams[f"batch/{j}"] for j in range(m)], self.batch, rounds)
            if self.batch
            else None
        )
        # Floyd's marks for b > 32, kept: a fresh array each round costs page faults
        self.scratch = (
            np.zeros((m, int(problem.sizes.max())), dtype=bool)
            if self.batch and self.batch > _PREFIX_MAX and not self.replace
            else None
        )
        self.buffer = np.zeros((m, problem.dim)) if self.beta > 0 else None

    def messages(self, theta: np.ndarray) -> np.ndarray:
        """``(m, d)``: what each worker would send at θ; the state moves on only when
        every message is finite (otherwise the run stops as diverged)."""
        if self.batch is None or self.draws is None:
            g = self.problem.gradients(theta)
        else:
            uniforms = self.draws.next()
            rows, weights = draw_batches(
                self.problem.sizes, self.batch, self.replace, uniforms, self.scratch
            )
            g = self.problem.sampled_gradients(theta, rows, weights)
        if self.buffer is None or not np.isfinite(g).all():
            return g
        self.buffer = self.beta * self.buffer + (1.0 - self.beta) * g
        return self.buffer.copy()
