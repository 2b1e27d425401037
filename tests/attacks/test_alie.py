"""alie (Baruch, Baruch, Goldberg 2019): μ − z σ over the honest gradients."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from bgdsim import attacks
from bgdsim._params import check_params
from bgdsim.attacks import AdversaryView
from bgdsim.attacks.alie import alie as attack
from bgdsim.attacks.alie import z_max
from tests.attacks._helpers import attacked_mean, fault_free_mean
from tests.conftest import ScenarioFactory


def test_it_is_registered() -> None:
    assert attacks.get("alie") is attack


def view() -> AdversaryView:
    rng = np.random.default_rng(4)
    honest = rng.standard_normal((20, 5)) + np.arange(5)
    honest[[1, 7, 13]] = 1e6  # Byzantine rows do not enter μ and σ
    return AdversaryView(1, np.zeros(5), honest, np.array([1, 7, 13]), 3, "gmom", 5)


def test_z_max_is_the_papers_formula() -> None:
    # s = ⌊n/2 + 1⌋ − f, z_max = Φ^{-1}((n − s)/n)
    assert z_max(100, 5) == pytest.approx(NormalDist().inv_cdf(54 / 100))
    assert z_max(100, 5) == pytest.approx(0.1004, abs=1e-4)
    assert z_max(100, 20) == pytest.approx(0.4959, abs=1e-4)
    assert z_max(20, 3) == pytest.approx(NormalDist().inv_cdf(12 / 20))
    # the paper assumes f < n/2; past it s is clipped to 1 and z stays finite
    assert z_max(10, 8) == pytest.approx(NormalDist().inv_cdf(9 / 10))


def test_every_byzantine_worker_sends_mu_minus_z_max_sigma_by_default() -> None:
    v = view()
    rows = v.honest[v.honest_mask]
    expected = rows.mean(axis=0) - NormalDist().inv_cdf(12 / 20) * rows.std(axis=0)
    out = attack(v, np.random.default_rng(0))
    np.testing.assert_allclose(out, [expected] * 3, rtol=1e-12)


def test_a_given_z_replaces_z_max() -> None:
    v = view()
    rows = v.honest[v.honest_mask]
    out = attack(v, np.random.default_rng(0), z=2.5)
    np.testing.assert_allclose(out[0], rows.mean(axis=0) - 2.5 * rows.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(attack(v, np.random.default_rng(0), z=0.0)[2], rows.mean(axis=0))


def test_default_z_is_none() -> None:
    assert check_params(attack, {}, where="adversary.params") == {"z": None}


@pytest.mark.parametrize("params", [{"z": -0.5}, {"z": math.inf}, {"z": "max"}])
def test_bad_parameters_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"adversary\.params\.z"):
        check_params(attack, params, where="adversary.params")


def test_the_default_shifts_the_means_limit_by_the_predicted_amount(
    paper: ScenarioFactory,
) -> None:
    # Why not 10x at its default: ALIE is built to hide inside the honest spread. Against
    # the mean its bias is (f/m) z_max σ, σ the per-coordinate spread of the honest
    # gradients (≈ 1/√(N/m) = 0.0316 at θ*, ‖σ‖ ≈ √(d m/N) = 0.1), and z_max is small
    # (0.10 at f = 5, 0.50 at f = 20), while the fault-free error is ≈ ‖σ‖/√m = 0.01: the
    # ratio is f z_max/√m ≤ 1 for every f ≤ 20. The strongest honest claim, at q = 20: the
    # limit of the iteration moves by (f/m) z_max ‖σ‖ ≈ 0.2 · 0.496 · 0.1 = 0.0099 from
    # where it is with z = 0 (the same run with the Byzantine workers sending μ_H).
    # Measured (seeds 0–2): 0.0101, 0.0100, 0.0098; final error 1.3x the fault-free one.
    shifted, unshifted = (
        attacked_mean(paper, "alie", q=20),
        attacked_mean(paper, "alie", q=20, z=0.0),
    )
    predicted = 20 / 100 * z_max(100, 20) * math.sqrt(10 * 100 / 100_000)
    moved = float(np.linalg.norm(shifted.thetas[-1] - unshifted.thetas[-1]))
    assert 0.7 * predicted <= moved <= 1.3 * predicted


def test_a_large_z_breaks_the_mean(paper: ScenarioFactory) -> None:
    # z = 10 at q = 20: the bias is 0.2 · 10 · 0.1 = 0.2, twenty floors.
    # Measured (seeds 0–4): 18x to 26x the fault-free error.
    clean = fault_free_mean(paper)
    assert attacked_mean(paper, "alie", q=20, z=10.0).final_error > 10 * clean.final_error
