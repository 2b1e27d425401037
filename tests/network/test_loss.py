"""Loss models: loss rates, Gilbert-Elliott bursts, per-link state, validation.

Seeds are fixed, so every check is deterministic; each tolerance is stated next to it
as a multiple of the estimator's standard error (SE), so that a correct model with a
random seed would fail far less than once in a thousand runs.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from scipy import stats

from bgdsim.network.loss import (
    GilbertElliottLoss,
    GilbertElliottState,
    IIDLoss,
    LossModel,
    LossState,
    losses,
    parse_loss,
)


def _run(model: LossModel, links: int, steps: int, seed: int) -> np.ndarray:
    """``(steps, links)`` losses: every link sends one message per step."""
    rng = np.random.default_rng(seed)
    state = model.new_state(links, rng)
    all_links = np.arange(links)
    return np.array([state.lose(rng, all_links) for _ in range(steps)])


def _mean_run_length(lost: np.ndarray) -> float:
    """Mean length of runs of consecutive losses along axis 0 (time), over all links."""
    edges = np.diff(lost.astype(np.int8), axis=0, prepend=0, append=0)
    return float(lost.sum() / (edges == 1).sum())


def _lag1(lost: np.ndarray) -> float:
    """Lag-1 autocorrelation of the loss indicator in time, pooled over links."""
    x = lost.astype(float) - lost.mean()
    return float((x[1:] * x[:-1]).mean() / x.var())


# ----------------------------------------------------------------------------- iid


def test_iid_rate() -> None:
    model = parse_loss({"kind": "iid", "p": 0.1})
    lost = _run(model, links=1000, steps=50, seed=0)
    assert model.loss_rate() == 0.1
    # Exact binomial test on 50 000 independent messages, p > 1e-3.
    assert stats.binomtest(int(lost.sum()), lost.size, 0.1).pvalue > 1e-3
    assert abs(_lag1(lost)) < 0.01  # independent: SE = 1/√(5e4) ≈ 0.0045, 2.2 SE


@pytest.mark.parametrize(("p", "expected"), [(0.0, False), (1.0, True)])
def test_iid_extremes(p: float, expected: bool) -> None:
    lost = _run(IIDLoss(p=p), links=10, steps=10, seed=0)
    assert (lost == expected).all()


def test_iid_draws_what_the_old_drop_drew() -> None:
    """``iid`` reproduces ``rng.random(m) < drop``: same losses for the same seed."""
    state = IIDLoss(p=0.3).new_state(50, np.random.default_rng(9))
    lost = state.lose(np.random.default_rng(1), np.arange(50))
    np.testing.assert_array_equal(lost, np.random.default_rng(1).random(50) < 0.3)


def test_defaults_and_parse() -> None:
    assert parse_loss({}) == IIDLoss()  # kind defaults to iid
    assert IIDLoss().p == 0.01
    ge = parse_loss({"kind": "gilbert_elliott"})
    assert isinstance(ge, GilbertElliottLoss)
    assert (ge.loss_rate(), ge.burst, ge.loss_good, ge.loss_bad) == (0.01, 5.0, 0.0, 1.0)
    assert parse_loss(ge) is ge
    assert {"iid", "gilbert_elliott"} <= set(losses.names())
    for name in ("iid", "gilbert_elliott"):
        cls = losses.get(name)
        assert cls.__doc__ is not None and len(cls.__doc__.strip().splitlines()) == 1
        assert cls.summary


# ----------------------------------------------------------------------------- gilbert-elliott

BURSTY = GilbertElliottLoss(loss_rate=0.1, burst=5)  # p_BG = 0.2, p_GB = 1/45


def test_transition_probabilities() -> None:
    assert BURSTY.p_bad_to_good == pytest.approx(0.2)
    assert BURSTY.p_good_to_bad == pytest.approx(0.1 * 0.2 / 0.9)
    assert BURSTY.stationary_bad == pytest.approx(0.1)
    general = GilbertElliottLoss(loss_rate=0.1, burst=8, loss_good=0.02, loss_bad=0.6)
    pi = 0.08 / 0.58
    assert general.stationary_bad == pytest.approx(pi)
    assert (1 - pi) * 0.02 + pi * 0.6 == pytest.approx(0.1)
    assert general.p_good_to_bad == pytest.approx(pi / 8 / (1 - pi))


def test_gilbert_elliott_long_run_rate_bursts_and_correlation() -> None:
    lost = _run(BURSTY, links=200, steps=5000, seed=1)  # 10⁶ messages
    # Loss rate: per link the indicator is a 2-state chain with lag-1 correlation
    # ρ = 1 − p_GB − p_BG = 7/9, so Var(mean) ≈ r(1−r)(1+ρ)/(1−ρ) / n = 0.09·8 / 10⁶:
    # SE ≈ 0.00085; tolerance 0.004 ≈ 4.7 SE.
    assert lost.mean() == pytest.approx(BURSTY.loss_rate(), abs=0.004)
    # Mean run of consecutive losses ≈ burst: ~20 000 geometric runs of mean 5 and
    # SD √20 ≈ 4.5 give SE ≈ 0.03; runs cut by the ends of the window bias it down by
    # < 0.05; tolerance 0.2.
    assert _mean_run_length(lost) == pytest.approx(5.0, abs=0.2)
    # Bursty, not iid: P(lost | previous lost) = 1 − p_BG = 0.8 (iid: 0.1), and the
    # lag-1 autocorrelation is 1 − p_GB − p_BG ≈ 0.778 (iid: 0). About 10⁵ loss pairs:
    # SE of the conditional ≈ 0.0013, of the correlation ≈ 0.002; tolerance 0.02.
    after_loss = lost[1:][lost[:-1]]
    assert after_loss.mean() == pytest.approx(0.8, abs=0.02)
    rho = 1 - BURSTY.p_good_to_bad - BURSTY.p_bad_to_good
    assert _lag1(lost) == pytest.approx(rho, abs=0.02)
    iid = _run(IIDLoss(p=0.1), links=200, steps=5000, seed=1)
    assert _lag1(lost) > _lag1(iid) + 0.7
    assert _mean_run_length(iid) == pytest.approx(1 / 0.9, abs=0.02)  # geometric, 1/(1−p)


def test_gilbert_elliott_general_case_keeps_the_loss_rate() -> None:
    """With loss_good/loss_bad not 0/1 the rate is still loss_rate; burst is the bad sojourn."""
    model = GilbertElliottLoss(loss_rate=0.1, burst=8, loss_good=0.02, loss_bad=0.6)
    rng = np.random.default_rng(2)
    state = model.new_state(200, rng)
    assert isinstance(state, GilbertElliottState)
    links = np.arange(200)
    bad, lost = [], []
    for _ in range(5000):
        bad.append(state.bad)
        lost.append(state.lose(rng, links))
    lost_a, bad_a = np.array(lost), np.array(bad)
    # ρ of the state chain = 1 − p_GB − 1/8 ≈ 0.855 inflates Var by ≈ 13 (less for the
    # losses, which add independent noise); SE < 0.0011; tolerance 0.005 ≈ 4.5 SE.
    assert lost_a.mean() == pytest.approx(0.1, abs=0.005)
    assert bad_a.mean() == pytest.approx(model.stationary_bad, abs=0.01)  # π_B ≈ 0.138
    # Bad sojourns: ~17 000 geometric runs of mean 8, SD ≈ 7.5: SE ≈ 0.06; tolerance 0.3.
    assert _mean_run_length(bad_a) == pytest.approx(8.0, abs=0.3)
    # Losses follow the state: rate 0.6 when bad, 0.02 when good (≥ 1.3·10⁵ messages
    # per state given the state: binomial SE ≤ 0.0014; tolerance 0.01).
    assert lost_a[bad_a].mean() == pytest.approx(0.6, abs=0.01)
    assert lost_a[~bad_a].mean() == pytest.approx(0.02, abs=0.01)


def test_initial_states_are_stationary() -> None:
    n = 100_000
    state = BURSTY.new_state(n, np.random.default_rng(3))
    assert isinstance(state, GilbertElliottState)
    # The first message already sees the long-run rate (binomial test, p > 1e-3).
    assert stats.binomtest(int(state.bad.sum()), n, 0.1).pvalue > 1e-3
    first = state.lose(np.random.default_rng(4), np.arange(n))
    assert stats.binomtest(int(first.sum()), n, 0.1).pvalue > 1e-3


def test_zero_loss_rate_never_loses() -> None:
    lost = _run(GilbertElliottLoss(loss_rate=0.0, burst=3), links=50, steps=100, seed=0)
    assert not lost.any()


def test_only_the_given_links_advance() -> None:
    # loss_rate = 1/2 with burst = 1: p_BG = p_GB = 1, every step flips the state.
    flip = GilbertElliottLoss(loss_rate=0.5, burst=1)
    assert flip.p_good_to_bad == flip.p_bad_to_good == 1.0
    rng = np.random.default_rng(5)
    state = flip.new_state(8, rng)
    assert isinstance(state, GilbertElliottState)
    for links in ([0, 2, 5], [7], [], [1, 0, 3, 2, 4, 6, 5, 7]):
        before = state.bad
        lost = state.lose(rng, np.array(links, dtype=np.intp))
        np.testing.assert_array_equal(lost, before[links])  # lost iff it was bad
        after = state.bad
        moved = np.zeros(8, dtype=bool)
        moved[links] = True
        np.testing.assert_array_equal(after[moved], ~before[moved])
        np.testing.assert_array_equal(after[~moved], before[~moved])


def test_untouched_links_keep_their_state_under_random_steps() -> None:
    rng = np.random.default_rng(6)
    state = GilbertElliottLoss(loss_rate=0.3, burst=2).new_state(1000, rng)
    assert isinstance(state, GilbertElliottState)
    start = state.bad
    odd = np.arange(1, 1000, 2)
    for _ in range(50):
        state.lose(rng, odd)
    np.testing.assert_array_equal(state.bad[::2], start[::2])
    assert (state.bad[1::2] != start[1::2]).any()


def test_states_are_independent_and_reproducible() -> None:
    a = _run(BURSTY, links=20, steps=200, seed=7)
    np.testing.assert_array_equal(a, _run(BURSTY, links=20, steps=200, seed=7))
    assert not np.array_equal(a, _run(BURSTY, links=20, steps=200, seed=8))


def test_gilbert_elliott_dumps_loss_rate() -> None:
    model = parse_loss({"kind": "gilbert_elliott", "loss_rate": 0.05, "burst": 3})
    data = model.model_dump()
    assert data == {
        "kind": "gilbert_elliott",
        "loss_rate": 0.05,
        "burst": 3.0,
        "loss_good": 0.0,
        "loss_bad": 1.0,
    }
    assert model.model_dump(mode="json") == data
    assert parse_loss(data) == model
    assert model.loss_rate() == 0.05


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"kind": "iid", "p": 1.5}, "p: Input should be less than or equal to 1 (got 1.5)"),
        ({"kind": "iid", "p": -0.1}, "p: Input should be greater than or equal to 0"),
        ({"kind": "iid", "p": math.nan}, "p: Input should be a finite number"),
        ({"kind": "iid", "p": "0.1"}, "p: Input should be a valid number"),
        ({"kind": "iid", "rate": 0.1}, "rate: unknown parameter of iid loss; allowed: p"),
        ({"kind": "gilbert_elliott", "loss_rate": 1}, "loss_rate: Input should be less than 1"),
        ({"kind": "gilbert_elliott", "loss_rate": -0.1}, "loss_rate: Input should be greater"),
        ({"kind": "gilbert_elliott", "burst": 0.5}, "burst: Input should be greater than or"),
        ({"kind": "gilbert_elliott", "loss_bad": 1.2}, "loss_bad: Input should be less than or"),
        ({"kind": "gilbert_elliott", "loss_good": -1}, "loss_good: Input should be greater"),
        (
            {"kind": "gilbert_elliott", "rate": 0.1},
            "rate: unknown parameter of gilbert_elliott loss (did you mean 'loss_rate'?); "
            "allowed: loss_rate, burst, "
            "loss_good, loss_bad",
        ),
        (
            {"kind": "gilbert_elliott", "loss_good": 0.5, "loss_bad": 0.2},
            "loss_good (0.5) must be <= loss_bad (0.2)",
        ),
        (
            {"kind": "gilbert_elliott", "loss_rate": 0.1, "loss_good": 0.2},
            "loss_rate (0.1) must lie between loss_good (0.2) and loss_bad (1.0)",
        ),
        (
            {"kind": "gilbert_elliott", "loss_rate": 0.5, "loss_bad": 0.4},
            "loss_rate (0.5) must lie between loss_good (0.0) and loss_bad (0.4)",
        ),
        (
            {"kind": "gilbert_elliott", "loss_rate": 0.9, "burst": 2},
            "loss_rate (0.9) needs the bad state 0.9 of the time, but with burst (2.0) it can "
            "be at most burst/(1+burst) = 0.6667 (a good run lasts at least one message): "
            "raise burst to >= 9 or lower loss_rate",
        ),
        (
            {"kind": "gilbert_elliott", "loss_rate": 0.5, "loss_bad": 0.5},
            "loss_rate (0.5) equals loss_bad (0.5) > loss_good (0.0): links would have to "
            "stay bad forever; lower loss_rate or raise loss_bad",
        ),
        ({"kind": "gilbert"}, "unknown loss model 'gilbert' (did you mean 'gilbert_elliott'?)"),
        ({"kind": 1}, "kind must be a string, got 1"),
        (0.1, 'must be a table like { kind = "iid", p = 0.01 }, got 0.1'),
    ],
)
def test_bad_parameters_are_named(spec: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_loss(spec)


def test_boundaries_that_are_achievable() -> None:
    assert GilbertElliottLoss(loss_rate=0.5, burst=1).p_good_to_bad == 1.0  # π_B = 1/2
    assert GilbertElliottLoss(loss_rate=0.9, burst=9).p_good_to_bad == pytest.approx(1.0)
    same = GilbertElliottLoss(loss_rate=0.2, loss_good=0.2, loss_bad=0.2)  # one state
    assert same.stationary_bad == 0.0
    lost = _run(same, links=1000, steps=20, seed=0)
    assert stats.binomtest(int(lost.sum()), lost.size, 0.2).pvalue > 1e-3


@pytest.mark.parametrize("model", [IIDLoss(p=0.5), BURSTY], ids=["iid", "gilbert_elliott"])
def test_lose_checks_its_links(model: LossModel) -> None:
    rng = np.random.default_rng(0)
    state: LossState = model.new_state(4, rng)
    assert state.links == 4
    with pytest.raises(ValueError, match="links must be distinct"):
        state.lose(rng, np.array([1, 1]))
    with pytest.raises(ValueError, match=re.escape("link index 4 out of range for 4 links")):
        state.lose(rng, np.array([0, 4]))
    with pytest.raises(ValueError, match=re.escape("link index -1 out of range")):
        state.lose(rng, np.array([-1]))
    with pytest.raises(ValueError, match="links must be integer link indices, got dtype bool"):
        state.lose(rng, np.array([True, False]))
    with pytest.raises(ValueError, match="1-d array"):
        state.lose(rng, np.zeros((2, 2), dtype=int))
    empty = state.lose(rng, np.array([], dtype=np.intp))
    assert empty.shape == (0,) and empty.dtype == bool
    assert state.lose(rng, np.array([3, 0])).dtype == bool
    with pytest.raises(ValueError, match="links must be an integer >= 0, got -1"):
        model.new_state(-1, rng)
