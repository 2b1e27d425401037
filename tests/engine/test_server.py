"""The sans-I/O round logic: validation, barrier completeness, missing policies, update."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bgdsim import aggregators
from bgdsim.engine import Outcome, ServerCore, ServerRule, validate_report

D, M = 3, 4


def core(missing: str = "zero", aggregator: str = "mean", **kw: object) -> ServerCore:
    return ServerCore(
        np.zeros(D),
        aggregators.get(aggregator),
        {},
        step_size=0.5,
        workers=M,
        missing=missing,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("vector", "fragment"),
    [
        (np.array([1.0, np.nan, 0.0]), "non-finite entry nan at index 1"),
        (np.array([np.inf, 0.0, 0.0]), "non-finite entry inf at index 0"),
        (np.zeros(4), "wrong shape (4,) (expected (3,))"),
        (np.zeros((3, 1)), "wrong shape (3, 1)"),
        ([1.0, 2.0, 3.0], "not an array (list)"),
        (np.array(["a", "b", "c"]), "wrong dtype"),
        (np.array([1 + 1j, 0, 0]), "wrong dtype"),
        # integers: np.abs(-2**63) overflows, the norm came out negative and passed max_norm
        (np.full(3, -(2**63), dtype=np.int64), "wrong dtype <i8"),
        # float128 passed the finite check and became +inf as float64
        (np.full(3, np.longdouble("1e4000")), "wrong dtype"),
        (np.zeros(3, dtype=np.float16), "wrong dtype <f2"),
        (np.zeros(3, dtype=">f8"), "wrong dtype >f8"),
        (np.array(1.0), "wrong shape ()"),
        (np.zeros((0, 3)), "wrong shape (0, 3)"),
        (np.zeros((1,) * 32), "wrong shape"),
        (np.full(3, np.inf, dtype=np.float32), "non-finite entry inf"),
    ],
    ids=[
        "nan",
        "inf",
        "long",
        "2d",
        "list",
        "str",
        "complex",
        "int64-min",
        "float128",
        "float16",
        "big-endian",
        "0-d",
        "empty-2d",
        "32-d",
        "float32-inf",
    ],
)
def test_malformed_reports_are_rejected_with_the_reason(vector: object, fragment: str) -> None:
    reason = validate_report(vector, dim=D)
    assert reason is not None
    assert fragment in reason


def test_float32_reports_are_taken_at_their_exact_float64_values() -> None:
    c = core()
    inbox = c.open_round(1)
    v = np.array([0.1, -3.5, 1e30], dtype=np.float32)
    assert c.receive(inbox, 0, 1, v) == (Outcome.ACCEPTED, None)
    assert inbox.reports[0].tobytes() == v.astype(np.float64).tobytes()


def test_huge_but_finite_reports_pass_unless_a_norm_cap_is_set() -> None:
    v = np.array([1e200, -1e200, 3.0])  # v·v overflows; the entries are finite
    assert validate_report(v, dim=D) is None
    reason = validate_report(v, dim=D, max_norm=1e10)
    assert reason is not None and "exceeds server.max_norm" in reason
    assert validate_report(np.ones(D), dim=D, max_norm=10.0) is None


def test_receive_classifies_wrong_round_duplicate_unknown_worker_and_late() -> None:
    c = core()
    inbox = c.open_round(2)
    assert c.receive(inbox, 0, 2, np.ones(D)) == (Outcome.ACCEPTED, None)
    outcome, reason = c.receive(inbox, 0, 2, np.ones(D))
    assert outcome is Outcome.REJECTED and reason == "duplicate report"
    outcome, reason = c.receive(inbox, 1, 3, np.ones(D))
    assert outcome is Outcome.REJECTED and "wrong round 3" in (reason or "")
    outcome, reason = c.receive(inbox, 7, 2, np.ones(D))
    assert outcome is Outcome.REJECTED and "unknown worker 7" in (reason or "")
    outcome, _ = c.receive(inbox, 2, 1, np.ones(D))
    assert outcome is Outcome.LATE
    c.close(inbox)
    outcome, _ = c.receive(inbox, 3, 2, np.ones(D))
    assert outcome is Outcome.LATE


def test_inbox_is_complete_when_every_worker_was_heard_even_if_rejected() -> None:
    c = core()
    inbox = c.open_round(1)
    for j in range(M - 1):
        c.receive(inbox, j, 1, np.ones(D))
        assert not inbox.complete()
    c.receive(inbox, M - 1, 1, np.array([np.nan, 0, 0]))
    assert inbox.complete()
    assert inbox.received.tolist() == [True, True, True, False]


def _round(c: ServerCore, t: int, reports: dict[int, np.ndarray]) -> np.ndarray:
    inbox = c.open_round(t)
    for j, v in reports.items():
        c.receive(inbox, j, t, v)
    result = c.close(inbox)
    return result.aggregate


def test_missing_zero_counts_missing_reports_as_zero_vectors() -> None:
    c = core("zero")
    agg = _round(c, 1, {0: np.full(D, 4.0), 1: np.full(D, 4.0)})
    np.testing.assert_array_equal(agg, np.full(D, 2.0))  # (4 + 4 + 0 + 0) / 4
    np.testing.assert_array_equal(c.theta, np.full(D, -1.0))  # θ₁ = 0 − ½·2


def test_missing_exclude_aggregates_only_the_received_reports() -> None:
    c = core("exclude")
    agg = _round(c, 1, {0: np.full(D, 4.0), 1: np.full(D, 2.0)})
    np.testing.assert_array_equal(agg, np.full(D, 3.0))


def test_missing_exclude_with_nothing_received_leaves_theta_unchanged() -> None:
    c = core("exclude")
    agg = _round(c, 1, {})
    np.testing.assert_array_equal(agg, np.zeros(D))
    np.testing.assert_array_equal(c.theta, np.zeros(D))


def test_missing_stale_reuses_the_last_accepted_report_and_zero_before_any() -> None:
    c = core("stale")
    agg1 = _round(c, 1, {0: np.full(D, 4.0), 1: np.full(D, 8.0)})
    np.testing.assert_array_equal(agg1, np.full(D, 3.0))  # (4 + 8 + 0 + 0) / 4
    agg2 = _round(c, 2, {1: np.full(D, 0.0), 2: np.full(D, 4.0)})
    np.testing.assert_array_equal(agg2, np.full(D, 2.0))  # (4 stale + 0 + 4 + 0) / 4


def test_a_rejected_report_counts_as_missing() -> None:
    c = core("zero")
    agg = _round(c, 1, {j: np.full(D, 4.0) for j in range(M - 1)} | {M - 1: np.full(D, np.nan)})
    np.testing.assert_array_equal(agg, np.full(D, 3.0))


def test_a_non_finite_update_is_flagged_and_theta_kept() -> None:
    c = core("zero")
    inbox = c.open_round(1)
    for j in range(M):
        c.receive(inbox, j, 1, np.full(D, 1.5e308))  # finite, but the mean overflows
    result = c.close(inbox)
    assert not result.finite
    np.testing.assert_array_equal(c.theta, np.zeros(D))


def test_unknown_missing_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="missing-report policy 'drop'"):
        core("drop")


def test_block_screening_agrees_with_one_by_one_validation() -> None:
    from bgdsim.engine import validate_block

    block = np.array([[1.0, 2, 3], [np.nan, 0, 0], [1e200, -1e200, 3.0], [0, np.inf, 0]])
    for max_norm in (None, 1e10):
        expected = [validate_report(row, dim=D, max_norm=max_norm) for row in block]
        assert validate_block(block, max_norm=max_norm) == expected


# ------------------------------------------------- PreconditionError: skip, or stop loudly


def _rule_core(
    rule: object, missing: str = "zero", params: dict[str, object] | None = None
) -> ServerCore:
    return ServerCore(
        np.zeros(D),
        rule,  # type: ignore[arg-type]
        params or {},
        step_size=0.5,
        workers=M,
        missing=missing,
    )


def test_an_unmet_precondition_skips_the_round() -> None:
    # krum with f = 1 needs n >= 5; exclude left 3 of the 4 reports (4 < 5 anyway)
    c = _rule_core(aggregators.get("krum"), "exclude", {"f": 1})
    inbox = c.open_round(1)
    for j in range(3):
        c.receive(inbox, j, 1, np.full(D, 1.0))
    result = c.close(inbox)
    assert result.skipped is not None and "krum needs n >= 2f + 3" in result.skipped
    np.testing.assert_array_equal(c.theta, np.zeros(D))


def test_a_rule_raising_a_plain_value_error_stops_the_run() -> None:
    def shape_bug(vectors: np.ndarray) -> np.ndarray:
        return vectors - vectors.mean(axis=1)  # (n, d) - (n,): a broadcasting ValueError

    c = _rule_core(shape_bug)
    inbox = c.open_round(1)
    for j in range(M):
        c.receive(inbox, j, 1, np.full(D, 1.0))
    with pytest.raises(ValueError, match="broadcast"):
        c.close(inbox)


def test_a_rule_raising_another_exception_stops_the_run() -> None:
    def index_bug(vectors: np.ndarray) -> np.ndarray:
        return vectors[vectors.shape[0]]

    c = _rule_core(index_bug)
    inbox = c.open_round(1)
    with pytest.raises(IndexError):
        c.close(inbox)


def test_a_rule_raising_precondition_error_directly_skips() -> None:
    def picky(vectors: np.ndarray) -> np.ndarray:
        raise aggregators.PreconditionError(f"picky needs 9 reports, got {vectors.shape[0]}")

    c = _rule_core(picky)
    result = c.close(c.open_round(1))
    assert result.skipped == "picky needs 9 reports, got 4"


def test_the_config_dry_run_uses_a_realistic_dimension(monkeypatch: pytest.MonkeyPatch) -> None:
    from bgdsim.config import Scenario

    def shape_bug(vectors: np.ndarray) -> np.ndarray:
        # broadcasts silently at d = 1: (n, 1) - (n,) -> (n, n), then a (n,) "aggregate"
        return (vectors - vectors.mean(axis=1)).mean(axis=1)

    seen: list[tuple[int, ...]] = []

    def spy(vectors: np.ndarray) -> np.ndarray:
        seen.append(vectors.shape)
        return np.asarray(vectors.mean(axis=0))

    table = {
        "cluster": {"workers": 8, "byzantine": 1},
        "server": {"aggregator": {"kind": "bug"}},
    }
    monkeypatch.setitem(aggregators.registry._items, "bug", shape_bug)
    with pytest.raises(ValueError, match=r"server\.aggregator: .*broadcast"):
        Scenario.model_validate({**table, "problem": {"dim": 10, "samples": 80}})
    monkeypatch.setitem(aggregators.registry._items, "bug", spy)
    Scenario.model_validate({**table, "problem": {"dim": 100, "samples": 80}})
    Scenario.model_validate({**table, "problem": {"dim": 3, "samples": 80}})
    Scenario.model_validate({**table, "problem": {"dim": 8, "samples": 80}})
    assert seen == [(8, 16), (8, 3), (8, 7)]  # capped at 16; moved off d = m


def test_a_geometric_median_that_did_not_converge_is_reported_with_the_round() -> None:
    from bgdsim.aggregators.geometric_median import geometric_median

    def hurried(vectors: np.ndarray) -> np.ndarray:  # one Weiszfeld step only
        return geometric_median(vectors, max_iter=1)

    c = ServerCore(np.zeros(D), hurried, {}, step_size=0.5, workers=M)
    inbox = c.open_round(1)
    rng = np.random.default_rng(0)
    for j in range(M):
        c.receive(inbox, j, 1, rng.standard_normal(D))
    assert c.close(inbox).stalls == (1,)
    patient = ServerCore(np.zeros(D), geometric_median, {}, step_size=0.5, workers=M)
    inbox = patient.open_round(1)
    for j in range(M):
        patient.receive(inbox, j, 1, rng.standard_normal(D))
    assert patient.close(inbox).stalls == ()


def test_a_stalled_median_is_logged_with_its_round(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Through a whole run: each round's ``aggregate`` event lists its stalls."""
    import bgdsim
    from bgdsim.aggregators.geometric_median import geometric_median
    from tests.conftest import make_scenario

    def hurried(vectors: np.ndarray) -> np.ndarray:
        return geometric_median(vectors, max_iter=1)

    monkeypatch.setitem(aggregators.registry._items, "hurried", hurried)
    sc = make_scenario(rounds=2, problem__dim=3, problem__samples=400, cluster__workers=8,
                       cluster__byzantine=1, server__aggregator={"kind": "hurried"})  # fmt: skip
    bgdsim.run(sc, log_path=tmp_path / "h.jsonl")
    logged = [(e["round"], e.get("unconverged")) for e in bgdsim.read_log(tmp_path / "h.jsonl")
              if e["event"] == "aggregate"]  # fmt: skip
    assert logged == [(1, [1]), (2, [1])]
    assert bgdsim.verify(tmp_path / "h.jsonl").ok


