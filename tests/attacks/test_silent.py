"""silent: no message; the server's missing-report policy fills the gap."""

from __future__ import annotations

import numpy as np
import pytest

import bgdsim
from bgdsim import attacks
from bgdsim._params import check_params
from bgdsim.attacks import AdversaryView
from bgdsim.attacks.silent import silent as attack
from tests.conftest import ScenarioFactory


def test_it_is_registered() -> None:
    assert attacks.get("silent") is attack


def test_silence_is_none() -> None:
    honest = np.arange(12, dtype=float).reshape(6, 2)
    v = AdversaryView(1, np.zeros(2), honest, np.array([1, 4]), 2, "gmom", 3)
    assert attack(v, np.random.default_rng(0)) is None


def test_it_takes_no_parameters() -> None:
    assert check_params(attack, {}, where="adversary.params") == {}
    with pytest.raises(ValueError, match=r"adversary\.params\.kind: unknown parameter"):
        check_params(attack, {"kind": "nan"}, where="adversary.params")


def test_silent_workers_produce_missing_reports(scenario: ScenarioFactory) -> None:
    result = bgdsim.run(scenario(adversary__attack="silent"), log_path=None)
    assert result.counts["up_sent"] == 5 * (20 - 2)
    assert result.counts["barrier_timeout"] == 5
