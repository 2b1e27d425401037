"""The runtime under a misbehaving network: faults, barrier policies, accounting, sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

import bgdsim
from bgdsim.eventlog import read_events
from tests.conftest import ScenarioFactory

LAT = {"kind": "constant", "value": 0.1}


def run_logged(sc: Any, tmp_path: Path) -> tuple[Any, list[dict[str, Any]]]:
    path = tmp_path / "run.jsonl"
    return bgdsim.run(sc, log_path=path), list(read_events(path))


def by_round(events: list[dict[str, Any]], name: str, **match: Any) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for e in events:
        if e["event"] == name and all(e.get(k) == v for k, v in match.items()):
            out.setdefault(e["round"], []).append(e["worker"])
    return out


def test_a_crashed_worker_is_silent_from_until_and_resumes(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(
        rounds=6,
        network__latency=LAT,
        cluster__byzantine=0,
        faults=[{"kind": "crash", "workers": [3, 7], "from": 2, "until": 5}],
    )
    result, events = run_logged(sc, tmp_path)
    sends = by_round(events, "send", dir="up")
    crash_drops = by_round(events, "drop", dir="down", reason="crash")
    for t in range(1, 7):
        crashed = 2 <= t < 5
        assert (3 in sends[t]) is not crashed and (7 in sends[t]) is not crashed
        assert crash_drops.get(t, []) == ([3, 7] if crashed else [])
    starts = {e["round"]: e["time"] for e in events if e["event"] == "round_start"}
    logged = [(e["event"], e["time"]) for e in events if e["event"].startswith("fault_")]
    assert logged == [("fault_start", starts[2]), ("fault_end", starts[5])]
    assert result.per_worker["up_sent"][3] == 3 and result.per_worker["up_sent"][0] == 6


def test_a_fault_from_round_0_the_default_starts_with_round_1(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    # rounds count from 1: a fault from 0 applied from the first round but was never
    # logged as started
    sc = scenario(rounds=3, network__latency=LAT, cluster__byzantine=0,
                  faults=[{"kind": "crash", "workers": [3]}])  # fmt: skip
    _, events = run_logged(sc, tmp_path)
    starts = {e["round"]: e["time"] for e in events if e["event"] == "round_start"}
    logged = [(e["event"], e["time"]) for e in events if e["event"].startswith("fault_")]
    assert logged == [("fault_start", starts[1])]
    assert by_round(events, "drop", dir="down", reason="crash")[1] == [3]


def test_a_partition_hides_both_directions(scenario: ScenarioFactory, tmp_path: Path) -> None:
    # seconds: worker 5's broadcast of round 1 (sent at 0) is cut, so round 1 times out at
    # 0.25; round 2's broadcast reaches worker 6 at 0.35, inside its partition: its report is cut
    sc = scenario(rounds=3, network__latency=LAT, cluster__byzantine=0,
                  server__round_timeout=0.25,
                  faults=[{"kind": "partition", "workers": [5], "unit": "seconds",
                           "from": 0.0, "until": 0.05},
                          {"kind": "partition", "workers": [6], "unit": "seconds",
                           "from": 0.3, "until": 0.4}])  # fmt: skip
    _, events = run_logged(sc, tmp_path)
    down = by_round(events, "drop", dir="down", reason="partition")
    up = by_round(events, "drop", dir="up", reason="partition")
    assert down == {1: [5]}
    assert up == {2: [6]}
    assert [(e["event"], e["time"]) for e in events if e["event"].startswith("fault_")] == [
        ("fault_start", 0.0),
        ("fault_end", 0.05),
        ("fault_start", 0.3),
        ("fault_end", 0.4),
    ]


def test_a_crashed_relay_silences_its_subtree(scenario: ScenarioFactory, tmp_path: Path) -> None:
    sc = scenario(
        rounds=3,
        network__latency=LAT,
        cluster__byzantine=0,
        network__topology={"kind": "tree", "relays": 4},
        faults=[{"kind": "crash", "relays": ["relay1"], "from": 2, "until": 3}],
    )
    result, events = run_logged(sc, tmp_path)
    under = list(range(5, 10))  # 20 workers, 4 relays: blocks of 5
    assert by_round(events, "drop", dir="down", reason="relay") == {2: under}
    assert all(j not in by_round(events, "send", dir="up")[2] for j in under)
    # a relay hop adds its latency: broadcast 0.1 + 0.005, report the same
    b = [e for e in events if e["event"] == "barrier"]
    assert b[0]["time"] == pytest.approx(2 * (0.1 + 0.005))
    assert result.counts["down_dropped"] == 5


def test_degrade_slows_and_drops_only_the_chosen_links(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(
        rounds=2,
        network__latency=LAT,
        cluster__byzantine=0,
        faults=[
            {"kind": "degrade", "workers": [2], "from": 1, "factor": 3.0},
            {"kind": "degrade", "workers": [4], "from": 1, "drop": 1.0},
        ],
    )
    _, events = run_logged(sc, tmp_path)
    up = {(e["round"], e["worker"]): e for e in events if e["event"] == "send" and e["dir"] == "up"}
    assert up[(1, 2)]["latency"] == pytest.approx(0.3) and up[(1, 1)]["latency"] == 0.1
    assert by_round(events, "drop", dir="down", reason="loss") == {1: [4], 2: [4]}


def test_forced_workers_join_the_schedules_choice_within_q() -> None:
    from bgdsim import attacks
    from bgdsim.adversary import Adversary, schedules
    from tests.test_adversary import view

    adv = Adversary(schedules.get("random")(20, 2, np.random.default_rng(0)),
                    attacks.get("zero"), {}, 2, np.random.default_rng(1))  # fmt: skip
    plan = adv.act(view(20), forced=[11])
    assert 11 in plan.byzantine.tolist() and len(plan.byzantine) == 2


def test_forced_byzantine_sets_in_the_log(scenario: ScenarioFactory, tmp_path: Path) -> None:
    sc = scenario(rounds=4, faults=[{"kind": "byzantine", "workers": [11], "from": 2, "until": 4}])
    _, events = run_logged(sc, tmp_path)
    sets = {e["round"]: e["workers"] for e in events if e["event"] == "byzantine_set"}
    assert all(len(b) == 2 for b in sets.values())
    assert 11 in sets[2] and 11 in sets[3]


def test_a_server_pause_delays_the_next_round(scenario: ScenarioFactory, tmp_path: Path) -> None:
    sc = scenario(
        rounds=3,
        network__latency=LAT,
        faults=[{"kind": "server_pause", "unit": "seconds", "from": 0.1, "until": 1.5}],
    )
    _, events = run_logged(sc, tmp_path)
    starts = [e["time"] for e in events if e["event"] == "round_start"]
    assert starts == [0.0, 1.5, pytest.approx(1.7)]


def test_quorum_fires_on_the_m_minus_q_th_report(scenario: ScenarioFactory, tmp_path: Path) -> None:
    sc = scenario(
        rounds=4,
        server__barrier="quorum",
        network__latency={"kind": "uniform", "low": 0.0, "high": 0.5},
    )
    result, events = run_logged(sc, tmp_path)
    for b in (e for e in events if e["event"] == "barrier"):
        arrivals = sorted(e["time"] for e in events if e["event"] == "deliver"
                          and e["dir"] == "up" and e["round"] == b["round"]
                          and e["time"] <= b["time"])  # fmt: skip
        assert b["reason"] == "quorum"
        assert b["received"] == 18 and b["time"] == arrivals[17]  # the (m − q)-th report
    assert result.counts["barrier_quorum"] == 4


def test_quorum_waits_its_grace_period(scenario: ScenarioFactory, tmp_path: Path) -> None:
    sc = scenario(
        rounds=2,
        server__barrier="quorum",
        server__quorum=5,
        server__grace=0.05,
        network__latency={"kind": "uniform", "low": 0.0, "high": 0.5},
    )
    _, events = run_logged(sc, tmp_path)
    for b in (e for e in events if e["event"] == "barrier"):
        fifth = sorted(e["time"] for e in events if e["event"] == "deliver" and e["dir"] == "up"
                       and e["round"] == b["round"])[4]  # fmt: skip
        assert b["time"] == pytest.approx(fifth + 0.05)


@pytest.mark.parametrize("barrier", ["all", "quorum"])
def test_silent_byzantine_workers_cannot_stall_the_barrier_past_the_timeout(
    scenario: ScenarioFactory, tmp_path: Path, barrier: str
) -> None:
    sc = scenario(
        rounds=3,
        server__barrier=barrier,
        server__quorum=20,
        adversary__attack="silent",
        server__round_timeout=0.7,
    )
    _, events = run_logged(sc, tmp_path)
    starts = {e["round"]: e["time"] for e in events if e["event"] == "round_start"}
    for b in (e for e in events if e["event"] == "barrier"):
        assert b["reason"] == "timeout"
        assert b["time"] == pytest.approx(starts[b["round"]] + 0.7)


def test_per_worker_accounting_adds_up(scenario: ScenarioFactory, tmp_path: Path) -> None:
    sc = scenario(
        rounds=8,
        network__drop=0.2,
        adversary__attack="malformed",
        network__latency={"kind": "uniform", "low": 0, "high": 1},
        server__round_timeout=0.9,
    )
    result, events = run_logged(sc, tmp_path)
    end = events[-1]
    for key, counts in result.per_worker.items():
        assert counts.sum() == result.counts[key] == end["counts"][key]
        assert end["per_worker"][key] == counts.tolist()
    pw = result.per_worker
    assert (pw["down_sent"] == 8).all()
    assert (pw["down_delivered"] + pw["down_dropped"] == pw["down_sent"]).all()
    logged = np.bincount([e["worker"] for e in events if e["event"] == "late"], minlength=20)
    np.testing.assert_array_equal(pw["up_late"], logged)


def test_bandwidth_adds_transmission_time(scenario: ScenarioFactory, tmp_path: Path) -> None:
    # d = 5 float64 = 40 bytes at 400 B/s: 0.1 s per message on top of the latency
    sc = scenario(rounds=1, network__latency=LAT, network__bandwidth=400.0)
    _, events = run_logged(sc, tmp_path)
    assert [e["latency"] for e in events if e["event"] == "send"] == [pytest.approx(0.2)] * 20


def test_groups_give_their_workers_their_own_links(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(rounds=2, network__latency=LAT, network__groups=[
        {"name": "far", "workers": [0, 1], "latency": {"kind": "constant", "value": 0.4}},
        {"name": "lossy", "workers": [2], "loss": {"kind": "iid", "p": 1.0}},
    ])  # fmt: skip
    _, events = run_logged(sc, tmp_path)
    lat = {e["worker"]: e["latency"] for e in events if e["event"] == "send" and e["round"] == 1}
    assert lat[0] == lat[1] == 0.4 and lat[3] == 0.1
    assert by_round(events, "drop", dir="down") == {1: [2], 2: [2]}


def test_bursty_loss_in_a_run_loses_in_runs(scenario: ScenarioFactory) -> None:
    sc = scenario(
        rounds=200,
        cluster__workers=10,
        problem__samples=1000,
        cluster__byzantine=0,
        server__aggregator__batches=5,
        network__latency=LAT,
        network__loss={"kind": "gilbert_elliott", "loss_rate": 0.2, "burst": 8.0},
    )
    result = bgdsim.run(sc, log_path=None)
    rate = result.counts["down_dropped"] / result.counts["down_sent"]
    assert 0.1 < rate < 0.3  # 2000 correlated messages: wide, documented tolerance


def test_stragglers_compute_for_their_drawn_times(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(
        rounds=20,
        network__latency=LAT,
        server__round_timeout=100.0,
        cluster__compute_time={"kind": "exponential", "mean": 0.3},
    )
    _, events = run_logged(sc, tmp_path)
    starts = {e["round"]: e["time"] for e in events if e["event"] == "round_start"}
    waits = [e["time"] - starts[e["round"]] - 0.1 for e in events
             if e["event"] == "send" and e["dir"] == "up"]  # fmt: skip
    assert stats.kstest(waits, stats.expon(scale=0.3).cdf).pvalue > 1e-3


def test_unequal_local_sizes_are_weighted_in_gmom(scenario: ScenarioFactory) -> None:
    sc = scenario(
        problem__size_spread=0.5,
        problem__samples=4003,
        rounds=20,
        cluster__byzantine=0,
        cluster__compute_per_sample=True,
        cluster__compute_time=0.01,
    )
    result = bgdsim.run(sc, log_path=None)
    assert result.status == "completed"
    from bgdsim import problems
    from bgdsim.rng import stream

    p = problems.build(sc.problem, 20, stream(0, "data"))
    assert p.sizes.sum() == 4003 and p.sizes.min() >= 1 and not p.equal_sizes
    assert p.sizes.max() / p.sizes.min() <= 3.0 + 1e-9
    assert result.final_error < 3 * np.sqrt(5 * 5 / 4003)
