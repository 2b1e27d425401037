"""The barrier as decisions: all, quorum + grace, timeout, and timers that are already due."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bgdsim.engine import Arm, Barrier, Fire


def test_all_fires_when_every_worker_is_heard_from_rejected_ones_included() -> None:
    b = Barrier(3, timeout=1.0)
    assert b.open(2.0) == 3.0
    assert b.heard(1, 1, 2.1) is None
    assert b.heard(2, 1, 2.2) is None  # a rejected report: heard, not accepted
    assert b.heard(3, 2, 2.3) == Fire("all")
    assert b.reason == "all"
    assert b.timer("timeout") is None  # the first decision wins


def test_quorum_without_grace_fires_at_the_quorum_th_accepted_report() -> None:
    b = Barrier(5, timeout=1.0, quorum=2)
    b.open(0.0)
    assert b.heard(1, 1, 0.1) is None
    assert b.heard(2, 1, 0.2) is None  # rejected: does not count toward the quorum
    assert b.heard(3, 2, 0.3) == Fire("quorum")
    assert b.heard(4, 3, 0.4) is None


def test_quorum_with_grace_arms_one_timer_then_fires_on_it() -> None:
    b = Barrier(4, timeout=1.0, quorum=2, grace=0.25)
    b.open(10.0)
    b.heard(1, 1, 10.1)
    assert b.heard(2, 2, 10.5) == Arm(10.75, 0.25)
    assert b.heard(3, 3, 10.6) is None  # armed once
    assert b.timer("quorum") == Fire("quorum")


def test_all_heard_during_the_grace_period_fires_at_once() -> None:
    b = Barrier(2, timeout=1.0, quorum=1, grace=0.5)
    b.open(0.0)
    assert b.heard(1, 1, 0.1) == Arm(0.6, 0.5)
    assert b.heard(2, 2, 0.2) == Fire("all")
    assert b.timer("quorum") is None


def test_a_new_round_forgets_the_last_one() -> None:
    b = Barrier(2, timeout=1.0, quorum=1, grace=0.5)
    b.open(0.0)
    b.heard(1, 1, 0.1)
    b.timer("timeout")
    b.open(5.0)
    assert not b.fired and b.deadline == 6.0
    assert b.heard(1, 1, 5.1) == Arm(5.6, 0.5)


def test_a_timer_already_due_comes_before_a_late_message() -> None:
    b = Barrier(3, timeout=1.0, quorum=1, grace=0.5)
    b.open(0.0)
    assert b.due(1.0) is None  # exactly at the timeout: the message is in time
    assert b.due(1.01) == Fire("timeout")
    b.open(0.0)
    b.heard(1, 1, 0.2)  # grace due at 0.7
    assert b.due(0.7) is None
    assert b.due(0.8) == Fire("quorum")
    b.open(0.0)
    b.heard(1, 1, 0.5)  # grace due at 1.0, with the timeout: the timeout wins the tie
    assert b.due(1.5) == Fire("timeout")


@pytest.mark.parametrize(("quorum", "grace"), [(0, 0.0), (4, 0.0), (1, -1.0)])
def test_impossible_settings_are_refused(quorum: int, grace: float) -> None:
    with pytest.raises(ValueError, match=r"quorum|grace"):
        Barrier(3, timeout=1.0, quorum=quorum, grace=grace)


@given(
    st.lists(st.tuples(st.floats(0, 2), st.booleans()), min_size=0, max_size=12),
    st.integers(1, 12),
    st.floats(0, 1),
)
def test_the_reason_is_whichever_rule_is_met_first(
    arrivals: list[tuple[float, bool]], quorum: int, grace: float
) -> None:
    """Replayed in time order, the decisions name the earliest rule that was met."""
    m = 12
    quorum = min(quorum, m)
    b = Barrier(m, timeout=1.0, quorum=quorum, grace=grace)
    b.open(0.0)
    heard = accepted = 0
    fired_at = None
    for time, ok in sorted(arrivals):
        if b.due(time) is not None:
            break
        heard, accepted = heard + 1, accepted + ok
        decision = b.heard(heard, accepted, time)
        if isinstance(decision, Fire):
            fired_at = time
            break
    if not b.fired:
        b.timer("timeout" if b.deadline <= b.grace_at else "quorum")
    # what the reason must be, from first principles
    times = sorted(arrivals)
    n_ok, q_time, all_time = 0, None, None
    for i, (time, ok) in enumerate(times):
        n_ok += ok
        if q_time is None and n_ok >= quorum:
            q_time = time + grace
        if i + 1 == m:
            all_time = time
    candidates = [(1.0, 1, "timeout")]
    if q_time is not None:
        candidates.append((q_time, 2 if grace > 0 else -1, "quorum"))  # checked before all
    if all_time is not None:
        candidates.append((all_time, 0, "all"))
    expected = min(candidates)
    if expected[0] > 1.0:
        expected = (1.0, 1, "timeout")
    assert b.reason == expected[2], (times, quorum, grace, fired_at)


@given(
    st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, np.inf]), min_size=6, max_size=6),
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.integers(1, 6),
    st.sampled_from([0.0, 0.25, 0.5]),
)
def test_the_closed_form_agrees_with_the_event_driven_barrier(
    times: list[float], ok: list[bool], quorum: int, grace: float
) -> None:
    """Ties included: reports at one instant before timers, the timeout before grace."""
    arrivals, accepted = np.array(times), np.array(ok)
    closed = Barrier(6, timeout=1.0, quorum=quorum, grace=grace)
    closed.open(0.0)
    at, reason = closed.resolve(arrivals, accepted)
    driven = Barrier(6, timeout=1.0, quorum=quorum, grace=grace)
    driven.open(0.0)
    timers = [(1.0, 1, "timeout")]
    heard = kept = 0
    fired_at = None
    for time, good in sorted(zip(arrivals.tolist(), ok, strict=True), key=lambda x: x[0]):
        due = [x for x in timers if x[0] < time]
        if due or not np.isfinite(time):
            break
        heard, kept = heard + 1, kept + good
        decision = driven.heard(heard, kept, time)
        if isinstance(decision, Arm):
            timers.append((decision.at, 2, "quorum"))
        if isinstance(decision, Fire):
            fired_at = time
            break
    if fired_at is None:
        first = min(timers)
        driven.timer(first[2])
        fired_at = first[0]
    assert (at, reason) == (fired_at, driven.reason)
