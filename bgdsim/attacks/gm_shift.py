"""GM shift: collude on one vector at the distance that pulls the server's rule the most.

Aimed at the geometric median of means (Chen, Su, Xu 2017, Algorithm 2, eq. (8)). A
geometric median feels a report only through the unit vector towards it (its optimality
condition is Σ_i (z − x_i)/‖z − x_i‖ = 0), so however far the Byzantine batch means are
sent, the median moves by a bounded amount; and a vector placed *inside* the honest cloud
(as ``sign_flip``'s −10 μ_H becomes once θ is near θ* and μ_H is small) pulls with less
than that bound. How far to send the vector depends on the round (the honest spread, how
B_t falls into the k batches, the rule itself), so this attack searches the distance
against the server's actual rule instead of fixing a scale.

All Byzantine workers send the same vector

    g_B = μ_H + λ* u,

μ_H the honest mean and u a unit direction (``direction``): ``against_mean``
u = −μ_H/‖μ_H‖ (the default: a displacement along u shortens, then reverses, the
descent step; if μ_H = 0, a random direction is used), or ``random``, u = z/‖z‖ with
z ~ N(0, I_d) drawn from the attack's stream each round. λ* maximises the displacement of
the server's aggregate along u,

    λ* = argmax_{λ>0} ⟨A(X(λ)) − A(X_H), u⟩,

where A is the server's actual rule (``view.server_aggregate``: its parameters and this
round's random bits), X(λ) the ``(m, d)`` reports exactly as the server receives them —
the honest gradients in the honest workers' rows and g_B in the rows of B_t, in worker
order (every worker reports, so the ``zero`` missing-report policy never applies) — and
X_H the fault-free reports (a constant, so it is not evaluated).

Search, at most ``evaluations`` calls of A per round:

1. a geometric grid of ⌊evaluations/2⌋ values of λ over [1e-3, 1e6] × s, with s the
   honest spread √((1/|H|) Σ_{i∈H} ‖g_i − μ_H‖²) (‖μ_H‖, then 1, if that is 0);
2. a golden-section search in log λ between the grid neighbours of the best grid point,
   with the remaining calls; skipped when the objective is flat there (both neighbours
   within a tie tolerance of the best: 1e-3 × the range of the grid's displacements),
   and stopped once the bracket is narrower than 0.05 in log λ (λ within ~5 %);
3. of all λ evaluated, the smallest whose displacement is within the tie tolerance of
   the largest (so a plateau yields the least conspicuous vector).

What the search finds (measured on the paper's scenario, gmom with k = 20, q = 8): the
displacement grows with λ and levels off from λ ≈ 10–100 s on — the bound above — with no
interior peak worth more than ~0.1 %; λ* sits at the start of that plateau (in most rounds
the grid alone decides: 20 calls). A fixed far vector reaches the same plateau
(``sign_flip`` with scale 100 or 1e4 does as much damage as this attack), so against a
geometric median the search buys scale-freeness — it needs no scale chosen in advance and
sends the least conspicuous vector that pulls fully — not a larger pull; it beats
``sign_flip`` at its default scale 10 because −10 μ_H falls short of the plateau as μ_H
shrinks near θ*.

When the view carries no server rule (``view.aggregate`` is None: a hand-built view, or a
runtime that does not pass it), A is rebuilt from the registry:
``bgdsim.aggregators.get(view.aggregator)`` with ``view.params`` and, for rules that
batch, ``batches = view.batches`` if ``view.params`` has none — the server's rule for any
deterministic aggregator (the server's own random bits, if any, are then not reproduced).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from bgdsim import aggregators
from bgdsim.attacks import AdversaryView, register
from bgdsim.attacks._common import honest_rows, tile

__all__ = ["LAMBDA_RANGE", "gm_shift", "server_rule"]

LAMBDA_RANGE = (1e-3, 1e6)
"""The grid's span of λ, in units of the honest spread s."""

