"""zero: zero vectors, which against the mean only shrink the step."""

from __future__ import annotations

import numpy as np
import pytest

from bgdsim import attacks
from bgdsim._params import check_params
from bgdsim.aggregators.mean import mean
from bgdsim.attacks import AdversaryView
from bgdsim.attacks.zero import zero as attack
from tests.attacks._helpers import attacked_mean, fault_free_mean
from tests.conftest import ScenarioFactory


def test_it_is_registered() -> None:
    assert attacks.get("zero") is attack


def test_each_byzantine_worker_sends_the_zero_vector() -> None:
    honest = np.arange(12, dtype=float).reshape(6, 2)
    v = AdversaryView(1, np.zeros(2), honest, np.array([1, 4]), 2, "gmom", 3)
    np.testing.assert_array_equal(attack(v, np.random.default_rng(0)), np.zeros((2, 2)))


def test_it_takes_no_parameters() -> None:
    assert check_params(attack, {}, where="adversary.params") == {}
    with pytest.raises(ValueError, match=r"adversary\.params\.scale: unknown parameter"):
        check_params(attack, {"scale": 1.0}, where="adversary.params")


def test_against_the_mean_the_aggregate_is_the_honest_mean_scaled_by_the_honest_share() -> None:
    rng = np.random.default_rng(2)
    honest = rng.standard_normal((20, 3))
    byz = np.array([0, 9, 19])
    v = AdversaryView(1, np.zeros(3), honest, byz, 3, "mean", 1)
    reports = honest.copy()
    reports[byz] = attack(v, rng)
    np.testing.assert_allclose(mean(reports), 17 / 20 * v.honest_mean(), rtol=1e-12)


def test_zero_reports_slow_the_mean_but_do_not_move_its_limit(paper: ScenarioFactory) -> None:
    # Zero reports cannot push the mean past its floor at any q < m: the aggregate is
    # (m − q)/m × the honest mean, a shorter descent step. What they do: the contraction
    # per round becomes 1 − η (m − q)/m = 0.6 at q = 20 (0.5 fault-free), and the limit
    # stays at the floor. Measured (seed 0): ratios 0.602, 0.601, 0.605, 0.596, 0.602;
    # final error 0.0113 vs 0.0119.
    clean = fault_free_mean(paper)
    hit = attacked_mean(paper, "zero", q=20)
    np.testing.assert_allclose(hit.errors[1:6] / hit.errors[:5], 0.6, atol=0.02)
    np.testing.assert_allclose(clean.errors[1:4] / clean.errors[:3], 0.5, atol=0.02)
    assert hit.errors[5] > 2 * clean.errors[5]
    assert hit.final_error < 1.5 * clean.final_error
