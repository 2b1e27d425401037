"""Centered clipping around the previous aggregate (Karimireddy, He, Jaggi 2021).

"Learning from history for Byzantine robust optimization" (ICML 2021), §4, eq. (CC):
the server centres the clipping on its last output v_{t−1} and takes L steps

    v ← v + (1/n) Σ_i clip(x_i − v, τ),   clip(z, τ) = z · min(1, τ/‖z‖),   v₀ = v_{t−1},

returning v_t = v_L, which is also the next round's centre. The rule is stateful: it is
``(vectors, state) -> (aggregate, new_state)`` with ``state`` = v_{t−1} (None in the
first round, which starts from 0 as the authors' code does, or from the coordinate-wise
median). The engine keeps the state, passes it in every round, commits the new one only
when the round is sealed (the adversary may call the rule as often as it likes), writes
it to the log and ``replay --verify`` recomputes it; a skipped round keeps the old one.

Momentum: the paper's Algorithm 2 puts it on the *workers* — each sends
m_i = β·m_i + (1 − β)·g_i, which is ``[worker] momentum`` — and the server applies CC to
the buffers and steps θ ← θ − η·v_t. There is no separate server momentum, here or there.

Defaults (documented choices): ``iters=1`` (the paper's single step from a good start);
``tau=None`` takes τ = the median of ‖x_i − v₀‖ each round (scale free; the authors fix
τ per task); with τ fixed, v moves at most L·τ per round however far the f Byzantine
reports are, and they move it at most L·f·τ/n.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from bgdsim.aggregators import register
from bgdsim.aggregators._common import check_tau, reports
from bgdsim.aggregators.centered_clipping import clip_steps
from bgdsim.aggregators.coordinate_median import median_of_rows

__all__ = ["centered_clipping_history"]


@register("centered_clipping_history")
def centered_clipping_history(
    vectors: np.ndarray,
    *,
    state: np.ndarray | None = None,
    tau: Annotated[float, Field(gt=0)] | None = None,
    iters: Annotated[int, Field(ge=1)] = 1,
    start: Literal["zero", "coordinate_median"] = "zero",
) -> tuple[np.ndarray, np.ndarray]:
    """Centered clipping from the previous aggregate (Karimireddy, He, Jaggi 2021, (CC)).

    v₀ = ``state`` (v_{t−1}); in the first round 0 or the coordinate-wise median;
    v_{l+1} = v_l + (1/n) Σ_i (x_i − v_l) · min(1, τ/‖x_i − v_l‖),  l = 0 … L − 1.

    >>> x = np.array([[0.0], [1.0], [10.0]])
    >>> centered_clipping_history(x, state=np.array([1.0]), tau=1.0)[0].tolist()
    [1.0]

    Args:
        vectors: ``(n, d)`` reports, n ≥ 1.
        state: v_{t−1}, ``(d,)``; None in the first round. Supplied by the server.
        tau: the clipping radius τ > 0; ``None`` (default): the median of ‖x_i − v₀‖.
        iters: L ≥ 1, clipping steps per round (default 1).
        start: v₀ when there is no state yet: ``"zero"`` (default) or
            ``"coordinate_median"``.

    Returns:
        ``(v_t, v_t)``: the ``(d,)`` aggregate and the new state (a copy).

    Raises:
        ValueError: ``vectors`` is not a non-empty ``(n, d)`` array, ``state`` is not a
            ``(d,)`` vector, τ ≤ 0, L < 1, or ``start`` is unknown.
    """
    x = reports(vectors, "centered_clipping_history")
    check_tau(tau, "centered_clipping_history")
    if iters < 1:
        raise ValueError(f"centered_clipping_history needs iters >= 1, got iters={iters}")
    if state is not None:
        v = np.asarray(state, dtype=np.float64)
        if v.shape != (x.shape[1],):
            raise ValueError(
                f"centered_clipping_history: state has shape {v.shape}, reports have "
                f"d = {x.shape[1]}"
            )
    elif start == "zero":
        v = np.zeros(x.shape[1])
    elif start == "coordinate_median":
        v = median_of_rows(x)
    else:
        raise ValueError(
            f"centered_clipping_history start must be 'zero' or 'coordinate_median', got {start!r}"
        )
    out = clip_steps(x, v, tau, iters)
    return out, out.copy()