Evaluations = Annotated[int, Field(ge=4, le=10_000)]
_INVPHI = (math.sqrt(5.0) - 1.0) / 2.0
_FLAT = 1e-3  # displacements closer than this x the grid's range of them count as equal
_WIDTH = 0.05  # the golden-section search stops at this bracket width in log λ (~5 %)


def server_rule(view: AdversaryView) -> Callable[[np.ndarray], np.ndarray]:
    """``view.aggregate``, or the registry's rule named ``view.aggregator`` with its params."""
    if view.aggregate is not None:
        return view.aggregate
    fn = aggregators.get(view.aggregator)
    params = dict(view.params)
    if aggregators.takes_batches(fn):
        params.setdefault("batches", view.batches)

    def rule(vectors: np.ndarray) -> np.ndarray:
        if aggregators.stateful(fn):  # no server state in the view: its first round
            return np.asarray(fn(vectors, state=None, **params)[0])
        return fn(vectors, **params)

    return rule


def _golden(f: Callable[[float], float], a: float, b: float, calls: int) -> None:
    """Golden-section search for a maximum of ``f`` on [a, b], at most ``calls`` calls."""
    if calls < 2 or b - a <= _WIDTH:
        if calls == 1:
            f(0.5 * (a + b))
        return
    c, d = b - _INVPHI * (b - a), a + _INVPHI * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(calls - 2):
        if b - a <= _WIDTH:
            return
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - _INVPHI * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + _INVPHI * (b - a)
            fd = f(d)


def _unit(v: np.ndarray) -> np.ndarray | None:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 and math.isfinite(norm) else None


@register("gm_shift")
def gm_shift(
    view: AdversaryView,
    rng: np.random.Generator,
    *,
    direction: Literal["against_mean", "random"] = "against_mean",
    evaluations: Evaluations = 40,
) -> np.ndarray:
    """All Byzantine workers send μ_H + λ* u, λ* searched against the server's rule.

    Args:
        view: the adversary's view.
        rng: the attack's stream (used for ``random`` directions only).
        direction: ``against_mean`` (−μ_H/‖μ_H‖) or ``random``.
        evaluations: the most calls of the server's rule per round, ≥ 4.
    """
    if len(view.byzantine) == 0:
        return np.zeros((0, view.honest.shape[1]))
    rows = honest_rows(view)
    mu = rows.mean(axis=0)
    u = _unit(-mu) if direction == "against_mean" else None
    while u is None:
        u = _unit(rng.standard_normal(mu.shape[0]))
    spread = math.sqrt(float(np.mean(np.sum((rows - mu) ** 2, axis=1))))
    scale = spread or float(np.linalg.norm(mu)) or 1.0

    rule = server_rule(view)
    reports = view.honest.copy()
    byz = view.byzantine
    seen: dict[float, float] = {}

    def displacement(log_lam: float) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            candidate = mu + math.exp(log_lam) * u
        if np.isfinite(candidate).all():  # a diverging run: far candidates overflow
            reports[byz] = candidate
            value = float(rule(reports) @ u)
            value = value if math.isfinite(value) else -math.inf
        else:
            value = -math.inf
        seen[log_lam] = value
        return value

    n_grid = evaluations // 2
    lo, hi = (math.log(scale * x) for x in LAMBDA_RANGE)
    grid = np.linspace(lo, hi, n_grid).tolist()
    values = [displacement(t) for t in grid]
    best = int(np.argmax(values))
    finite = [v for v in values if v > -math.inf]
    tie = _FLAT * (max(finite) - min(finite)) if finite else 0.0
    if min(values[max(best - 1, 0) : best + 2]) < values[best] - tie:
        _golden(
            displacement,
            grid[max(best - 1, 0)],
            grid[min(best + 1, n_grid - 1)],
            evaluations - n_grid,
        )
    top = max(seen.values())
    log_lam = min(t for t, v in seen.items() if v >= top - tie)
    return tile(mu + math.exp(log_lam) * u, view)
