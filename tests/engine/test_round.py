"""The round engine with no clock: a memory sink and a hand-made event queue."""

from __future__ import annotations

import heapq
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bgdsim
from bgdsim.engine import (
    Arm,
    Fire,
    Forward,
    Opened,
    PlannedRound,
    RoundEngine,
    Stop,
    Wait,
    World,
)
from bgdsim.engine.round import DIVERGENCE_FACTOR
from bgdsim.eventlog import MemorySink
from tests.conftest import ScenarioFactory


class QueueDriver:
    """The SimPy runtime's semantics with a heap: (time, priority, insertion order).

    Messages have priority 0, timers 1; no SimPy anywhere. If the engine holds every rule
    of a round, this driver reproduces the SimPy runtime's run exactly.
    """

    def __init__(self, engine: RoundEngine) -> None:
        self.engine = engine
        self.now = 0.0
        self.heap: list[tuple[float, int, int, Any, tuple[Any, ...]]] = []
        self.order = itertools.count()
        self.fired = False

    def at(self, delay: float, prio: int, fn: Any, *args: Any) -> None:
        heapq.heappush(self.heap, (self.now + delay, prio, next(self.order), fn, args))

    def decide(self, t: int, decision: Any) -> None:
        if isinstance(decision, Fire):
            self.fired = True
        elif isinstance(decision, Arm):
            self.at(decision.delay, 1, self.timer, t, "quorum")

    def timer(self, t: int, kind: str) -> None:
        self.decide(t, self.engine.timer_fired(t, kind, self.now))

    def down(self, plan: PlannedRound, workers: list[int]) -> None:
        forward: Forward = self.engine.broadcast_arrived(plan, workers, self.now)
        for delay, group in forward.up:
            self.at(delay, 0, self.up, plan, group)
        for delay, group in forward.send:
            self.at(delay, 0, self.send, plan, group)

    def send(self, plan: PlannedRound, workers: list[int]) -> None:
        for delay, group in self.engine.reports_sent(plan, workers, self.now):
            self.at(delay, 0, self.up, plan, group)

    def up(self, plan: PlannedRound, workers: list[int]) -> None:
        self.decide(plan.t, self.engine.reports_arrived(plan, workers, self.now))

    def run(self) -> None:
        engine = self.engine
        engine.start(self.now)
        while True:
            step = engine.begin_round(self.now)
            if isinstance(step, Stop):
                return
            if isinstance(step, Wait):
                self.now += step.seconds
                continue
            assert isinstance(step, Opened)
            self.fired = False
            for delay, group in step.down:
                self.at(delay, 0, self.down, step.plan, group)
            self.at(step.timeout, 1, self.timer, step.plan.t, "timeout")
            while not self.fired:
                self.now, _, _, fn, args = heapq.heappop(self.heap)
                fn(*args)
            if engine.end_round(self.now) is not None:
                return


def drive(sc: Any) -> tuple[RoundEngine, MemorySink]:
    sink = MemorySink()
    engine = RoundEngine(World(sc), sink)
    driver = QueueDriver(engine)
    driver.run()
    engine.finish(driver.now)
    return engine, sink


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"network__latency": {"kind": "lognormal", "mu": -4, "sigma": 1}, "network__drop": 0.1},
        {
            "network__latency": {"kind": "uniform", "low": 0, "high": 0.05},
            "server__barrier": "quorum",
            "server__grace": 0.01,
            "cluster__compute_time": {"kind": "exponential", "mean": 0.02},
        },
        {"adversary__attack": "timing", "server__round_timeout": 0.05},
        {"adversary__attack": "malformed", "server__missing": "exclude"},
    ],
    ids=["constant", "lossy", "quorum-grace", "timing", "malformed"],
)
def test_a_clockless_driver_reproduces_the_simpy_runtime(
    scenario: ScenarioFactory, overrides: dict[str, Any]
) -> None:
    sc = scenario(rounds=4, **overrides)
    engine, sink = drive(sc)
    reference = MemorySink()
    result = bgdsim.run(sc, open_log=lambda _path: _Open(reference))
    assert sink.events == reference.events  # every event, field and time, in order
    assert len(sink.payloads) == len(reference.payloads)
    for mine, theirs in zip(sink.payloads, reference.payloads, strict=True):
        assert mine.tobytes() == theirs.tobytes()
    assert np.array_equal(np.asarray(engine.thetas), result.thetas)
    assert engine.acct.totals() == result.counts


class _Open:
    def __init__(self, sink: MemorySink) -> None:
        self.sink = sink

    def __enter__(self) -> MemorySink:
        return self.sink

    def __exit__(self, *exc: object) -> None:
        return None


def test_one_round_logs_its_events_in_order(scenario: ScenarioFactory) -> None:
    _, sink = drive(
        scenario(rounds=1, cluster__workers=4, cluster__byzantine=1, server__aggregator__batches=2)
    )
    kinds = [e["event"] for e in sink.events if e.get("dir") is None]
    assert kinds == [
        "run_start",
        "round_start",
        "byzantine_set",
        "broadcast",
        "barrier",
        "aggregate",
        "update",
        "round_end",
        "run_end",
    ]
    per_message = [(e["event"], e["dir"]) for e in sink.events if "dir" in e]
    assert per_message == [("deliver", "down")] * 4 + [("send", "up")] * 4 + [("deliver", "up")] * 4
    assert sink.of("barrier")[0]["reason"] == "all"


