"""Learning problems: data, honest gradients (all workers in one call), θ*, population risk.

A problem is built from the scenario's ``[problem]`` table, the number of workers and a
random stream. It holds every worker's local samples and computes the honest local
gradients ∇f̄_j(θ) of all m workers in one vectorised call (paper eq. (3)). It also knows
θ*, the population risk F and its gradient, and the constants L (strong convexity) and
M (smoothness) of Assumption 1, from which ``step_size = "auto"`` takes η = L/(2M²).
:meth:`Problem.local` gives one worker its own share, whose gradient is the batched one's
row bit for bit (what a TCP worker computes on its own).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bgdsim.registry import GROUPS, Registry

if TYPE_CHECKING:
    from bgdsim.config import ProblemConfig

__all__ = ["DataSetup", "Problem", "build", "names", "registry"]


class Problem(ABC):
    """A learning problem split over ``workers`` machines."""

    #: strong-convexity constant L of the population risk (Assumption 1)
    strong_convexity: float
    #: Lipschitz constant M of the population gradient (Assumption 1)
    smoothness: float

    def __init__(self, dim: int, sizes: np.ndarray, theta_star: np.ndarray) -> None:
        self.dim = dim
        self.sizes = np.asarray(sizes, dtype=np.int64)  # n_j, local sample counts
        self.workers = int(self.sizes.shape[0])
        self.samples = int(self.sizes.sum())
        self.equal_sizes = bool((self.sizes == self.sizes[0]).all())
        self.theta_star = theta_star

    @abstractmethod
    def gradients(self, theta: np.ndarray) -> np.ndarray:
        """Honest local gradients ∇f̄_j(θ) of all workers, shape ``(workers, dim)``."""

    def local(self, j: int) -> Problem:
        """Worker j's own share: a one-worker problem of the same kind on j's samples.

        ``local(j).gradients(θ)[0]`` is ``gradients(θ)[j]`` bit for bit (the same kernel
        on a one-worker slice), so a worker computing its own gradient reports exactly what
        the batched call would. The share's arrays are views into this problem's; deep-copy
        it (``copy.deepcopy``) to own them and let the full data go.

        Raises:
            IndexError: j is not a worker.
            NotImplementedError: the problem cannot be split (the default).
        """
        if not 0 <= j < self.workers:
            raise IndexError(f"worker {j} is not in 0..{self.workers - 1}")
        share = copy.copy(self)
        share._take(slice(j, j + 1))
        return share

    def sampled_gradients(
        self, theta: np.ndarray, rows: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """Mini-batch gradients g_j = Σ_i weights[j, i]·∇f(X_{j, rows[j, i]}, θ), ``(m, d)``.

        ``rows`` ``(m, b)`` indexes each worker's own samples; ``weights`` ``(m, b)`` is
        1/b_j for the b_j samples drawn and 0 for filler entries.

        Raises:
            NotImplementedError: the problem has no per-sample gradients (the default).
        """
        raise NotImplementedError(f"{type(self).__name__} has no mini-batch gradients")

    def _take(self, rows: slice) -> None:
        """Keep only the workers ``rows`` (views); a problem that can be split extends it."""
        raise NotImplementedError(f"{type(self).__name__} cannot be split into workers' shares")

    def _take_sizes(self, rows: slice) -> None:
        """The base fields of :meth:`_take`: the local sizes and the counts they imply."""
        self.sizes = self.sizes[rows]
        self.workers = int(self.sizes.shape[0])
        self.samples = int(self.sizes.sum())
        self.equal_sizes = bool((self.sizes == self.sizes[0]).all())

    @abstractmethod
    def population_risk(self, theta: np.ndarray) -> float:
        """F(θ) = E[f(X, θ)]."""

    @abstractmethod
    def population_gradient(self, theta: np.ndarray) -> np.ndarray:
        """∇F(θ)."""

    #: the data corruptions :meth:`corrupted_gradients` supports
    corruptions: tuple[str, ...] = ()

    def corrupted_gradients(
        self, theta: np.ndarray, workers: np.ndarray, *, kind: str, strength: float
    ) -> np.ndarray:
        """Local gradients at θ of ``workers`` computed on corrupted copies of their data.

        Raises ``ValueError`` for a corruption this problem does not support.
        """
        raise ValueError(
            f"{type(self).__name__} supports no data corruption '{kind}'"
            f"; supported: {', '.join(self.corruptions) or 'none'}"
        )

    def describe(self) -> dict[str, Any]:
        """What the log header says about the data beyond the sizes (a real data set, its
        split and partition); empty for the paper's synthetic problems."""
        return {}

    def test_metrics(self, theta: np.ndarray) -> dict[str, float]:
        """Held-out ``test_loss`` (and ``test_accuracy`` for classification) at θ; empty
        when the problem has no test split (the paper's synthetic problems)."""
        return {}

    def error(self, theta: np.ndarray) -> float:
        """‖θ − θ*‖, the paper's measure of progress (overflow-safe for huge θ)."""
        return safe_norm(theta - self.theta_star)

    def auto_step_size(self) -> float:
        """η = L/(2M²), the step of Theorem 1."""
        return self.strong_convexity / (2 * self.smoothness**2)

    def initial_theta(self) -> np.ndarray:
        """θ₀ = 0 (the paper allows any point; the error starts at ‖θ*‖)."""
        return np.zeros(self.dim)


