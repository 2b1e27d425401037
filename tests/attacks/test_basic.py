"""The elementary attacks: each against its formula, and each breaking the mean."""

from __future__ import annotations

import numpy as np
import pytest

import bgdsim
from bgdsim import attacks
from bgdsim.attacks import AdversaryView
from tests.conftest import ScenarioFactory


def view() -> AdversaryView:
    honest = np.arange(12, dtype=float).reshape(6, 2)
    return AdversaryView(1, np.zeros(2), honest, np.array([1, 4]), 2, "gmom", 3)


def test_formulas() -> None:
    v, rng = view(), np.random.default_rng(0)
    honest_mean = v.honest[[0, 2, 3, 5]].mean(axis=0)
    np.testing.assert_array_equal(
        attacks.get("sign_flip")(v, rng, scale=2.0), [-2 * honest_mean] * 2
    )
    np.testing.assert_array_equal(
        attacks.get("large_norm")(v, rng, scale=3.0), -3 * v.honest[[1, 4]]
    )
    np.testing.assert_array_equal(attacks.get("zero")(v, rng), np.zeros((2, 2)))
    assert attacks.get("silent")(v, rng) is None
    g = attacks.get("gaussian")(v, rng, scale=5.0)
    assert g.shape == (2, 2)


def test_gaussian_has_the_stated_spread() -> None:
    v = AdversaryView(1, np.zeros(50), np.zeros((400, 50)), np.arange(200), 200, "mean", 1)
    g = attacks.get("gaussian")(v, np.random.default_rng(0), scale=5.0)
    assert g.std() == pytest.approx(5.0, rel=0.02)


@pytest.mark.parametrize(
    ("attack", "params"),
    [
        ("sign_flip", {"scale": 100.0}),
        ("large_norm", {"scale": 1000.0}),
        ("gaussian", {"scale": 100.0}),
    ],
)
def test_each_value_attack_pushes_the_mean_far_past_the_fault_free_floor(
    scenario: ScenarioFactory, attack: str, params: dict[str, float]
) -> None:
    common = {"server__aggregator": "mean", "rounds": 15, "problem__samples": 20_000}
    clean = bgdsim.run(scenario(cluster__byzantine=0, **common), log_path=None)
    hit = bgdsim.run(
        scenario(adversary__attack=attack, adversary__params=params, **common), log_path=None
    )
    assert hit.final_error > 10 * clean.final_error


def test_silent_workers_produce_missing_reports(scenario: ScenarioFactory) -> None:
    result = bgdsim.run(scenario(adversary__attack="silent"), log_path=None)
    assert result.counts["up_sent"] == 5 * (20 - 2)
    assert result.counts["barrier_timeout"] == 5
