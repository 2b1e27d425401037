"""The timing attack: honest reports that land just after, or just before, the barrier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bgdsim
from bgdsim.attacks import AdversaryView, Crafted
from bgdsim.attacks.timing import timing
from tests.conftest import ScenarioFactory


def view() -> AdversaryView:
    honest = np.arange(8, dtype=float).reshape(4, 2)
    return AdversaryView(
        1, np.zeros(2), honest, np.array([1, 3]), 2, "gmom", 2,
        round_timeout=1.0, compute_time=0.1,
        latency_down=np.array([0.1, 0.2, 0.3, 0.4]), latency_up=np.array([0.1, 0.2, 0.3, 0.9]),
    )  # fmt: skip


def test_waits_are_computed_from_the_link_model() -> None:
    out = timing(view(), np.random.default_rng(0), when="after", margin=0.01)
    assert isinstance(out, Crafted)
    np.testing.assert_array_equal(out.messages, view().honest[[1, 3]])
    # worker 1: 1.01 − (0.2 + 0.1 + 0.2); worker 3: 1.01 − (0.4 + 0.1 + 0.9) < 0 → 0
    assert out.delays is not None
    np.testing.assert_allclose(out.delays, [0.51, 0.0])
    before = timing(view(), np.random.default_rng(0), when="before", margin=0.01)
    assert before.delays is not None
    np.testing.assert_allclose(before.delays, [0.49, 0.0])


def test_needs_the_latencies() -> None:
    v = AdversaryView(1, np.zeros(2), np.zeros((3, 2)), np.array([0]), 1, "mean", 1)
    with pytest.raises(ValueError, match="link latencies"):
        timing(v, np.random.default_rng(0))


@pytest.mark.parametrize(
    "latency", [{"kind": "constant", "value": 0.05}, {"kind": "exponential", "mean": 0.05}]
)
def test_after_makes_every_byzantine_report_late(
    scenario: ScenarioFactory, tmp_path: Path, latency: dict[str, object]
) -> None:
    sc = scenario(adversary__attack="timing", network__latency=latency, rounds=6)
    path = tmp_path / "t.jsonl"
    result = bgdsim.run(sc, log_path=path)
    events = list(bgdsim.read_events(path))
    byz = {e["round"]: e["workers"] for e in events if e["event"] == "byzantine_set"}
    late = sorted((e["round"], e["worker"]) for e in events if e["event"] == "late")
    starts = {e["round"]: e["time"] for e in events if e["event"] == "round_start"}
    # the last round's late reports would land after the run ended
    expected = sorted((t, j) for t, ws in byz.items() for j in ws if t < 6)
    assert late == expected
    for b in (e for e in events if e["event"] == "barrier"):
        assert b["reason"] == "timeout"
        assert b["missing"] == byz[b["round"]]
    for e in (e for e in events if e["event"] == "late"):
        assert e["time"] == pytest.approx(starts[e["round"]] + 1.0 + 1e-3)
    assert result.counts["up_late"] == len(expected)


def test_before_holds_the_barrier_open_to_the_last_moment(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(adversary__attack={"kind": "timing", "when": "before"})
    path = tmp_path / "t.jsonl"
    result = bgdsim.run(sc, log_path=path)
    events = list(bgdsim.read_events(path))
    starts = {e["round"]: e["time"] for e in events if e["event"] == "round_start"}
    for b in (e for e in events if e["event"] == "barrier"):
        assert b["reason"] == "all" and b["missing"] == []
        assert b["time"] == pytest.approx(starts[b["round"]] + 1.0 - 1e-3)
    assert result.counts["up_late"] == 0


@pytest.mark.parametrize(
    "setting",
    [
        # a degrade fault doubles a Byzantine worker's links: its view showed the up-link
        # undegraded, and its "just in time" report landed late
        {"faults": [{"kind": "degrade", "workers": [0], "from": 1, "factor": 2.0}]},
        # compute times that differ per worker: its view held only their median
        {"cluster__compute_time": {"kind": "uniform", "low": 0.0, "high": 0.2}},
    ],
    ids=["degraded-links", "per-worker-compute"],
)
def test_before_lands_in_time_on_the_links_and_compute_the_reports_will_see(
    scenario: ScenarioFactory, tmp_path: Path, setting: dict[str, object]
) -> None:
    sc = scenario(
        adversary__attack={"kind": "timing", "when": "before"},
        adversary__schedule={"kind": "static", "workers": [0, 1]},
        network__latency={"kind": "constant", "value": 0.01},
        **setting,
    )
    path = tmp_path / "t.jsonl"
    result = bgdsim.run(sc, log_path=path)
    events = list(bgdsim.read_events(path))
    assert result.counts["up_late"] == 0
    for b in (e for e in events if e["event"] == "barrier"):
        assert b["reason"] == "all" and b["missing"] == []
