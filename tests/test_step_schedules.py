"""Step-size schedules: η_t by hand, parsed as component tables, logged and verified."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import orjson
import pytest

import bgdsim
from bgdsim import step_schedules
from bgdsim.config import ScenarioError, load_scenario
from bgdsim.config.components import STEP_SCHEDULE, Component
from bgdsim.replay import read_log, rerun, verify
from bgdsim.vector import run_vector
from tests.conftest import ScenarioFactory
from tests.replay.paths import reseal


def test_constant_returns_eta_itself() -> None:
    assert [step_schedules.get("constant")(t, eta=0.3, rounds=5) for t in (1, 5, 9)] == [0.3] * 3


def test_inverse_time_by_hand() -> None:
    fn = step_schedules.get("inverse_time")
    assert [fn(t, eta=1.0, rounds=4) for t in (1, 2, 4)] == [1.0, 0.5, 0.25]  # η/t
    assert fn(3, eta=2.0, rounds=4, decay=0.5) == 1.0  # 2 / (1 + 0.5·2)
    assert fn(4, eta=1.0, rounds=4, power=0.5) == 0.5  # 1 / √4


def test_cosine_by_hand() -> None:
    fn = step_schedules.get("cosine")
    # T = 4: (1 + cos(π·0/4))/2 = 1, (1 + cos(π/2))/2 = 1/2, (1 + cos(π))/2 = 0
    assert fn(1, eta=2.0, rounds=4) == 2.0
    assert fn(3, eta=2.0, rounds=4) == pytest.approx(1.0, abs=1e-15)
    assert fn(5, eta=2.0, rounds=4) == 0.0
    # η_min = 0.25·2 = 0.5; past the period it stays there
    assert fn(3, eta=2.0, rounds=9, period=4, min_factor=0.25) == pytest.approx(1.25, abs=1e-15)
    assert fn(9, eta=2.0, rounds=9, period=4, min_factor=0.25) == 0.5
    half = fn(2, eta=1.0, rounds=4)
    assert half == (1 + math.cos(math.pi / 4)) / 2


def test_a_schedule_is_a_component_table() -> None:
    assert STEP_SCHEDULE.parse("inverse_time") == Component(
        "inverse_time", {"decay": 1.0, "power": 1.0}
    )
    sc = load_scenario(
        None, ["server.step_schedule=inverse_time", "server.step_schedule.decay=0.5"]
    )
    assert sc.server.step_schedule == Component("inverse_time", {"decay": 0.5, "power": 1.0})
    sc = load_scenario(None, {"server.step_schedule": {"kind": "cosine", "period": 10}})
    assert sc.server.step_schedule == Component("cosine", {"period": 10, "min_factor": 0.0})
    assert sc.to_dict()["server"]["step_schedule"] == {"kind": "cosine", "period": 10,
                                                       "min_factor": 0.0}  # fmt: skip
    assert "step_schedule" not in load_scenario(None).to_dict()["server"]  # unset: constant


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("cosin", "server.step_schedule: unknown step schedule 'cosin' (did you mean 'cosine'?)"),
        ({"kind": "inverse_time", "decay": 0}, "server.step_schedule.decay: Input should be "),
        ({"kind": "cosine", "eta": 1.0}, "server.step_schedule.eta: supplied by the simulator"),
        ({"kind": "constant", "decay": 1.0}, "the step_schedule 'constant' has no parameter"),
    ],
)
def test_a_bad_schedule_names_the_field(value: object, message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load_scenario(None, {"server.step_schedule": value})


COSINE = {"kind": "cosine", "min_factor": 0.1}


def test_every_update_logs_its_eta_t_and_the_log_verifies(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(rounds=5, server__step_size=0.4, server__step_schedule=COSINE)
    result = bgdsim.run(sc, log_path=tmp_path / "s.jsonl")
    run_vector(sc, log_path=tmp_path / "v.jsonl")
    assert (tmp_path / "s.jsonl").read_bytes() == (tmp_path / "v.jsonl").read_bytes()
    events = list(read_log(tmp_path / "s.jsonl", payloads=True))
    etas = [e["step_size"] for e in events if e["event"] == "update"]
    assert etas == [step_schedules.get("cosine")(t, eta=0.4, rounds=5, min_factor=0.1)
                    for t in range(1, 6)]  # fmt: skip
    aggs = [e["payload"] for e in events if e["event"] == "aggregate"]
    np.testing.assert_array_equal(result.thetas[2], result.thetas[1] - etas[1] * aggs[1])
    assert events[0]["step_size"] == 0.4  # the header keeps the base η
    assert verify(tmp_path / "s.jsonl").ok


def test_a_tampered_step_size_is_caught(scenario: ScenarioFactory, tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    bgdsim.run(scenario(rounds=3, server__step_schedule="inverse_time"), log_path=path)
    lines = path.read_bytes().splitlines(keepends=True)
    for i, raw in enumerate(lines):
        e = orjson.loads(raw)
        if e["event"] == "update" and e["round"] == 2:
            e["step_size"] = 0.5  # the constant step, where η_2 = 0.25 was taken
            lines[i] = orjson.dumps(e) + b"\n"
    path.write_bytes(b"".join(lines))
    reseal(path, lambda r, t: None)
    check = verify(path)
    assert check.mismatch == (2, "step_size", "recorded 0.5, recomputed η_2 = 0.25")


def test_a_rerun_may_change_the_schedule(scenario: ScenarioFactory, tmp_path: Path) -> None:
    parent = tmp_path / "p.jsonl"
    bgdsim.run(scenario(rounds=3), log_path=parent)
    child = tmp_path / "c.jsonl"
    rerun(parent, ["server.step_schedule=inverse_time", "server.step_schedule.power=0.5"],
          log_path=child)  # fmt: skip
    etas = [e["step_size"] for e in read_log(child) if e["event"] == "update"]
    assert etas == [0.5, 0.5 / math.sqrt(2), 0.5 / math.sqrt(3)]
    assert verify(child).ok
