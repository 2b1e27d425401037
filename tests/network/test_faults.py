"""Scripted faults: validation of [[faults]] entries and the schedule's queries."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from bgdsim.config import ScenarioError
from bgdsim.network import faults as F
from tests.conftest import make_scenario

SMALL = {"cluster__workers": 10, "cluster__byzantine": 2, "problem__samples": 1000,
         "server__aggregator__batches": 5}  # fmt: skip


def scenario_error(faults: list[dict[str, Any]], **extra: Any) -> str:
    with pytest.raises(ScenarioError) as info:
        make_scenario(faults=faults, **SMALL, **extra)
    return str(info.value)


@pytest.mark.parametrize(
    ("fault", "fragment"),
    [
        ({"kind": "crash", "workers": [1], "from": 5, "until": 3},
         "faults[0].until: 3 is not after from (5)"),
        ({"kind": "crash", "workers": [12], "from": 1},
         "faults[0].workers: worker 12 is not in 0..9"),
        ({"kind": "crash", "workers": [], "from": 1}, "a fault needs at least one worker"),
        ({"kind": "crash", "workers": [1], "from": 1.5}, "rounds are whole numbers"),
        ({"kind": "byzantine", "workers": [1], "from": 1, "unit": "seconds"},
         "a byzantine fault is given in rounds"),
        ({"kind": "byzantine", "workers": [1, 2, 3], "from": 1},
         "3 forced Byzantine workers but cluster.byzantine (q) is 2"),
        ({"kind": "server_pause", "from": 1, "until": 2},
         "a server_pause is given in seconds"),
        ({"kind": "partition", "workers": [1], "relays": ["relay0"]},
         "only a crash can hit relays"),
        ({"kind": "crash", "relays": ["relay7"]}, "unknown relay 'relay7'"),
        ({"kind": "crash", "workers": [1], "factor": 2.0}, "only a degrade fault takes factor"),
        ({"kind": "meltdown", "workers": [1]}, "faults[0].kind"),
        ({"kind": "crash", "workers": [1], "form": 2}, "faults[0].form: unknown key"),
    ],
)  # fmt: skip
def test_bad_fault_entries_name_the_field(fault: dict[str, Any], fragment: str) -> None:
    assert fragment in scenario_error([fault])


def test_overlapping_faults_of_one_kind_on_a_worker_are_refused() -> None:
    msg = scenario_error([
        {"kind": "crash", "workers": [1, 2], "from": 2, "until": 6},
        {"kind": "crash", "workers": [2], "from": 5, "until": 8},
    ])  # fmt: skip
    assert "faults[1]: overlaps faults[0] (crash of 2 in [2, 6) and [5, 8))" in msg
    # different kinds, or disjoint intervals, are fine
    make_scenario(faults=[
        {"kind": "crash", "workers": [1], "from": 2, "until": 6},
        {"kind": "partition", "workers": [1], "from": 3, "until": 4},
        {"kind": "crash", "workers": [1], "from": 6, "until": 7},
    ], **SMALL)  # fmt: skip


def test_python_constructors_build_the_same_entries() -> None:
    assert F.crash([3], 2, 5) == F.Fault.model_validate(
        {"kind": "crash", "workers": [3], "from": 2, "until": 5}
    )
    assert F.degrade([1], 0, 2, factor=3.0, drop=0.5).factor == 3.0
    assert F.server_pause(1.0, 2.5).unit == "seconds"
    with pytest.raises(ValueError, match=re.escape("until: 1 is not after from (2)")):
        F.partition([0], 2, 1)


def test_schedule_queries() -> None:
    faults = [
        F.crash([1], 2, 4),
        F.partition([2], 1.0, 2.0, unit="seconds"),
        F.degrade([3], 1, None, factor=2.0, drop=0.5),
        F.degrade([3], 0.5, 1.0, factor=3.0, unit="seconds"),
        F.byzantine([4, 5], 3, 4),
        F.server_pause(10.0, 12.0),
    ]
    s = F.FaultSchedule(faults, 6)
    times = np.full(6, 0.7)
    assert s.masks_at("crash", 2, times).tolist() == [0, 1, 0, 0, 0, 0]
    assert not s.masks_at("crash", 4, times).any()
    assert s.masks_at("partition", 9, np.full(6, 1.5))[2]
    assert not s.masks_at("partition", 9, np.full(6, 2.0))[2]
    factor, drop = s.degrade_at(1, times)
    assert factor[3] == 6.0 and drop[3] == 0.5 and factor[0] == 1.0
    assert s.forced_byzantine(3) == [4, 5] and s.forced_byzantine(4) == []
    assert s.pause_end(11.0) == 12.0 and s.pause_end(12.0) == 12.0
    starts, ends = s.round_events(4)
    assert [f.kind for f in ends] == ["crash", "byzantine"] and starts == []
