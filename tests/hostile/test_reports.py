"""Reports a rogue worker can put on the wire are rejected, counted and verifiable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bgdsim
from bgdsim.engine import Opened, RoundEngine, World
from bgdsim.eventlog import EventLog
from tests.conftest import ScenarioFactory

HOSTILE = {
    "int64-min": np.full(5, -(2**63), dtype=np.int64),
    "float128": np.full(5, np.longdouble("1e4000")),
    "0-d": np.array(1.0),
    "huge-empty": np.empty((2**40, 0)),
    "big-endian": np.ones(5, dtype=">f8"),
    "float16": np.ones(5, dtype=np.float16),
    "bool": np.ones(5, dtype=bool),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_report_is_rejected_counted_and_the_log_verifies(
    scenario: ScenarioFactory, tmp_path: Path, name: str
) -> None:
    sc = scenario(rounds=1, server__max_norm=1e6)
    path = tmp_path / "hostile.jsonl"
    with EventLog(path) as log:
        engine = RoundEngine(World(sc), log, write_block=False)
        engine.start(0.0)
        opened = engine.begin_round(0.0)
        assert isinstance(opened, Opened)
        plan = opened.plan
        engine.deliver(plan, list(range(engine.m)), 0.01)
        outcome, _ = engine.remote_report(0, 1, HOSTILE[name], 0.02)
        assert outcome.value == "rejected"
        for j in range(1, engine.m):
            engine.remote_report(j, 1, plan.outgoing[j], 0.02)
        assert engine.barrier.fired  # every worker heard from, the rogue one included
        engine.end_round(0.02)
        result = engine.finish(0.02, path)
    assert result.counts["up_rejected"] == 1
    assert bool(np.isfinite(result.thetas).all())
    check = bgdsim.verify(path)
    assert check.ok and check.complete, check.message()