def _chain(tables: list[object], f: int = 1) -> aggregators.pre.Chain:
    return aggregators.pre.Chain(aggregators.pre.parse_chain(tables), f=f)


def test_the_rule_applies_its_pre_chain_before_the_aggregator() -> None:
    x = np.array([[0.0], [1.0], [2.0], [30.0]])
    rule = ServerRule(aggregators.get("coordinate_median"), {}, pre=_chain(["nnm"]))
    # nnm (f = 1), 3 nearest each: 1, 1, 1 and (30 + 2 + 1)/3 = 11; their median is 1
    np.testing.assert_array_equal(rule(x, seed=5), [1.0])
    bucketed = ServerRule(aggregators.get("mean"), {}, pre=_chain([{"kind": "bucketing", "s": 3}]))
    perm = aggregators.pre.chain.step_rng(5, 0).permutation(4)
    want = np.mean([x[perm[:3]].mean(axis=0), x[perm[3:]].mean(axis=0)], axis=0)
    np.testing.assert_array_equal(bucketed(x, seed=5), want)
    assert bucketed.describe("mean") == "bucketing(s=3) → mean"
    assert ServerRule(aggregators.get("mean"), {}).describe("mean") == "mean"


def test_weights_follow_rows_through_a_chain_that_keeps_them() -> None:
    seen: list[object] = []

    def weighted(vectors: np.ndarray, *, weights: np.ndarray | None = None) -> np.ndarray:
        seen.append(None if weights is None else weights.tolist())
        return vectors.mean(axis=0)

    w = np.array([1.0, 2.0, 3.0, 4.0])
    x = np.ones((4, 2))
    ServerRule(weighted, {}, w, _chain([{"kind": "clipping", "tau": 1.0}]))(x, 0)
    ServerRule(weighted, {}, w, _chain(["bucketing"]))(x, 0)
    mask = np.array([True, False, True, True])
    ServerRule(weighted, {}, w, _chain(["arc"]))(x[mask], 0, mask)
    assert seen == [[1.0, 2.0, 3.0, 4.0], None, [1.0, 3.0, 4.0]]


