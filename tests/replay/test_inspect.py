"""``replay --round T``: which batch each worker's report fell in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bgdsim
from bgdsim.aggregators import geometric_median
from bgdsim.replay import read_log, timeline
from bgdsim.replay.inspect import batches
from tests.conftest import ScenarioFactory


def test_batches_in_worker_order(scenario: ScenarioFactory) -> None:
    sc = scenario(
        cluster__workers=6, problem__samples=600, server__aggregator={"kind": "gmom", "batches": 3}
    )
    assert batches(sc, [1], None) == [0, 0, 1, 1, 2, 2]  # a zeroed row keeps its place


def test_excluded_reports_leave_the_batches(scenario: ScenarioFactory) -> None:
    sc = scenario(
        cluster__workers=6,
        problem__samples=600,
        server__aggregator={"kind": "gmom", "batches": 3},
        server__missing="exclude",
    )
    # rows 0, 2, 3, 4, 5 in three batches of sizes 2, 2, 1
    assert batches(sc, [1], None) == [0, None, 0, 1, 1, 2]


def test_rebatching_lays_the_rows_out_in_the_rounds_order(scenario: ScenarioFactory) -> None:
    sc = scenario(
        cluster__workers=6,
        problem__samples=600,
        server__aggregator={"kind": "gmom", "batches": 3, "rebatch": True},
    )
    order = np.random.default_rng(7).permutation(6)  # the server's x = x[order]
    want: list[int | None] = [None] * 6
    for position, row in enumerate(order.tolist()):
        want[row] = position // 2
    assert batches(sc, [], 7) == want
    assert batches(sc, [], None) == [None] * 6  # no seed logged: unknown, not guessed


@pytest.mark.parametrize(
    "overrides",
    [
        {"server__aggregator": "krum"},  # no batches
        {"server__pre": [{"kind": "nnm"}]},  # batches of the mixed vectors
    ],
)
def test_no_batch_where_reports_are_not_batched(
    scenario: ScenarioFactory, overrides: dict[str, object]
) -> None:
    assert (
        batches(
            scenario(cluster__workers=6, cluster__byzantine=1, problem__samples=600, **overrides),
            [],
            1,
        )
        == [None] * 6
    )


def test_the_rounds_batches_rebuild_its_aggregate(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    """Batch means over the timeline's batches, then their geometric median: the logged
    aggregate, with reports dropped (excluded) and the batches reshuffled each round."""
    sc = scenario(
        rounds=3,
        cluster__workers=12,
        problem__samples=1200,
        cluster__byzantine=0,
        network__drop=0.2,
        server__missing="exclude",
        server__aggregator={"kind": "gmom", "batches": 4, "rebatch": True},
    )
    path = tmp_path / "r.jsonl"
    bgdsim.run(sc, log_path=path)
    events = list(read_log(path, payloads=True))
    checked = 0
    for t in range(1, 4):
        summary, rows = timeline(path, t)
        if not summary["missing"]:
            continue
        sent = {
            e["worker"]: e["payload"]
            for e in events
            if e.get("round") == t and e["event"] == "send" and e.get("dir") == "up"
        }
        groups: dict[int, list[np.ndarray]] = {}
        for row in rows:
            if row["batch"] is not None:
                groups.setdefault(row["batch"], []).append(sent[row["worker"]])
        assert sorted(groups) == list(range(4))
        means = np.array([np.mean(groups[b], axis=0) for b in range(4)])
        (aggregate,) = (
            e["payload"] for e in events if e.get("round") == t and e["event"] == "aggregate"
        )
        np.testing.assert_allclose(geometric_median(means, tol=1e-10), aggregate, rtol=1e-9)
        checked += 1
    assert checked  # some round lost a report