def safe_norm(v: np.ndarray) -> float:
    """‖v‖ without overflow for huge entries (the plain norm whenever it is safe)."""
    scale = float(np.max(np.abs(v))) if v.size else 0.0
    if scale < 1e150:  # no overflow in the squares
        return float(np.linalg.norm(v))
    if not np.isfinite(scale):
        return scale
    return scale * float(np.linalg.norm(v / scale))


@dataclass(frozen=True)
class DataSetup:
    """How a data set is held out and shared out: the random streams of the test split and
    of the partition (named ``split`` and ``partition`` in a run), and the ``[data]``
    partition (None: i.i.d., the paper's)."""

    split_rng: np.random.Generator
    partition_rng: np.random.Generator
    partition: Any = None


Builder = Callable[["ProblemConfig", int, np.random.Generator, DataSetup], Problem]
registry: Registry[Builder] = Registry("problem", GROUPS["problem"])


def build(
    config: ProblemConfig,
    workers: int,
    rng: np.random.Generator,
    setup: DataSetup | None = None,
) -> Problem:
    """Build the problem named by ``config.kind`` with its data drawn from ``rng``.

    ``setup``: the split's and partition's streams and the partition; by default both
    streams are ``rng`` and the partition is i.i.d.
    """
    return registry.get(config.kind)(config, workers, rng, setup or DataSetup(rng, rng))


def names() -> list[str]:
    """Names of all registered problems."""
    return registry.names()


def local_sizes(config: ProblemConfig, workers: int, rng: np.random.Generator) -> np.ndarray:
    """n_j: N/m each, or, with ``size_spread`` s > 0, n_j ∝ 1 + s·u_j, u_j ~ U(−1, 1).

    The unequal sizes are "of the same order" (the paper's extension): they sum to N
    exactly (largest remainders) and each is at least 1.
    """
    n_total = config.samples
    if config.size_spread == 0:
        return np.full(workers, n_total // workers, dtype=np.int64)
    share = 1 + config.size_spread * rng.uniform(-1.0, 1.0, workers)
    exact = n_total * share / share.sum()
    sizes = np.maximum(np.floor(exact).astype(np.int64), 1)
    short = n_total - int(sizes.sum())
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    for j in order[: max(short, 0)]:
        sizes[j] += 1
    for j in np.argsort(-sizes, kind="stable")[: max(-short, 0)]:  # after the floor of 1
        sizes[j] -= 1
    return sizes


def draw_data(
    config: ProblemConfig, workers: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """θ*, the local sizes, and ``(m, n_max, d)`` covariates w ~ N(0, I), zero past n_j.

    Padding rows are zero, so they add nothing to any sum of the form Σ_i w_i(...).
    """
    theta_star = draw_theta_star(config, rng)
    sizes = local_sizes(config, workers, rng)
    w = rng.standard_normal((workers, int(sizes.max()), config.dim))
    if config.size_spread > 0:
        w[np.arange(w.shape[1])[None, :] >= sizes[:, None]] = 0.0
    return theta_star, sizes, w


def draw_theta_star(config: ProblemConfig, rng: np.random.Generator) -> np.ndarray:
    """θ* from the scenario if given, else a uniformly random direction of norm ``theta_norm``."""
    if config.theta_star is not None:
        return np.asarray(config.theta_star, dtype=np.float64)
    v = rng.standard_normal(config.dim)
    return v * (config.theta_norm / np.linalg.norm(v))


from bgdsim.problems import linear_regression as _lin  # noqa: E402
from bgdsim.problems import logistic_regression as _log  # noqa: E402
from bgdsim.problems import real_data as _real  # noqa: E402

del _lin, _log, _real
