"""A constant-drift attack: every Byzantine worker sends the honest mean pushed along 1/√d."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from bgdsim.attacks import AdversaryView

__all__ = ["constant_drift"]


def constant_drift(
    view: AdversaryView,
    rng: np.random.Generator,
    *,
    shift: Annotated[float, Field(allow_inf_nan=False)] = 5.0,
) -> np.ndarray:
    """Each Byzantine worker sends μ_H + shift · ‖μ_H‖ · 1/√d.

    μ_H is the mean of the round's honest gradients: the messages agree with the honest
    ones in scale and drift in one fixed direction, round after round.

    Args:
        view: the adversary's view of the round.
        rng: the attack's random stream (unused: the attack is deterministic).
        shift: how far to push, in units of ‖μ_H‖ (default 5).

    Returns:
        The ``(|B_t|, d)`` messages.
    """
    mu = view.honest_mean()
    direction = np.full(view.dim, 1.0 / np.sqrt(view.dim))
    message = mu + shift * float(np.linalg.norm(mu)) * direction
    return np.tile(message, (len(view.byzantine), 1))
