"""Data poisoning: the honest computation on corrupted local data."""

from __future__ import annotations

import numpy as np
import pytest

import bgdsim
from bgdsim import problems
from bgdsim._params import check_params
from bgdsim.attacks import AdversaryView
from bgdsim.attacks.data_poison import data_poison
from bgdsim.config import ProblemConfig
from tests.attacks._helpers import attacked_mean, fault_free_mean
from tests.conftest import ScenarioFactory


def linear() -> problems.Problem:
    cfg = ProblemConfig.model_validate({"dim": 3, "samples": 600})
    return problems.build(cfg, 6, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("kind", "strength", "transform"),
    [
        ("flip", 10.0, lambda y: -10 * y),
        ("shift", 2.0, lambda y: y + 2),
        ("scale", 3.0, lambda y: 3 * y),
    ],
)
def test_linear_corruptions_are_the_documented_ones(
    kind: str, strength: float, transform: object
) -> None:
    p = linear()
    theta = np.array([0.5, -1.0, 2.0])
    workers = np.array([1, 4])
    got = p.corrupted_gradients(theta, workers, kind=kind, strength=strength)
    for row, j in zip(got, workers, strict=True):
        w, y = p.covariates[j], transform(p.responses[j])  # type: ignore[operator]
        np.testing.assert_allclose(row, w.T @ (w @ theta - y) / len(y), rtol=1e-12)


def test_logistic_flip_and_unsupported_kinds() -> None:
    cfg = ProblemConfig.model_validate({"kind": "logistic_regression", "dim": 3, "samples": 600})
    p = problems.build(cfg, 6, np.random.default_rng(0))
    theta = np.array([0.5, -1.0, 2.0])
    got = p.corrupted_gradients(theta, np.array([2]), kind="flip", strength=1.0)
    w, y = p.covariates[2], 1 - p.labels[2]  # type: ignore[attr-defined]
    s = 1 / (1 + np.exp(-(w @ theta)))
    np.testing.assert_allclose(got[0], w.T @ (s - y) / len(y), rtol=1e-10)
    with pytest.raises(ValueError, match="supported: flip"):
        p.corrupted_gradients(theta, np.array([2]), kind="shift", strength=1.0)


def test_the_attack_asks_the_view_for_the_corrupted_gradients() -> None:
    p = linear()
    theta = np.zeros(3)
    v = AdversaryView(
        1, theta, p.gradients(theta), np.array([0, 5]), 2, "mean", 1,
        corrupted=lambda ws, c, s: p.corrupted_gradients(theta, ws, kind=c, strength=s),
    )  # fmt: skip
    got = data_poison(v, np.random.default_rng(0), corruption="scale", strength=-1.0)
    np.testing.assert_allclose(
        got, p.corrupted_gradients(theta, np.array([0, 5]), kind="scale", strength=-1.0)
    )
    with pytest.raises(ValueError, match="Input should be 'flip', 'shift' or 'scale'"):
        check_params(data_poison, {"corruption": "noise"}, where="adversary.params")


def test_default_poisoning_pushes_the_mean_far_past_the_fault_free_floor(
    paper: ScenarioFactory,
) -> None:
    clean = fault_free_mean(paper)
    hit = attacked_mean(paper, "data_poison")
    assert hit.final_error > 10 * clean.final_error
    robust = bgdsim.run(paper(adversary__attack="data_poison"), log_path=None)
    assert robust.final_error < 3 * np.sqrt(10 * 20 / 100_000)
