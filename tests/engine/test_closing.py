"""How a round's close is logged: a rule with history writes its state, no other rule does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import bgdsim
from bgdsim.replay import read_log
from bgdsim.vector import run_vector
from tests.conftest import ScenarioFactory

HISTORY = {"kind": "centered_clipping_history", "tau": 0.5}
LOSSY = {
    "network__drop": 0.05,
    "network__latency": {"kind": "exponential", "mean": 0.2},
    "server__round_timeout": 0.5,
}


def aggregates(path: Path) -> list[dict[str, Any]]:
    return [e for e in read_log(path, payloads=True) if e["event"] == "aggregate"]


def test_a_rule_with_history_logs_its_state_the_same_on_every_runtime(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(rounds=6, server__aggregator=HISTORY, adversary__attack="min_max", **LOSSY)
    result = bgdsim.run(sc, log_path=tmp_path / "s.jsonl")
    run_vector(sc, log_path=tmp_path / "v.jsonl")
    assert (tmp_path / "s.jsonl").read_bytes() == (tmp_path / "v.jsonl").read_bytes()
    assert (tmp_path / "s.bin").read_bytes() == (tmp_path / "v.bin").read_bytes()
    found = aggregates(tmp_path / "s.jsonl")
    assert len(found) == 6
    for e in found:  # centered clipping's state is its aggregate v_t
        np.testing.assert_array_equal(e["state"], e["payload"])
    steps = np.diff(result.thetas, axis=0)
    np.testing.assert_allclose(steps[-1], -0.5 * found[-1]["payload"], rtol=0, atol=1e-12)
    assert bgdsim.verify(tmp_path / "s.jsonl").ok


def test_each_round_starts_from_the_last_sealed_state(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(rounds=3, cluster__byzantine=0, server__aggregator=HISTORY)
    run_vector(sc, log_path=tmp_path / "h.jsonl")
    events = list(read_log(tmp_path / "h.jsonl", payloads=True))
    states = [np.zeros(5)] + [e["state"] for e in events if e["event"] == "aggregate"]
    rule = bgdsim.aggregators.get("centered_clipping_history")
    assert len(states) == 4
    honest = bgdsim.run(sc, log_path=False)  # the same honest reports, recomputed here
    world = bgdsim.engine.World(sc)
    for t in range(3):
        reports = world.workers.messages(honest.thetas[t])
        v, _ = rule(reports, state=states[t], tau=0.5)
        np.testing.assert_array_equal(v, states[t + 1])


def test_other_rules_log_no_state(scenario: ScenarioFactory, tmp_path: Path) -> None:
    bgdsim.run(
        scenario(rounds=2, server__aggregator="centered_clipping"), log_path=tmp_path / "c.jsonl"
    )
    assert b'"state"' not in (tmp_path / "c.jsonl").read_bytes()
    assert all("state" not in e for e in aggregates(tmp_path / "c.jsonl"))
