"""Re-running a log's recorded world against another defence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bgdsim
from bgdsim.cli import main
from bgdsim.config import ScenarioError
from bgdsim.replay import diff, read_log, rerun, verify
from tests.conftest import ScenarioFactory

WORLD = {
    "network__drop": 0.1,
    "network__latency": {"kind": "exponential", "mean": 0.2},
    "server__round_timeout": 0.5,
    "adversary__attack": "gaussian",
    "cluster__compute_time": {"kind": "exponential", "mean": 0.05},
}


@pytest.fixture
def parent(scenario: ScenarioFactory, tmp_path: Path) -> Path:
    path = tmp_path / "parent.jsonl"
    bgdsim.run(scenario(rounds=6, **WORLD), log_path=path)
    return path


def world(path: Path) -> dict[str, Any]:
    events = list(read_log(path, payloads=True))
    return {
        "sets": [e["workers"] for e in events if e["event"] == "byzantine_set"],
        "drops": sorted((e["round"], e["worker"], e["dir"], e["reason"])
                        for e in events if e["event"] == "drop"),
        "down": [e["latency"] for e in events if e["event"] == "broadcast"],
        "up": sorted((e["round"], e["worker"], e["latency"]) for e in events
                     if e["event"] == "send"),
    }  # fmt: skip


def test_a_rerun_with_the_same_keys_reproduces_the_log(parent: Path, tmp_path: Path) -> None:
    child = tmp_path / "child.jsonl"
    rerun(parent, {}, log_path=child)
    assert diff(parent, child).identical
    header = next(read_log(child))
    assert header["parent"]["log"] == "parent.jsonl"
    assert parent.with_suffix(".bin").read_bytes() == child.with_suffix(".bin").read_bytes()
    assert verify(child).ok


@pytest.mark.parametrize(
    "change",
    [{"server.aggregator": "mean"}, {"server.aggregator": "krum"},
     {"server.round_timeout": 2.0, "server.missing": "exclude"},
     {"server.barrier": "quorum", "server.quorum": 10, "server.aggregator.batches": 4}],
)  # fmt: skip
def test_another_defence_sees_the_same_world(
    parent: Path, tmp_path: Path, change: dict[str, Any]
) -> None:
    child = tmp_path / "child.jsonl"
    result = rerun(parent, change, log_path=child)
    assert result.status == "completed"
    w_parent, w_child = world(parent), world(child)
    assert w_child["sets"] == w_parent["sets"]
    assert w_child["drops"] == w_parent["drops"]
    for a, b in zip(w_child["down"], w_parent["down"], strict=True):
        np.testing.assert_array_equal(a, b)
    assert w_child["up"] == w_parent["up"]
    assert verify(child).ok
    changed = diff(parent, child)
    assert set(changed.scenario) == set(change)  # the server differs, by design


@pytest.mark.parametrize(
    "key",
    ["cluster.workers=10", "seed=3", "problem.dim=3", "network.drop=0.5", "adversary.attack=zero"],
)
def test_keys_that_would_change_the_recorded_world_are_refused(parent: Path, key: str) -> None:
    with pytest.raises(ScenarioError, match="not a key a re-run can change"):
        rerun(parent, [key], log_path=None)


def test_cannot_rerun_more_rounds_than_recorded(parent: Path) -> None:
    with pytest.raises(ScenarioError, match="the parent log has 6 complete rounds"):
        rerun(parent, {"rounds": 7}, log_path=None)


def test_cli_rerun(parent: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "w.jsonl"
    rc = main(["replay", str(parent), "--set", "server.aggregator=mean", "--log-out", str(out),
               "--json"])  # fmt: skip
    assert rc == 0 and out.exists()
    assert '"final_error"' in capsys.readouterr().out
    rc = main(["replay", str(parent), "--set", "cluster.workers=3"])
    assert rc == 2 and "not a key a re-run can change" in capsys.readouterr().err
