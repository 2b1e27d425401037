"""Shared fixtures: small scenarios built from the defaults plus dotted overrides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bgdsim
from bgdsim.config import Scenario

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = ROOT / "scenarios" / "paper_linear_regression.toml"

ScenarioFactory = Callable[..., Scenario]


def make_scenario(path: Path | None = None, **overrides: Any) -> Scenario:
    """A scenario from ``path`` (default: built-in defaults) with ``a__b=v`` → ``a.b=v``."""
    dotted = {k.replace("__", "."): v for k, v in overrides.items()}
    return bgdsim.load_scenario(path, overrides=dotted)


@pytest.fixture
def scenario() -> ScenarioFactory:
    """Factory for small, fast scenarios: m=20, N=4000, d=5, 5 rounds unless overridden."""

    def build(**overrides: Any) -> Scenario:
        base: dict[str, Any] = {
            "rounds": 5,
            "problem__dim": 5,
            "problem__samples": 4000,
            "cluster__workers": 20,
            "cluster__byzantine": 2,
            "server__aggregator__batches": 5,
        }
        base.update(overrides)
        return make_scenario(**base)

    return build


@pytest.fixture
def paper() -> ScenarioFactory:
    """Factory for the paper's default scenario file with overrides."""

    def build(**overrides: Any) -> Scenario:
        return make_scenario(DEFAULT_SCENARIO, **overrides)

    return build


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run the long fits marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` run only with ``--run-slow`` or when ``-m`` names them."""
    if config.getoption("--run-slow") or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (or -m slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
