"""Centered clipping around the previous aggregate: a rule with history."""

from __future__ import annotations

import numpy as np
import pytest

from bgdsim import aggregators
from bgdsim._params import check_params
from bgdsim.aggregators.centered_clipping import centered_clipping
from bgdsim.aggregators.centered_clipping_history import centered_clipping_history as cch
from bgdsim.config.components import AGGREGATOR


def test_registered_as_a_rule_with_history() -> None:
    assert aggregators.get("centered_clipping_history") is cch
    assert aggregators.stateful(cch) and not aggregators.stateful(centered_clipping)
    assert check_params(cch, {}, where="p", supplied=aggregators.SUPPLIED) == {
        "tau": None,
        "iters": 1,
        "start": "zero",
    }
    with pytest.raises(ValueError, match="state: supplied by the simulator"):
        AGGREGATOR.parse({"kind": "centered_clipping_history", "state": [0.0]})


def test_by_hand_from_the_previous_aggregate() -> None:
    x = np.array([[0.0], [1.0], [10.0]])
    # centre 1: differences -1, 0, 9 clipped to -1, 0, 1; their mean is 0
    agg, state = cch(x, state=np.array([1.0]), tau=1.0)
    assert agg.tolist() == [1.0] and state.tolist() == [1.0]
    # centre 0: differences 0, 1, 10 clipped to 0, 1, 1; v = 2/3
    assert cch(x, state=np.array([0.0]), tau=1.0)[0].tolist() == [2 / 3]
    # two steps from 0 on (0, 0, 0, 10): 0.25, then 0.25 + (3·(−0.25) + 1)/4
    y = np.array([[0.0], [0.0], [0.0], [10.0]])
    assert cch(y, state=np.array([0.0]), tau=1.0, iters=2)[0].tolist() == [0.3125]
    # the Euclidean norm: (3, 4) − 0 is clipped to (0.6, 0.8)
    z = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(cch(z, state=np.zeros(2), tau=1.0)[0], [0.2, 0.8 / 3], rtol=1e-15)


def test_the_first_round_starts_from_zero_or_the_coordinate_median() -> None:
    x = np.array([[0.0], [2.0], [4.0]])
    # from 0, default τ = median of 0, 2, 4 = 2: clipped 0, 2, 2, mean 4/3
    assert cch(x)[0].tolist() == [4 / 3]
    # from the median 2: differences -2, 0, 2, τ = 2, mean 0
    assert cch(x, start="coordinate_median")[0].tolist() == [2.0]


def test_the_state_is_a_copy_and_must_match_d() -> None:
    x = np.array([[0.0, 0.0], [2.0, 2.0]])
    agg, state = cch(x, tau=1.0)
    state[0] = 99.0
    assert agg[0] != 99.0
    with pytest.raises(ValueError, match=r"state has shape \(3,\), reports have d = 2"):
        cch(x, state=np.zeros(3))
    with pytest.raises(ValueError, match="tau > 0"):
        cch(x, tau=-1.0)
    with pytest.raises(ValueError, match="iters >= 1"):
        cch(x, iters=0)


def test_call_runs_it_as_in_its_first_round() -> None:
    x = np.array([[0.0], [2.0], [4.0]])
    out = aggregators.call(cch, x, {"tau": 1.0}, f=1, seed=0)
    assert out.tolist() == [2 / 3]  # from 0: clipped 0, 1, 1
