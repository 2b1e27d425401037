"""Byzantine-set schedules and the adversary's view."""

from __future__ import annotations

import math
import re
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bgdsim
from bgdsim import aggregators, attacks
from bgdsim.adversary import Adversary, StaticSchedule, schedules
from bgdsim.aggregators.gmom import batch_bounds, gmom
from bgdsim.attacks import AdversaryView
from tests.conftest import ScenarioFactory

SCHEDULE_PARAMS: dict[str, dict[str, Any]] = {
    "scripted": {"sets": [[0, 1], [2], []], "cycle": True},
    "adaptive": {"candidates": 3},
}


def view(m: int = 20, d: int = 3, k: int = 5, order: np.ndarray | None = None) -> AdversaryView:
    honest = np.random.default_rng(0).standard_normal((m, d)) * 0.1 + 1.0
    return AdversaryView(
        1,
        np.zeros(d),
        honest,
        np.zeros(0, dtype=np.int64),
        3,
        "gmom",
        k,
        params={"batches": k},
        aggregate=lambda v: gmom(v, batches=k),
        batch_order=order,
    )


def build(name: str, m: int, q: int, seed: int, k: int = 5, **params: Any) -> Any:
    return schedules.get(name)(m, q, np.random.default_rng(seed), k, **params)


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(
        [
            "static",
            "random",
            "round_robin",
            "batch_spread",
            "batch_concentrate",
            "scripted",
            "adaptive",
        ]
    ),
    m=st.integers(4, 30),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_every_schedule_keeps_at_most_q_distinct_valid_workers(
    name: str, m: int, seed: int, data: st.DataObject
) -> None:
    q = data.draw(st.integers(2, min(m, 8)))
    k = data.draw(st.integers(1, m))
    sched = build(name, m, q, seed, k, **SCHEDULE_PARAMS.get(name, {}))
    adv = Adversary(sched, attacks.get("sign_flip"), {"scale": 10.0}, q, np.random.default_rng(1))
    v = view(m, 2, k)
    for t in range(1, 6):
        plan = adv.act(dataclass_round(v, t))
        b = plan.byzantine
        assert len(b) <= q
        assert list(b) == sorted(set(b.tolist()))
        assert all(0 <= j < m for j in b.tolist())


def dataclass_round(v: AdversaryView, t: int) -> AdversaryView:
    import dataclasses

    return dataclasses.replace(v, round=t)


def test_random_draws_a_new_uniform_set_of_q_each_round() -> None:
    s = build("random", 10, 3, 0)
    sets = [tuple(s.choose(t, view(10))) for t in range(2000)]
    assert all(len(b) == 3 for b in sets)
    assert len(set(sets)) > 100
    counts = np.bincount(np.concatenate(sets), minlength=10)
    np.testing.assert_allclose(counts / 2000, 0.3, atol=0.04)  # each worker with prob q/m


def test_static_keeps_one_set() -> None:
    s = build("static", 10, 3, 0)
    first = s.choose(1, view(10))
    assert len(first) == 3
    assert all((s.choose(t, view(10)) == first).all() for t in range(2, 10))
    assert build("static", 10, 3, 0, workers=[7, 2]).choose(1, view(10)).tolist() == [2, 7]


@pytest.mark.parametrize(
    ("workers", "fragment"),
    [
        ([1, 1], "duplicate"),
        ([1, 2, 3, 4], "4 workers but cluster.byzantine (q) is 3"),
        ([10], "worker 10 is not in 0..9"),
    ],
)
def test_static_checks_its_workers(workers: list[int], fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        StaticSchedule(10, 3, np.random.default_rng(0), workers=workers)


def test_round_robin_gives_every_worker_a_turn() -> None:
    s = build("round_robin", 10, 3, 0)
    sets = [s.choose(t, view(10)).tolist() for t in range(1, 5)]
    assert sets == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 1, 9]]


