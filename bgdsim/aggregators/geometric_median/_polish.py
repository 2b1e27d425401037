"""Newton polish of the geometric-median solver, for flat valleys where Weiszfeld crawls.

Weiszfeld's iteration converges linearly at a rate set by the curvature of f(z) = Σ w_i ‖z −
x_i‖ across its level sets; when the points are nearly collinear f is almost flat along their
line and the rate approaches 1 (four points within 1e-2 of a line: ~10⁵ steps for a gap of
1e-6). :func:`_iterate` then reports a stall, and a few Newton steps on f finish the job:

    ∇f(z) = Σ_i b_i u_i,  ∇²f(z) = Σ_i b_i (I − u_i u_iᵀ) = a I − Vᵀ V,

with u_i = z − x_i, r_i = ‖u_i‖, b_i = w_i/r_i, a = Σ_i b_i and the rows of V
√(w_i/r_i³) u_i. The Newton step p solves (a I − VᵀV) p = −∇f: directly (a d × d system)
when d ≤ n, otherwise by the Woodbury identity p = −(∇f + Vᵀ (a I − V Vᵀ)⁻¹ V ∇f)/a
(an n × n system). The Hessian is positive semi-definite, singular only when the points and z
are exactly collinear (then f is flat and any point of the segment is a median); the system
is solved by least squares. Each step is damped (halved up to 30 times) until f decreases,
so the polish never makes the iterate worse; a step that cannot decrease f at any damping
ends the polish, converged only if the first-order bound f(z) − f* ≤ ‖∇f(z)‖·max_i r_i
certifies a relative gap of at most 1e-6 (a singular Hessian with a nonzero gradient —
exactly collinear points off their median — is not convergence: the caller then resumes
Weiszfeld / Vardi-Zhang). Distances are explicit differences in the solver's frame. The
polish is skipped when the iterate is at a data point (where f is not differentiable: the
Vardi-Zhang step handles that case).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from bgdsim.aggregators.geometric_median._numerics import _EPS, FloatArray, _median

_NEWTON_STEPS: Final = 30
_HALVINGS: Final = 30
#: the relative objective gap a polish that cannot descend any more must certify
_GAP: Final = 1e-6
#: a Newton system counts as solved when its residual is this small relative to ∇f
_SOLVED: Final = 1e-6


def _objective(y: FloatArray, w: FloatArray, z: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    u = z - y
    r = np.sqrt(np.einsum("ij,ij->i", u, u))
    return float(w @ r), u, r


def _certified(g: FloatArray, r: FloatArray, fz: float) -> bool:
    """f(z) − f* ≤ ‖∇f(z)‖·‖z − z*‖ ≤ ‖∇f(z)‖·max_i r_i (z* lies in the points' hull)
    is at most a relative :data:`_GAP`."""
    return float(np.linalg.norm(g)) * float(r.max()) <= _GAP * fz


def _polish(
    y: FloatArray, w: FloatArray, z: FloatArray, tol: float, zero: float
) -> tuple[FloatArray, int, bool, FloatArray]:
    """Newton steps on f from ``z`` (frame coordinates, w summing to 1).

    Returns (z, steps taken, converged, distances to the points). Converged: the last step
    was a full Newton step (undamped, its system solved) of at most ``tol`` times the
    median distance or at rounding level — or the first-order bound certifies the point.
    """
    n, d = y.shape
    fz, u, r = _objective(y, w, z)
    for step in range(_NEWTON_STEPS):
        med = _median(r)
        if float(r.min()) <= zero:  # at (or next to) a data point: not differentiable
            return z, step, False, r
        b = w / r
        a = float(b.sum())
        g = b @ u
        c = np.sqrt(b) / r  # √(w_i/r_i³)
        v = u * c[:, None]
        if d <= n:
            h = -(v.T @ v)
            h[np.diag_indices(d)] += a
            p = -np.linalg.lstsq(h, g, rcond=None)[0]
        else:
            m = -(v @ v.T)
            m[np.diag_indices(n)] += a
            vg = v @ g
            p = -(g + v.T @ np.linalg.lstsq(m, vg, rcond=None)[0]) / a
        size = float(np.linalg.norm(p))
        if not math.isfinite(size):
            return z, step, False, r
        # solved: H p = −∇f holds, i.e. the Hessian is not singular along the gradient (on
        # a line of points it is, and lstsq drops that direction: p is then no Newton step)
        hp = a * p - v.T @ (v @ p)
        solved = float(np.linalg.norm(hp + g)) <= _SOLVED * float(np.linalg.norm(g))
        damped = 0
        for damped in range(_HALVINGS):  # noqa: B007 - how many halvings it took
            f_new, u_new, r_new = _objective(y, w, z + p)
            if f_new < fz:
                break
            p *= 0.5
            size *= 0.5
        else:  # no decrease at any damping: a minimiser up to rounding, if f says so
            return z, step + 1, _certified(g, r, fz), r
        z = z + p
        fz, u, r = f_new, u_new, r_new
        if size <= tol * med or size <= 16.0 * _EPS * (float(np.linalg.norm(z)) + med):
            # a full Newton step this small is convergence; a damped one only says that
            # Newton's model no longer fits f (no curvature along a line): certify by f
            converged = (damped == 0 and solved) or _certified((w / r) @ u, r, fz)
            return z, step + 1, converged, r
    return z, _NEWTON_STEPS, False, r