def test_a_pre_chain_precondition_skips_the_round() -> None:
    rule = ServerRule(aggregators.get("mean"), {}, pre=_chain(["nnm"], f=3))
    c = ServerCore(np.zeros(D), rule, step_size=0.5, workers=M, missing="exclude")
    inbox = c.open_round(1)
    for j in range(3):
        c.receive(inbox, j, 1, np.full(D, 1.0))
    result = c.close(inbox, 9)
    assert result.skipped == "nnm needs n > f reports, got n=3, f=3"
    np.testing.assert_array_equal(c.theta, np.zeros(D))


def test_a_step_schedule_sets_each_rounds_eta_skipped_rounds_included() -> None:
    c = ServerCore(np.zeros(D), aggregators.get("mean"), {}, step_size=1.0, workers=M,
                   missing="exclude", schedule=lambda t: 1.0 / t)  # fmt: skip
    for t in (1, 2):
        inbox = c.open_round(t)
        for j in range(M):
            c.receive(inbox, j, t, np.ones(D))
        assert c.close(inbox).step_size == 1.0 / t
    np.testing.assert_array_equal(c.theta, np.full(D, -1.5))  # −1, then −1/2
    assert c.step_at(4) == 0.25 and core().step_at(7) == 0.5  # no schedule: η
    skipped = _rule_core(aggregators.get("krum"), "exclude", {"f": 1})
    skipped.schedule = lambda t: 0.1 * t
    inbox = skipped.open_round(3)
    for j in range(3):  # krum with f = 1 needs 5
        skipped.receive(inbox, j, 3, np.ones(D))
    result = skipped.close(inbox)
    assert result.skipped is not None and result.step_size == pytest.approx(0.3)
