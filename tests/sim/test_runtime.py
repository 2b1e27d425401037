"""The SimPy runtime: links, barrier, missing reports, validation, log content, determinism."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

import bgdsim
from bgdsim import aggregators
from bgdsim.eventlog import load_payload, read_events
from tests.conftest import ScenarioFactory


def run_logged(sc: Any, tmp_path: Path, name: str = "run") -> tuple[Any, list[dict[str, Any]]]:
    path = tmp_path / f"{name}.jsonl"
    result = bgdsim.run(sc, log_path=path)
    return result, list(read_events(path))


def test_drops_happen_at_the_configured_rate(scenario: ScenarioFactory, tmp_path: Path) -> None:
    p = 0.2
    result, events = run_logged(
        scenario(network__drop=p, rounds=20, cluster__workers=50, problem__samples=5000), tmp_path
    )
    sent = 50 * sum(e["event"] == "broadcast" for e in events)
    dropped = sum(e["event"] == "drop" and e["dir"] == "down" for e in events)
    assert sent == 20 * 50
    assert stats.binomtest(dropped, sent, p).pvalue > 1e-3
    c = result.counts
    assert c["down_dropped"] == dropped
    assert c["up_sent"] == sent - dropped  # no attack silence here: every reached worker replies
    up_drops = sum(e["event"] == "drop" and e["dir"] == "up" for e in events)
    assert stats.binomtest(up_drops, c["up_sent"], p).pvalue > 1e-3


@pytest.mark.parametrize(
    ("latency", "dist"),
    [
        ({"kind": "exponential", "mean": 0.02}, stats.expon(scale=0.02)),
        ({"kind": "uniform", "low": 0.01, "high": 0.05}, stats.uniform(0.01, 0.04)),
        ({"kind": "lognormal", "mu": -4.0, "sigma": 0.5}, stats.lognorm(0.5, scale=np.exp(-4.0))),
    ],
    ids=["exponential", "uniform", "lognormal"],
)
def test_link_latencies_follow_their_distribution(
    scenario: ScenarioFactory, tmp_path: Path, latency: dict[str, Any], dist: Any
) -> None:
    _, events = run_logged(scenario(network__latency=latency, rounds=25), tmp_path)
    path = tmp_path / "run.jsonl"
    broadcasts = {e["round"]: e for e in events if e["event"] == "broadcast"}
    down = {t: load_payload(path, b["latency"]) for t, b in broadcasts.items()}
    up = np.array([e["latency"] for e in events if e["event"] == "send"])
    assert up.size == 25 * 20
    for lat in (np.concatenate(list(down.values())), up):
        assert lat.size == 25 * 20
        assert stats.kstest(lat, dist.cdf).pvalue > 1e-3
    # and every delivery happens exactly one latency after its send
    sends = {(e["round"], e["worker"]): e for e in events if e["event"] == "send"}
    for e in events:
        if e["event"] == "deliver" and e["dir"] == "up":
            s = sends[(e["round"], e["worker"])]
            assert e["time"] == pytest.approx(s["time"] + s["latency"], abs=1e-12)
        elif e["event"] == "deliver":
            b = broadcasts[e["round"]]
            assert e["time"] == pytest.approx(b["time"] + down[e["round"]][e["worker"]], abs=1e-12)


def test_barrier_fires_at_the_timeout_when_a_worker_is_silent(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(
        adversary__attack="silent", adversary__schedule="static", server__round_timeout=0.5
    )
    result, events = run_logged(sc, tmp_path)
    starts = {e["round"]: e["time"] for e in events if e["event"] == "round_start"}
    barriers = [e for e in events if e["event"] == "barrier"]
    byz = {e["round"]: e["workers"] for e in events if e["event"] == "byzantine_set"}
    assert len(barriers) == 5
    for b in barriers:
        assert b["reason"] == "timeout"
        assert b["time"] == pytest.approx(starts[b["round"]] + 0.5)
        assert b["missing"] == byz[b["round"]]
    assert result.counts["barrier_timeout"] == 5


def test_barrier_fires_as_soon_as_every_worker_is_heard(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    _, events = run_logged(
        scenario(network__latency={"kind": "uniform", "low": 0.0, "high": 0.1}), tmp_path
    )
    last_arrival: dict[int, float] = {}
    for e in events:
        if e["event"] == "deliver" and e["dir"] == "up":
            last_arrival[e["round"]] = max(last_arrival.get(e["round"], 0.0), e["time"])
    for b in (e for e in events if e["event"] == "barrier"):
        assert b["reason"] == "all"
        assert b["time"] == last_arrival[b["round"]]


def test_a_report_arriving_exactly_at_the_timeout_is_in_time(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    # down 0.25 + up 0.25 = 0.5 = the timeout: arrivals are ordered before the timeout
    sc = scenario(network__latency={"kind": "constant", "value": 0.25}, server__round_timeout=0.5)
    result, _ = run_logged(sc, tmp_path)
    assert result.counts["up_late"] == 0
    assert result.counts["barrier_all"] == 5


def test_late_reports_are_logged_and_discarded(scenario: ScenarioFactory, tmp_path: Path) -> None:
    sc = scenario(
        network__latency={"kind": "uniform", "low": 0.0, "high": 1.0},
        server__round_timeout=0.8,
        rounds=10,
    )
    result, events = run_logged(sc, tmp_path)
    late = [e for e in events if e["event"] == "late"]
    assert late and result.counts["up_late"] == len(late)
    barrier_time = {e["round"]: e["time"] for e in events if e["event"] == "barrier"}
    for e in late:
        assert e["time"] > barrier_time[e["round"]]


def _recompute_aggregate(
    events: list[dict[str, Any]],
    path: Path,
    t: int,
    m: int,
    d: int,
    policy: str,
    stale: dict[int, np.ndarray],
) -> np.ndarray:
    sends = {
        e["worker"]: e
        for e in events
        if e["event"] == "send" and e["dir"] == "up" and e["round"] == t
    }
    delivered = sorted(
        e["worker"]
        for e in events
        if e["event"] == "deliver" and e["dir"] == "up" and e["round"] == t
    )
    x = np.zeros((m, d))
    for j in delivered:
        x[j] = load_payload(path, sends[j]["payload"])
    if policy == "exclude":
        x = x[delivered]
    elif policy == "stale":
        for j in range(m):
            if j in delivered:
                stale[j] = x[j].copy()
            elif j in stale:
                x[j] = stale[j]
    return aggregators.get("gmom")(x, batches=5)


@pytest.mark.parametrize("policy", ["zero", "exclude", "stale"])
def test_the_aggregate_is_the_rule_applied_to_the_logged_reports_under_the_policy(
    scenario: ScenarioFactory, tmp_path: Path, policy: str
) -> None:
    sc = scenario(server__missing=policy, network__drop=0.15, rounds=6)
    _, events = run_logged(sc, tmp_path)
    path = tmp_path / "run.jsonl"
    stale: dict[int, np.ndarray] = {}
    for e in (e for e in events if e["event"] == "aggregate"):
        expected = _recompute_aggregate(events, path, e["round"], 20, 5, policy, stale)
        np.testing.assert_array_equal(load_payload(path, e["payload"]), expected)


@pytest.mark.parametrize("kind", ["nan", "inf", "shape"])
def test_malformed_byzantine_reports_are_rejected_logged_and_treated_as_missing(
    scenario: ScenarioFactory, tmp_path: Path, kind: str
) -> None:
    sc = scenario(adversary__attack={"kind": "malformed", "defect": kind})
    result, events = run_logged(sc, tmp_path)
    byz = {e["round"]: e["workers"] for e in events if e["event"] == "byzantine_set"}
    rejected = [e for e in events if e["event"] == "rejected"]
    assert sorted((e["round"], e["worker"]) for e in rejected) == sorted(
        (t, j) for t, ws in byz.items() for j in ws
    )
    word = {"nan": "non-finite entry nan", "inf": "non-finite entry inf", "shape": "wrong shape"}
    assert all(word[kind] in e["reason"] for e in rejected)
    for b in (e for e in events if e["event"] == "barrier"):
        assert b["reason"] == "all"  # a rejected report still counts as heard
        assert b["missing"] == byz[b["round"]]
    assert result.status == "completed"
    assert np.isfinite(result.errors).all()


def test_huge_reports_are_rejected_when_the_server_caps_norms(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(adversary__attack={"kind": "malformed", "defect": "huge"}, server__max_norm=1e6)
    result, events = run_logged(sc, tmp_path)
    assert result.counts["up_rejected"] == 5 * 2
    assert all("max_norm" in e["reason"] for e in events if e["event"] == "rejected")


def test_huge_finite_reports_move_the_mean_far_but_not_gmom(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    huge = {"adversary__attack": {"kind": "malformed", "defect": "huge"}}
    broken = bgdsim.run(scenario(server__aggregator="mean", **huge), log_path=None)
    # finite but absurd: reported as diverged (it used to say "completed" at 1e290)
    assert broken.status == "diverged" and broken.rounds == 1
    assert np.isfinite(broken.errors).all() and broken.final_error > 1e290
    robust = bgdsim.run(scenario(**huge), log_path=None)
    assert robust.final_error < 0.5


def test_an_update_that_overflows_ends_the_run_as_diverged(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(
        adversary__attack={"kind": "malformed", "defect": "huge"},
        server__aggregator="mean",
        server__step_size=1e10,
    )
    result, events = run_logged(sc, tmp_path)
    assert result.status == "diverged"
    assert result.rounds == 0 and len(result.errors) == 1
    assert np.isfinite(result.errors).all()
    assert events[-1]["event"] == "run_end" and events[-1]["status"] == "diverged"
    assert [e["round"] for e in events if e["event"] == "diverged"] == [1]


def test_the_log_has_every_event_type_in_order(scenario: ScenarioFactory, tmp_path: Path) -> None:
    sc = scenario(
        network__drop=0.1,
        network__latency={"kind": "uniform", "low": 0, "high": 1},
        server__round_timeout=0.9,
        adversary__attack="malformed",
        rounds=8,
    )
    _, events = run_logged(sc, tmp_path)
    kinds = Counter(e["event"] for e in events)
    for name in (
        "run_start",
        "round_start",
        "byzantine_set",
        "broadcast",
        "send",
        "deliver",
        "drop",
        "late",
        "rejected",
        "barrier",
        "aggregate",
        "update",
        "round_end",
        "run_end",
    ):
        assert kinds[name] > 0, name
    assert events[0]["event"] == "run_start" and events[0]["schema"] == 2
    assert events[0]["scenario"] == sc.to_dict()
    lines = [e for e in events if "seq" in e]  # per-message events are Arrow records
    assert [e["seq"] for e in lines] == list(range(len(lines)))
    assert all(e["event"] in ("send", "deliver", "drop", "late", "rejected")
               for e in events if "seq" not in e)  # fmt: skip
    times = [e["time"] for e in lines]
    assert times == sorted(times)
    assert all(isinstance(t, float) for t in times)
    # a span's records come just before its seal, by round, direction and worker
    span: list[dict[str, Any]] = []
    for e in events:
        if "seq" not in e:
            span.append(e)
            continue
        if e["event"] in ("round_end", "run_end"):
            keys = [(m["round"], m["dir"] == "up", m["worker"]) for m in span]
            assert keys == sorted(keys)
            bound = e["time"]
            assert all(m["time"] <= bound for m in span)
            assert e.get("messages", {}).get("rows", 0) == len(span)
            span = []


def test_update_events_carry_the_iterates_losslessly(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    result, events = run_logged(scenario(), tmp_path)
    path = tmp_path / "run.jsonl"
    thetas = [load_payload(path, events[0]["theta"])]
    thetas += [load_payload(path, e["theta"]) for e in events if e["event"] == "update"]
    np.testing.assert_array_equal(np.array(thetas), result.thetas)
    np.testing.assert_array_equal(load_payload(path, events[0]["theta_star"]), result.theta_star)
    errors = [events[0]["error"]] + [e["error"] for e in events if e["event"] == "update"]
    assert errors == result.errors.tolist()


def test_the_log_is_flushed_after_every_round(scenario: ScenarioFactory, tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    seen: list[int] = []

    def progress(t: int, _total: int) -> None:
        ends = [e["round"] for e in read_events(path) if e["event"] == "round_end"]
        seen.append(ends[-1])

    bgdsim.run(scenario(), log_path=path, progress=progress)
    assert seen == [1, 2, 3, 4, 5]


def test_same_seed_gives_byte_identical_logs_and_another_seed_does_not(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    sc = scenario(network__latency={"kind": "exponential", "mean": 0.05}, network__drop=0.1)
    for name in ("a", "b"):
        bgdsim.run(sc, log_path=tmp_path / f"{name}.jsonl")
    bgdsim.run(
        scenario(seed=1, network__latency={"kind": "exponential", "mean": 0.05}, network__drop=0.1),
        log_path=tmp_path / "c.jsonl",
    )
    for ext in ("jsonl", "bin"):
        a, b, c = ((tmp_path / f"{n}.{ext}").read_bytes() for n in "abc")
        assert a == b
        assert a != c


def test_changing_the_drop_rate_changes_neither_data_nor_byzantine_sets(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    _, ev0 = run_logged(scenario(network__drop=0.0), tmp_path, "d0")
    _, ev1 = run_logged(scenario(network__drop=0.3), tmp_path, "d1")
    sets0 = [e["workers"] for e in ev0 if e["event"] == "byzantine_set"]
    sets1 = [e["workers"] for e in ev1 if e["event"] == "byzantine_set"]
    assert sets0 == sets1
    star0 = load_payload(tmp_path / "d0.jsonl", ev0[0]["theta_star"])
    star1 = load_payload(tmp_path / "d1.jsonl", ev1[0]["theta_star"])
    np.testing.assert_array_equal(star0, star1)
    lat0 = [
        load_payload(tmp_path / "d0.jsonl", e["latency"]) for e in ev0 if e["event"] == "broadcast"
    ]
    lat1 = [
        load_payload(tmp_path / "d1.jsonl", e["latency"]) for e in ev1 if e["event"] == "broadcast"
    ]
    np.testing.assert_array_equal(lat0, lat1)


def test_compute_time_delays_every_reply(scenario: ScenarioFactory, tmp_path: Path) -> None:
    sc = scenario(cluster__compute_time=0.2, network__latency={"kind": "constant", "value": 0.1})
    _, events = run_logged(sc, tmp_path)
    starts = {e["round"]: e["time"] for e in events if e["event"] == "round_start"}
    for e in events:
        if e["event"] == "send" and e["dir"] == "up":
            assert e["time"] == pytest.approx(starts[e["round"]] + 0.3)
    barrier = [e for e in events if e["event"] == "barrier"]
    assert all(b["time"] == pytest.approx(starts[b["round"]] + 0.4) for b in barrier)


def test_static_schedule_uses_the_given_workers(scenario: ScenarioFactory, tmp_path: Path) -> None:
    sc = scenario(adversary__schedule={"kind": "static", "workers": [3, 1]})
    _, events = run_logged(sc, tmp_path)
    assert all(e["workers"] == [1, 3] for e in events if e["event"] == "byzantine_set")
    byz_sends = {e["worker"] for e in events if e["event"] == "send" and e.get("byzantine")}
    assert byz_sends == {1, 3}


def test_auto_step_size_is_a_half_on_linear_regression(scenario: ScenarioFactory) -> None:
    a = bgdsim.run(scenario(server__step_size="auto"), log_path=None)
    b = bgdsim.run(scenario(server__step_size=0.5), log_path=None)
    np.testing.assert_array_equal(a.thetas, b.thetas)


def test_logistic_regression_converges_under_attack(scenario: ScenarioFactory) -> None:
    sc = scenario(
        problem__kind="logistic_regression",
        problem__samples=40_000,
        server__step_size="auto",
        rounds=40,
    )
    result = bgdsim.run(sc, log_path=None)
    assert result.final_error < 0.25 * result.errors[0]


@pytest.mark.parametrize(
    "latency",
    [{"kind": "constant", "value": 0.1}, {"kind": "uniform", "low": 0.0, "high": 1.0}],
    ids=["constant", "uniform"],
)
def test_coalescing_simultaneous_arrivals_changes_nothing_in_the_log(
    scenario: ScenarioFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, latency: Any
) -> None:
    from bgdsim.sim import runtime
    from bgdsim.sim._events import At

    sc = scenario(
        rounds=6,
        network__latency=latency,
        network__drop=0.1,
        server__round_timeout=0.9,
        cluster__compute_time=0.05,
        adversary__attack="malformed",
    )
    bgdsim.run(sc, log_path=tmp_path / "grouped.jsonl")

    def one_event_per_message(env: Any, delays: Any, callback: Any, data: Any) -> None:
        for delay, workers in delays:
            for j in workers:
                At(env, delay, [j], callback, data)

    monkeypatch.setattr(runtime, "schedule_groups", one_event_per_message)
    bgdsim.run(sc, log_path=tmp_path / "single.jsonl")
    grouped = (tmp_path / "grouped.jsonl").read_bytes()
    assert grouped == (tmp_path / "single.jsonl").read_bytes()
    assert (tmp_path / "grouped.bin").read_bytes() == (tmp_path / "single.bin").read_bytes()


def test_a_rule_that_cannot_run_on_what_is_left_skips_the_step(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    # krum needs n >= 2f + 3 = 7 of the 20 reports; dropping most of them leaves fewer
    sc = scenario(server__aggregator="krum", server__missing="exclude", network__drop=0.6, rounds=8)
    result, events = run_logged(sc, tmp_path)
    skipped = [e for e in events if e["event"] == "aggregate_skipped"]
    assert skipped and result.counts["aggregate_skipped"] == len(skipped)
    assert all("krum needs n >= 2f + 3" in e["reason"] for e in skipped)
    for e in skipped:
        t = e["round"]
        np.testing.assert_array_equal(result.thetas[t], result.thetas[t - 1])
    assert result.status == "completed"
