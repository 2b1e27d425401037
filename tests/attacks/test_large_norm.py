"""large_norm: −scale × the worker's own honest gradient."""

from __future__ import annotations

import numpy as np
import pytest

from bgdsim import attacks
from bgdsim._params import check_params
from bgdsim.attacks import AdversaryView
from bgdsim.attacks.large_norm import large_norm as attack
from tests.attacks._helpers import attacked_mean, fault_free_mean
from tests.conftest import ScenarioFactory


def test_it_is_registered() -> None:
    assert attacks.get("large_norm") is attack


def test_each_byzantine_worker_sends_minus_scale_times_its_own_gradient() -> None:
    honest = np.arange(12, dtype=float).reshape(6, 2)
    v = AdversaryView(1, np.zeros(2), honest, np.array([1, 4]), 2, "gmom", 3)
    np.testing.assert_array_equal(
        attack(v, np.random.default_rng(0), scale=3.0), -3 * honest[[1, 4]]
    )


def test_default_scale_is_one_hundred() -> None:
    assert check_params(attack, {}, where="adversary.params") == {"scale": 100.0}


@pytest.mark.parametrize("params", [{"scale": 0.0}, {"scale": -5.0}, {"scale": float("nan")}])
def test_bad_parameters_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"adversary\.params\.scale"):
        check_params(attack, params, where="adversary.params")


def test_the_default_breaks_the_mean_at_the_papers_q(paper: ScenarioFactory) -> None:
    # q = 5: the mean becomes ≈ (95 − 500)/100 × the honest mean, an ascent step ×4.
    # Measured (seed 0): 1.6e19 vs a fault-free 0.0119.
    clean = fault_free_mean(paper)
    hit = attacked_mean(paper, "large_norm")
    assert hit.final_error > 10 * clean.final_error
