"""Malformed messages: reports the server must refuse or survive.

Chen, Su, Xu (2017) §1.2 lets a Byzantine machine send anything; a real server must also
cope with messages that are not vectors of the right size or not finite.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from bgdsim.attacks import AdversaryView, register

__all__ = ["malformed"]


@register("malformed")
def malformed(
    view: AdversaryView,
    rng: np.random.Generator,
    *,
    defect: Literal["nan", "inf", "shape", "huge"] = "nan",
) -> np.ndarray | list[np.ndarray]:
    """Byzantine workers send messages the server must refuse or survive.

    ``defect`` (named so: ``kind`` names the attack in its table) — ``nan``/``inf``: the
    honest gradient with one entry replaced by NaN/Inf; ``shape``: a
    vector one entry too long; ``huge``: finite entries of magnitude 1e300 (rejected only
    if ``server.max_norm`` is set). Tests the server's validation, not the aggregator.
    """
    d = view.honest.shape[1]
    msgs = view.honest[view.byzantine].copy()
    if defect == "shape":
        return [np.append(row, 0.0) for row in msgs]
    if defect == "huge":
        return np.full((len(view.byzantine), d), 1e300)
    msgs[:, rng.integers(d)] = np.nan if defect == "nan" else np.inf
    return msgs
