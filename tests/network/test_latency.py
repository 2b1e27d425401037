"""Latency models: each against its distribution (KS), validation of parameters."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from scipy import stats

from bgdsim.network import latencies, parse_latency


@pytest.mark.parametrize(
    ("spec", "dist"),
    [
        ({"kind": "uniform", "low": 0.1, "high": 0.3}, stats.uniform(0.1, 0.2)),
        ({"kind": "exponential", "mean": 0.05, "shift": 0.01}, stats.expon(0.01, 0.05)),
        (
            {"kind": "lognormal", "mu": -3.0, "sigma": 0.7, "shift": 0.002},
            stats.lognorm(0.7, loc=0.002, scale=np.exp(-3.0)),
        ),
    ],
    ids=["uniform", "exponential", "lognormal"],
)
def test_samples_follow_the_distribution(spec: dict[str, Any], dist: Any) -> None:
    model = parse_latency(spec)
    x = model.sample(np.random.default_rng(0), 20_000)
    assert stats.kstest(x, dist.cdf).pvalue > 1e-3
    assert model.expected() == pytest.approx(dist.mean())
    assert x.min() >= 0


def test_constant() -> None:
    model = parse_latency({"kind": "constant", "value": 0.25})
    np.testing.assert_array_equal(model.sample(np.random.default_rng(0), 3), [0.25] * 3)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"kind": "constant", "value": -1}, "value: Input should be greater than or equal to 0"),
        ({"kind": "exponential", "mean": 0}, "mean: Input should be greater than 0"),
        ({"kind": "uniform", "low": 2, "high": 1}, "high (1.0) must be >= low (2.0)"),
        ({"kind": "lognormal", "sigma": -1}, "sigma"),
        ({"kind": "constant", "valu": 1}, "unknown parameter of constant latency; allowed: value"),
        ({"kind": "gauss"}, "unknown latency model 'gauss'"),
        ({"kind": 3}, "kind must be a string"),
        ("fast", "must be a table"),
    ],
)
def test_bad_parameters_are_named(spec: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_latency(spec)


def test_registry_lists_the_core_models() -> None:
    assert {"constant", "uniform", "exponential", "lognormal"} <= set(latencies.names())
