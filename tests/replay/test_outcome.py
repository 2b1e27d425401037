"""The verifier's check of a round's outcome: a rule's state, recomputed bit for bit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

import bgdsim
from bgdsim.replay import rerun, verify
from tests.conftest import ScenarioFactory
from tests.replay.paths import reseal

HISTORY = {"kind": "centered_clipping_history", "tau": 0.5}


@pytest.fixture
def history_log(scenario: ScenarioFactory, tmp_path: Path) -> Path:
    path = tmp_path / "h.jsonl"
    sc = scenario(rounds=4, server__aggregator=HISTORY, adversary__attack="alie")
    bgdsim.run(sc, log_path=path)
    return path


def edit_round(path: Path, t: int, edit: Callable[[dict[str, Any], dict[str, Any]], None]) -> None:
    """Apply ``edit(aggregate, update)`` to round t's lines and re-seal the log."""
    lines = path.read_bytes().splitlines(keepends=True)
    events = [orjson.loads(raw) for raw in lines]
    found = {e["event"]: i for i, e in enumerate(events) if e.get("round") == t}
    agg, upd = events[found["aggregate"]], events[found["update"]]
    edit(agg, upd)
    for i in (found["aggregate"], found["update"]):
        lines[i] = orjson.dumps(events[i]) + b"\n"
    path.write_bytes(b"".join(lines))
    reseal(path, lambda r, table: None)


def test_a_log_with_history_verifies(history_log: Path) -> None:
    check = verify(history_log)
    assert check.ok and check.rounds == 4, check.message()


def test_a_tampered_state_is_caught(history_log: Path) -> None:
    def swap(agg: dict[str, Any], upd: dict[str, Any]) -> None:
        agg["state"] = upd["theta"]  # a well-formed (d,) vector, but not v_t

    edit_round(history_log, 3, swap)
    check = verify(history_log)
    assert check.mismatch is not None and check.mismatch[:2] == (3, "state"), check.message()
    assert check.rounds == 2


def test_a_missing_state_is_caught(history_log: Path) -> None:
    edit_round(history_log, 2, lambda agg, upd: agg.pop("state"))
    check = verify(history_log)
    assert check.mismatch == (2, "state", "the rule's state is not recorded")


def test_a_state_on_a_rule_without_history_is_caught(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = tmp_path / "m.jsonl"
    bgdsim.run(scenario(rounds=2), log_path=path)
    edit_round(path, 1, lambda agg, upd: agg.update(state=agg["payload"]))
    check = verify(path)
    assert check.mismatch == (1, "state", "recorded a rule state, but the rule keeps none")


@pytest.mark.parametrize(
    ("first", "second"), [(HISTORY, {"kind": "gmom", "batches": 5}), ("mean", HISTORY)]
)
def test_a_rerun_against_another_defence_starts_from_the_recorded_world(
    scenario: ScenarioFactory, tmp_path: Path, first: Any, second: Any
) -> None:
    parent = tmp_path / "p.jsonl"
    bgdsim.run(scenario(rounds=4, server__aggregator=first, network__drop=0.05), log_path=parent)
    child = tmp_path / "c.jsonl"
    result = rerun(parent, {"server.aggregator": second}, log_path=child)
    assert result.status == "completed" and verify(child).ok
    sets = [
        [e["workers"] for e in bgdsim.read_log(p) if e["event"] == "byzantine_set"]
        for p in (parent, child)
    ]
    assert sets[0] == sets[1]
    has_state = [b'"state"' in p.read_bytes() for p in (parent, child)]
    assert has_state == [first is HISTORY, second is HISTORY]
