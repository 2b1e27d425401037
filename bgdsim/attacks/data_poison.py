"""Data poisoning: the honest protocol on corrupted local data.

The paper's model lets a Byzantine machine's *data* be corrupted as well as its messages
(Chen, Su, Xu 2017, §1.2). Here each Byzantine worker of the round runs the honest
computation, ∇f̄_j(θ), on a corrupted copy of its local samples — nothing it sends is
malformed or out of scale, which is what makes such workers hard to spot.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from bgdsim.attacks import AdversaryView, register


@register("data_poison")
def data_poison(
    view: AdversaryView,
    rng: np.random.Generator,
    *,
    corruption: Literal["flip", "shift", "scale"] = "flip",
    strength: Annotated[float, Field(allow_inf_nan=False)] = 10.0,
) -> np.ndarray:
    """Gradients of the Byzantine workers' corrupted local data at θ_{t-1}.

    ``corruption`` (named so: ``kind`` names the attack in its table). Linear
    regression: ``flip`` y → −strength·y (flipped and amplified responses),
    ``shift`` y → y + strength, ``scale`` y → strength·y. Logistic regression: ``flip``
    turns every label y into 1 − y (strength unused). See
    ``Problem.corrupted_gradients``.
    """
    if view.corrupted is None:
        raise ValueError("data_poison needs the problem's data in the adversary's view")
    return view.corrupted(view.byzantine, corruption, strength)
