"""The asyncio runtime: same θ trajectory as SimPy, a log that verifies, clean shutdown."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

import bgdsim
from bgdsim.eventlog import read_events
from bgdsim.live import run_async, run_asyncio
from tests.conftest import ScenarioFactory

TS = 0.001  # 10 ms of simulated latency = 10 µs of wall clock


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"adversary__attack": "sign_flip", "server__aggregator": "mean"},
        {"adversary__attack": "gaussian", "server__aggregator": "krum", "cluster__workers": 8},
    ],
    ids=["gmom", "mean-signflip", "krum-gaussian"],
)
def test_theta_trajectory_equals_simpy(
    live_scenario: ScenarioFactory, tmp_path: Path, overrides: dict[str, object]
) -> None:
    sc = live_scenario(**overrides)
    sim = bgdsim.run(sc, log_path=tmp_path / "sim.jsonl")
    live = run_asyncio(sc, log_path=tmp_path / "live.jsonl", time_scale=TS)
    assert live.status == sim.status == "completed"
    assert np.array_equal(live.thetas, sim.thetas)
    assert np.array_equal(live.errors, sim.errors)
    assert live.counts == sim.counts
    sim_byz = [
        e["workers"] for e in read_events(tmp_path / "sim.jsonl") if e["event"] == "byzantine_set"
    ]
    live_ev = list(read_events(tmp_path / "live.jsonl"))
    assert [e["workers"] for e in live_ev if e["event"] == "byzantine_set"] == sim_byz
    assert all("wall" in e for e in live_ev)
    assert live_ev[0]["runtime"] == "asyncio"


def test_asyncio_log_verifies(live_scenario: ScenarioFactory, tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    run_asyncio(live_scenario(adversary__attack="sign_flip"), log_path=path, time_scale=TS)
    v = bgdsim.verify(path)
    assert v.mismatch is None and v.complete and v.rounds == 3


def test_log_time_is_wall_clock_over_time_scale(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = tmp_path / "live.jsonl"
    sc = live_scenario(rounds=2, network__latency={"kind": "constant", "value": 1.0})
    result = run_asyncio(sc, log_path=path, time_scale=0.01)  # 1 s simulated = 10 ms
    ends = [e for e in read_events(path) if e["event"] == "round_end"]
    for e in ends:
        assert e["duration"] >= 2.0  # a down-link and an up-link of 1 s each
    assert result.wall_seconds >= 2 * 2 * 0.01


def test_silent_byzantine_cannot_stall_past_the_timeout(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = live_scenario(adversary__attack="silent", server__round_timeout=2.0, rounds=2)
    t0 = time.perf_counter()
    # a 200 ms timeout: the honest reports are in well before it, even on a loaded machine
    result = run_asyncio(sc, log_path=tmp_path / "r.jsonl", time_scale=0.1)
    elapsed = time.perf_counter() - t0
    assert result.counts["barrier_timeout"] == 2
    assert result.rounds == 2 and elapsed < 4.0
    sim = bgdsim.run(sc, log_path=None)
    assert np.array_equal(result.thetas, sim.thetas)
    assert bgdsim.verify(tmp_path / "r.jsonl").mismatch is None


def test_drops_and_lognormal_latency_still_verify(
    live_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = live_scenario(
        network__drop=0.2,
        network__latency={"kind": "lognormal", "mu": -4.0, "sigma": 0.5},
        server__round_timeout=0.5,
        server__missing="exclude",
        server__aggregator="mean",
        rounds=4,
    )
    path = tmp_path / "r.jsonl"
    result = run_asyncio(sc, log_path=path, time_scale=0.01)
    assert result.rounds == 4
    assert result.counts["down_dropped"] + result.counts["up_dropped"] > 0
    v = bgdsim.verify(path)
    assert v.mismatch is None and v.complete


@pytest.mark.asyncio
async def test_clean_shutdown_leaves_no_task(live_scenario: ScenarioFactory) -> None:
    before = asyncio.all_tasks()
    result = await run_async(live_scenario(), log_path=None, time_scale=TS)
    assert result.rounds == 3
    assert asyncio.all_tasks() == before


@pytest.mark.asyncio
async def test_cancelled_run_leaves_no_task(live_scenario: ScenarioFactory) -> None:
    before = asyncio.all_tasks()
    sc = live_scenario(rounds=50, network__latency={"kind": "constant", "value": 1.0})
    task = asyncio.ensure_future(run_async(sc, log_path=None, time_scale=0.01))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.all_tasks() == before
