"""Tiny scenarios for the live runtimes (wall-clock runs: keep them small)."""

from __future__ import annotations

from typing import Any

import pytest

from bgdsim.config import Scenario
from tests.conftest import ScenarioFactory, make_scenario


def tiny(**overrides: Any) -> Scenario:
    """m=6, d=3, 3 rounds, constant 10 ms latency, no drops, a generous timeout."""
    base: dict[str, Any] = {
        "rounds": 3,
        "problem__dim": 3,
        "problem__samples": 600,
        "cluster__workers": 6,
        "cluster__byzantine": 1,
        "server__aggregator__batches": 3,
        "server__round_timeout": 100.0,
        "network__latency": {"kind": "constant", "value": 0.01},
        "network__drop": 0.0,
    }
    base.update(overrides)
    return make_scenario(**base)


@pytest.fixture
def live_scenario() -> ScenarioFactory:
    return tiny