def spoiled(b: np.ndarray, m: int, k: int, order: np.ndarray | None = None) -> int:
    layout = np.arange(m) if order is None else order
    starts = [*batch_bounds(m, k).tolist(), m]
    return sum(bool(set(layout[a:z].tolist()) & set(b.tolist())) for a, z in pairwise(starts))


@pytest.mark.parametrize(("m", "k", "q"), [(20, 5, 3), (20, 5, 5), (20, 5, 8), (100, 20, 5)])
def test_batch_spread_spoils_min_q_k_batches_and_concentrate_the_fewest(
    m: int, k: int, q: int
) -> None:
    for seed in range(5):
        spread = build("batch_spread", m, q, seed, k).choose(1, view(m, k=k))
        conc = build("batch_concentrate", m, q, seed, k).choose(1, view(m, k=k))
        assert len(spread) == len(conc) == q
        assert spoiled(spread, m, k) == min(q, k)
        assert spoiled(conc, m, k) == math.ceil(q / (m // k))


def test_batch_spread_follows_the_servers_rebatching() -> None:
    order = np.random.default_rng(3).permutation(20)
    b = build("batch_spread", 20, 4, 0, 5).choose(1, view(20, k=5, order=order))
    assert spoiled(b, 20, 5, order) == 4


def test_scripted_sets_then_none_or_cycle() -> None:
    s = build("scripted", 10, 2, 0, sets=[[3, 1], [4]])
    assert [s.choose(t, view(10)).tolist() for t in (1, 2, 3)] == [[1, 3], [4], []]
    c = build("scripted", 10, 2, 0, sets=[[3, 1], [4]], cycle=True)
    assert c.choose(3, view(10)).tolist() == [1, 3]
    with pytest.raises(ValueError, match=re.escape("sets[1]: 3 workers")):
        build("scripted", 10, 2, 0, sets=[[0], [1, 2, 3]])


def test_adaptive_does_at_least_as_much_damage_as_random(paper: ScenarioFactory) -> None:
    common = {"cluster__byzantine": 8, "rounds": 12, "adversary__attack__scale": 100.0}
    finals: dict[str, list[float]] = {"random": [], "adaptive": []}
    for seed in range(3):
        for name, runs in finals.items():
            params = {"candidates": 6} if name == "adaptive" else {}
            sc = paper(seed=seed, adversary__schedule={"kind": name, **params}, **common)
            runs.append(bgdsim.run(sc, log_path=None).final_error)
    assert np.mean(finals["adaptive"]) >= np.mean(finals["random"])


@pytest.mark.parametrize("aggregator", ["mean", "gmom", "centered_clipping"])
def test_adaptive_runs_against_malformed_messages(paper: ScenarioFactory, aggregator: str) -> None:
    # the server refuses a NaN report; the adaptive schedule's trial aggregate must too
    sc = paper(
        cluster__byzantine=3,
        rounds=3,
        server__aggregator=aggregator,
        adversary__schedule={"kind": "adaptive", "candidates": 4},
        adversary__attack="malformed",
    )
    result = bgdsim.run(sc, log_path=None)
    assert result.status == "completed"
    assert result.errors[-1] < result.errors[0]


def test_registry_lists_every_schedule() -> None:
    assert set(schedules.names()) == {
        "static",
        "random",
        "round_robin",
        "batch_spread",
        "batch_concentrate",
        "adaptive",
        "scripted",
    }


# ----------------------------------------------------------------------------- the view

_SEEN: list[AdversaryView] = []


@attacks.register("_spy_for_tests")
def _spy(view: AdversaryView, rng: np.random.Generator) -> np.ndarray:
    _SEEN.append(view)
    return view.honest[view.byzantine]


def test_the_view_holds_the_round_and_nothing_from_later_rounds(
    scenario: ScenarioFactory,
) -> None:
    _SEEN.clear()
    result = bgdsim.run(scenario(adversary__attack="_spy_for_tests", rounds=4), log_path=None)
    from bgdsim import problems
    from bgdsim.config import ProblemConfig
    from bgdsim.rng import stream

    cfg = ProblemConfig.model_validate({"dim": 5, "samples": 4000})
    problem = problems.build(cfg, 20, stream(0, "data"))
    assert [v.round for v in _SEEN] == [1, 2, 3, 4]
    for v in _SEEN:
        t = v.round
        np.testing.assert_array_equal(v.theta, result.thetas[t - 1])
        np.testing.assert_array_equal(v.history, result.thetas[:t])  # θ_0 … θ_{t-1} only
        np.testing.assert_array_equal(v.honest, problem.gradients(result.thetas[t - 1]))
        assert v.latency_down is not None and v.latency_down.shape == (20,)
        fields = {f for f in vars(v) if not f.startswith("_")}
        assert fields == {
            "round",
            "theta",
            "honest",
            "byzantine",
            "q",
            "aggregator",
            "batches",
            "params",
            "aggregate",
            "missing",
            "history",
            "round_timeout",
            "max_norm",
            "compute_time",
            "compute_times",
            "latency_down",
            "latency_up",
            "batch_order",
            "corrupted",
            "pre",
        }


def test_the_views_aggregate_is_the_servers_rule_with_its_random_bits(
    scenario: ScenarioFactory, tmp_path: Any
) -> None:
    _SEEN.clear()
    sc = scenario(
        adversary__attack="_spy_for_tests",
        server__aggregator__rebatch=True,
        rounds=3,
        cluster__byzantine=0,
    )
    # with q = 0 the attack is never asked; make one Byzantine to see the views
    sc = scenario(adversary__attack="_spy_for_tests", server__aggregator__rebatch=True, rounds=3)
    path = tmp_path / "r.jsonl"
    bgdsim.run(sc, log_path=path)
    aggs = [
        bgdsim.load_payload(path, e["payload"])
        for e in bgdsim.read_events(path)
        if e["event"] == "aggregate"
    ]
    for v, agg in zip(_SEEN, aggs, strict=True):
        received = v.honest.copy()  # the spy sends honest gradients; nothing is missing
        np.testing.assert_array_equal(v.server_aggregate(received), agg)
        assert v.batch_order is not None


def test_the_views_aggregate_includes_the_pre_chain(
    scenario: ScenarioFactory, tmp_path: Any
) -> None:
    _SEEN.clear()
    pre = [{"kind": "nnm"}, {"kind": "bucketing", "s": 3}]
    sc = scenario(adversary__attack="_spy_for_tests", server__pre=pre, rounds=3)
    path = tmp_path / "r.jsonl"
    bgdsim.run(sc, log_path=path)
    aggs = [
        bgdsim.load_payload(path, e["payload"])
        for e in bgdsim.read_events(path)
        if e["event"] == "aggregate"
    ]
    for v, agg in zip(_SEEN, aggs, strict=True):
        assert v.pre == pre
        assert v.batch_order is None
        np.testing.assert_array_equal(v.server_aggregate(v.honest.copy()), agg)
        # without the chain the rule would give another aggregate
        gmom = aggregators.get("gmom")(v.honest, batches=5)
        assert not np.array_equal(gmom, agg)


def test_crafted_rows_as_an_array_or_a_list_make_the_same_plan() -> None:
    sched = build("static", 20, 3, 0, workers=[2, 5, 11])
    rows = np.arange(9.0).reshape(3, 3)
    plans = [
        Adversary(sched, lambda v, rng, m=msgs: m, {}, 3, np.random.default_rng(0)).act(view())
        for msgs in (rows, list(rows))
    ]
    assert np.array_equal(plans[0].block, plans[1].block)
    assert np.array_equal(plans[0].block[[2, 5, 11]], rows)
    assert plans[0].loose == plans[1].loose == set()
    assert not plans[0].outgoing.other and not plans[1].outgoing.other
