"""Helpers shared by the attack tests.

Full runs of the paper's scenario aggregated by the mean (fault-free, and under an attack),
and the perturbations of min_max and min_sum written out as a reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import bgdsim
from tests.conftest import ScenarioFactory


def fault_free_mean(paper: ScenarioFactory) -> bgdsim.RunResult:
    """The paper's scenario aggregated by the mean with no Byzantine worker: the floor."""
    return bgdsim.run(paper(server__aggregator="mean", cluster__byzantine=0), log_path=None)


def attacked_mean(
    paper: ScenarioFactory, attack: str, q: int | None = None, **params: Any
) -> bgdsim.RunResult:
    """The paper's scenario aggregated by the mean under ``attack`` with ``params``.

    q Byzantine workers per round (default: the scenario's, 5).
    """
    overrides: dict[str, Any] = {"server__aggregator": "mean"}
    if q is not None:
        overrides["cluster__byzantine"] = q
    return bgdsim.run(
        paper(**overrides, adversary__attack={"kind": attack, **params}), log_path=None
    )


def perturbation(kind: str, rows: np.ndarray) -> np.ndarray:
    """Shejwalkar & Houmansadr's perturbations p over the honest ``rows``, written out."""
    mu = rows.mean(axis=0)
    return {
        "unit_vector": -mu / np.linalg.norm(mu),
        "std": -rows.std(axis=0),
        "sign": -np.sign(mu),
    }[kind]
