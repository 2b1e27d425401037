"""The elementary attacks of the paper's model: any value, or no message at all.

Chen, Su, Xu (2017) §1.2 and eq. (5): a Byzantine machine may send an arbitrary vector
(the same or different across machines, chosen with full knowledge of the honest
messages) or nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from bgdsim.attacks import AdversaryView, register

Scale = Annotated[float, Field(gt=0, allow_inf_nan=False)]


@register("sign_flip")
def sign_flip(view: AdversaryView, rng: np.random.Generator, *, scale: Scale = 10.0) -> np.ndarray:
    """Every Byzantine worker sends −scale × the honest mean: g_j = −s · (1/|H|) Σ_{i∈H} g_i.

    Against the mean with q of m workers the aggregate becomes ((m−q) − s q)/m × the honest
    mean, reversing the step once s > (m − q)/q.
    """
    msg = -scale * view.honest_mean()
    return np.tile(msg, (len(view.byzantine), 1))


@register("large_norm")
def large_norm(
    view: AdversaryView, rng: np.random.Generator, *, scale: Scale = 100.0
) -> np.ndarray:
    """Each Byzantine worker sends −scale × its own honest gradient: g_j = −s ∇f̄_j(θ)."""
    return -scale * view.honest[view.byzantine]


@register("gaussian")
def gaussian(view: AdversaryView, rng: np.random.Generator, *, scale: Scale = 10.0) -> np.ndarray:
    """Each Byzantine worker sends independent noise: g_j ~ N(0, s² I_d)."""
    return scale * rng.standard_normal((len(view.byzantine), view.honest.shape[1]))


@register("zero")
def zero(view: AdversaryView, rng: np.random.Generator) -> np.ndarray:
    """Each Byzantine worker sends the zero vector (it "forgets" to compute)."""
    return np.zeros((len(view.byzantine), view.honest.shape[1]))


@register("silent")
def silent(view: AdversaryView, rng: np.random.Generator) -> None:
    """The Byzantine workers send nothing; the server's missing-report policy applies."""
    return


@register("malformed")
def malformed(
    view: AdversaryView,
    rng: np.random.Generator,
    *,
    kind: Literal["nan", "inf", "shape", "huge"] = "nan",
) -> np.ndarray | list[np.ndarray]:
    """Byzantine workers send messages the server must refuse or survive.

    ``nan``/``inf``: the honest gradient with one entry replaced by NaN/Inf; ``shape``: a
    vector one entry too long; ``huge``: finite entries of magnitude 1e300 (rejected only
    if ``server.max_norm`` is set). Tests the server's validation, not the aggregator.
    """
    d = view.honest.shape[1]
    msgs = view.honest[view.byzantine].copy()
    if kind == "shape":
        return [np.append(row, 0.0) for row in msgs]
    if kind == "huge":
        return np.full((len(view.byzantine), d), 1e300)
    msgs[:, rng.integers(d)] = np.nan if kind == "nan" else np.inf
    return msgs