def test_a_timer_of_a_closed_round_is_ignored(scenario: ScenarioFactory) -> None:
    engine = RoundEngine(World(scenario(rounds=2)), MemorySink())
    engine.start(0.0)
    opened = engine.begin_round(0.0)
    assert isinstance(opened, Opened)
    assert engine.timer_fired(1, "timeout", 1.0) == Fire("timeout")
    assert engine.end_round(1.0) is None
    assert engine.timer_fired(1, "quorum", 1.2) is None  # round 1 is over
    assert isinstance(engine.begin_round(1.0), Opened)
    assert engine.timer_fired(1, "timeout", 1.5) is None


def test_closing_a_round_whose_barrier_has_not_fired_is_an_error(
    scenario: ScenarioFactory,
) -> None:
    engine = RoundEngine(World(scenario(rounds=1)), MemorySink())
    engine.start(0.0)
    engine.begin_round(0.0)
    with pytest.raises(RuntimeError, match="barrier"):
        engine.end_round(0.5)


def test_a_report_from_the_wire_is_sent_one_up_link_latency_before_it_arrived(
    scenario: ScenarioFactory,
) -> None:
    sc = scenario(rounds=1, network__latency={"kind": "constant", "value": 0.25})
    sink = MemorySink()
    engine = RoundEngine(World(sc), sink, write_block=False)
    engine.start(0.0)
    opened = engine.begin_round(0.0)
    assert isinstance(opened, Opened)
    plan = opened.plan
    engine.deliver(plan, list(range(engine.m)), 0.25)
    outcome, decision = engine.remote_report(3, 1, plan.outgoing[3], 0.5, peer="p")
    assert outcome.value == "deliver" and decision is None
    send = next(e for e in sink.of("send") if e["worker"] == 3)
    assert send["time"] == pytest.approx(0.25) and send["peer"] == "p"


def test_a_report_after_its_timeout_but_before_the_timer_counts_after_the_barrier(
    scenario: ScenarioFactory,
) -> None:
    # a live clock can hand over a message later than the timer due before it
    sc = scenario(rounds=1, server__round_timeout=0.5)
    sink = MemorySink()
    engine = RoundEngine(World(sc), sink)
    engine.start(0.0)
    opened = engine.begin_round(0.0)
    assert isinstance(opened, Opened)
    decision = engine.reports_arrived(opened.plan, [0], 0.7)
    assert decision == Fire("timeout")
    # it, and one more before the driver closes the round, came after the barrier fired
    # at 0.5: late, not aggregated (they used to be accepted into the closing round)
    assert engine.reports_arrived(opened.plan, [1], 0.8) is None
    assert [(e["worker"], e["round"]) for e in sink.of("late")] == [(0, 1), (1, 1)]
    assert not [e for e in sink.of("deliver") if e["dir"] == "up"]
    engine.end_round(0.7)
    assert engine.acct.barrier["timeout"] == 1
    barrier = sink.of("barrier")[0]
    assert barrier["heard"] == barrier["received"] == 0 and 0 in barrier["missing"]


def test_a_run_whose_error_explodes_stops_as_diverged_after_a_sealed_round(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    # the mean under a sign flip of scale 1e4 grows θ by ~1e4 per round: finite, not sane
    sc = scenario(rounds=20, server__aggregator="mean", adversary__attack__scale=1e4)
    path = tmp_path / "diverged.jsonl"
    result = bgdsim.run(sc, log_path=path)
    assert result.status == "diverged"
    assert result.rounds < 20
    assert result.final_error > DIVERGENCE_FACTOR * result.errors[0]
    assert np.isfinite(result.thetas).all()
    events = [e["event"] for e in bgdsim.read_log(path) if "seq" in e]
    assert events[-3:] == ["round_end", "diverged", "run_end"]
    check = bgdsim.verify(path)
    assert check.ok and check.rounds == result.rounds


def test_a_sane_run_is_not_called_diverged(scenario: ScenarioFactory) -> None:
    result = bgdsim.run(scenario(rounds=10), log_path=None)
    assert result.status == "completed"


def _events(path: Path) -> list[dict[str, Any]]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("runtime", ["simpy", "vector"])
def test_uneven_batches_are_logged_once_and_verify(
    scenario: ScenarioFactory, tmp_path: Path, runtime: str
) -> None:
    from bgdsim import events as ev
    from bgdsim.vector import run_vector

    run = bgdsim.run if runtime == "simpy" else run_vector
    path = tmp_path / "uneven.jsonl"
    run(
        scenario(cluster__workers=22, problem__samples=4400, server__aggregator__batches=5),
        log_path=path,
    )
    events = _events(path)
    uneven = [e for e in events if e["event"] == ev.BATCHES_UNEVEN]
    assert [events.index(e) for e in uneven] == [1]  # right after the header
    assert {k: uneven[0][k] for k in ("workers", "batches", "large", "large_size")} == {
        "workers": 22, "batches": 5, "large": 2, "large_size": 5,
    }  # fmt: skip
    assert uneven[0]["small_size"] == 4
    assert bgdsim.verify(path).ok


def test_even_batches_log_no_warning(scenario: ScenarioFactory, tmp_path: Path) -> None:
    from bgdsim import events as ev

    path = tmp_path / "even.jsonl"
    bgdsim.run(scenario(), log_path=path)  # m = 20, k = 5
    assert all(e["event"] != ev.BATCHES_UNEVEN for e in _events(path))
