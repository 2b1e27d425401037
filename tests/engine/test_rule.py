"""The server's rule with history: the state is the core's, committed when a round seals."""

from __future__ import annotations

import numpy as np

from bgdsim import aggregators
from bgdsim.engine import RoundResult, ServerCore, ServerRule

D, M = 3, 4


def running_mean(
    vectors: np.ndarray, *, state: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A rule with history whose state is not its aggregate: (Σ of round means, rounds);
    the aggregate is their average. It refuses a round with fewer than M reports."""
    if vectors.shape[0] < M:
        raise aggregators.PreconditionError(f"needs {M} reports")
    total = np.zeros(vectors.shape[1] + 1) if state is None else state
    total = total + np.append(vectors.mean(axis=0), 1.0)
    return total[:-1] / total[-1], total


def cc_core(**kw: object) -> ServerCore:
    fn = aggregators.get("centered_clipping_history")
    return ServerCore(np.zeros(D), ServerRule(fn, {"tau": 1.0, "iters": 1, "start": "zero"}),
                      step_size=0.5, workers=M, **kw)  # type: ignore[arg-type]  # fmt: skip


def listed(state: np.ndarray | None) -> list[float] | None:
    return None if state is None else state.tolist()


def full_round(core: ServerCore, t: int, rows: np.ndarray) -> RoundResult:
    inbox = core.open_round(t)
    for j, row in enumerate(rows):
        core.receive(inbox, j, t, row)
    return core.close(inbox)


def test_a_stateless_rule_makes_no_state() -> None:
    rule = ServerRule(aggregators.get("mean"), {})
    agg, state = rule.apply(np.array([[0.0], [2.0]]))
    assert agg.tolist() == [1.0] and state is None and not rule.stateful


def test_the_new_state_counts_only_once_the_round_is_sealed() -> None:
    core = cc_core()
    reports = np.tile([10.0, 0.0, 0.0], (M, 1))
    result = full_round(core, 1, reports)
    # from 0: every difference (10, 0, 0) is clipped to (1, 0, 0); θ = 0 − 0.5·v
    assert result.aggregate.tolist() == [1.0, 0.0, 0.0]
    assert listed(result.state) == [1.0, 0.0, 0.0]
    assert core.theta.tolist() == [-0.5, 0.0, 0.0] and listed(core.state) is None
    core.seal()
    assert listed(core.state) == [1.0, 0.0, 0.0]
    # round 2 starts from v_1 = (1, 0, 0): one more step of τ
    assert full_round(core, 2, reports).aggregate.tolist() == [2.0, 0.0, 0.0]


def test_the_adversarys_calls_never_change_the_state() -> None:
    core = cc_core()
    full_round(core, 1, np.tile([10.0, 0.0, 0.0], (M, 1)))
    core.seal()
    view = core.rule.for_round(seed=7, state=core.state)
    for far in (1e3, -1e6, 5.0):
        view(np.tile([far, 0.0, 0.0], (M, 1)))
    assert listed(core.state) == [1.0, 0.0, 0.0]
    # the view computes what the server will: from the committed state
    assert view(np.tile([10.0, 0.0, 0.0], (M, 1))).tolist() == [2.0, 0.0, 0.0]


def test_an_unsealed_round_leaves_the_state_as_it_was() -> None:
    core = cc_core()
    full_round(core, 1, np.ones((M, D)))
    core.open_round(2)  # round 1 never sealed (a cut log, a diverged run)
    core.seal()
    assert listed(core.state) is None


def test_a_skipped_round_keeps_the_old_state() -> None:
    core = ServerCore(np.zeros(1), ServerRule(running_mean, {}), step_size=1.0,
                      workers=M, missing="exclude")  # fmt: skip
    full_round(core, 1, np.full((M, 1), 2.0))
    core.seal()
    assert listed(core.state) == [2.0, 1.0]
    skipped = full_round(core, 2, np.full((M - 1, 1), 8.0))  # one report missing
    assert skipped.skipped == f"needs {M} reports" and skipped.state is None
    core.seal()
    assert listed(core.state) == [2.0, 1.0]
    result = full_round(core, 3, np.full((M, 1), 4.0))
    core.seal()
    assert result.aggregate.tolist() == [3.0] and listed(core.state) == [6.0, 2.0]
    assert core.theta.tolist() == [-5.0]  # −2, no step, −3
