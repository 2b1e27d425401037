"""bgdsim.theory against hand computations from the paper's formulas (Chen, Su, Xu 2017)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bgdsim import theory
from tests.conftest import DEFAULT_SCENARIO, make_scenario

# ------------------------------------------------------------------------------ constants


def test_c_alpha_eq7_by_hand() -> None:
    # C_α = 2(1−α)/(1−2α): α = 1/4 → 2·(3/4)/(1/2) = 3; α = 3/8 → 2·(5/8)/(1/4) = 5;
    # α = 0 → 2 (the limit); α = 0.49 → 2·0.51/0.02 = 51.
    assert theory.c_alpha(0.25) == pytest.approx(3.0)
    assert theory.c_alpha(3 / 8) == pytest.approx(5.0)
    assert theory.c_alpha(0.0) == pytest.approx(2.0)
    assert theory.c_alpha(0.49) == pytest.approx(51.0)


@pytest.mark.parametrize("alpha", [-0.1, 0.5, 0.7])
def test_c_alpha_outside_lemma1_range(alpha: float) -> None:
    with pytest.raises(ValueError, match=r"alpha in \[0, 1/2\)"):
        theory.c_alpha(alpha)


def test_contraction_and_rho_by_hand() -> None:
    # L = M: √(1 − 1/4) = √3/2, so ½ + ½·√3/2 = ½ + √3/4 (Corollary 1's rate).
    assert theory.contraction(1.0, 1.0) == pytest.approx(0.5 + math.sqrt(3) / 4)
    assert theory.contraction(2.0, 2.0) == pytest.approx(0.5 + math.sqrt(3) / 4)
    # L = 1, M = 2: √(1 − 1/16) = √15/4 → ½ + √15/8.
    assert theory.contraction(1.0, 2.0) == pytest.approx(0.5 + math.sqrt(15) / 8)
    assert theory.lemma3_factor(1.0, 1.0) == pytest.approx(math.sqrt(3) / 2)
    assert theory.step_size(1.0, 1.0) == 0.5
    assert theory.step_size(1.0, 2.0) == pytest.approx(1 / 8)
    # ρ = 1 − √3/2 − ξ₂·1/2: ξ₂ = 0 → 1 − √3/2; ξ₂ = 0.1 → 1 − √3/2 − 0.05.
    assert theory.rho(1.0, 1.0, 0.0) == pytest.approx(1 - math.sqrt(3) / 2)
    assert theory.rho(1.0, 1.0, 0.1) == pytest.approx(1 - math.sqrt(3) / 2 - 0.05)
    # Theorem 5's rate is 1 − ρ at ρ = ½ − ½√(1 − L²/(4M²)).
    assert 1 - (0.5 - 0.5 * math.sqrt(3) / 2) == pytest.approx(theory.contraction(1.0, 1.0))


def test_l_greater_than_m_is_refused() -> None:
    with pytest.raises(ValueError, match="L <= M"):
        theory.contraction(2.0, 1.0)


def test_delta1_eq22_by_hand() -> None:
    # Δ₁ = √2·σ₁·√((d log 6 + log(3/δ))/n); σ₁ = √2 → 2·√(...).
    # n = 1000, d = 10, δ = 0.01: (10·1.791759 + 5.703782)/1000 = 0.023621 → 2·0.153692.
    expected = 2 * math.sqrt((10 * math.log(6) + math.log(300)) / 1000)
    assert theory.delta1(1000, 10, 0.01) == pytest.approx(expected)
    assert theory.delta1(1000, 10, 0.01) == pytest.approx(0.307384, rel=1e-5)
    # Δ′₁ (eq. (25)) is the same formula with σ₂ = √8: twice Δ₁ with σ₁ = √2.
    assert theory.delta1_prime(1000, 10, 0.01) == pytest.approx(2 * expected)


def test_delta2_eq26_by_hand() -> None:
    # Δ₂ = σ₂√(2/n)·√(d log(18(M∨M′)/σ₂) + ½ d log(n/d) + log(6σ₂² r √n/(α₂σ₁δ))).
    # Lemma 8: σ₁ = √2, σ₂ = √8, α₂ = 8. Take n = 10⁴, d = 10, δ = 0.01, M = 1, M′ = 2, r = 1:
    #   10·log(36/√8) = 10·2.543873 = 25.43873
    #   5·log(1000) = 34.53878
    #   log(6·8·1·100/(8·√2·0.01)) = log(42426.41) = 10.65552
    #   √8·√(2e-4)·√70.63303 = 0.04·8.404346 = 0.336174
    n, d, delta = 10_000, 10, 0.01
    inner = (
        d * math.log(18 * 2 / math.sqrt(8))
        + 0.5 * d * math.log(n / d)
        + math.log(6 * 8 * 1 * math.sqrt(n) / (8 * math.sqrt(2) * delta))
    )
    expected = math.sqrt(8) * math.sqrt(2 / n) * math.sqrt(inner)
    got = theory.delta2(n, d, delta, M=1.0, m_prime=2.0, r=1.0)
    assert got == pytest.approx(expected)
    assert got == pytest.approx(0.336174, rel=1e-5)
    # M ∨ M′: the larger of the two is used.
    assert theory.delta2(n, d, delta, M=2.0, m_prime=1.0, r=1.0) == pytest.approx(got)


def test_delta2_undefined_when_n_is_tiny() -> None:
    with pytest.raises(ValueError, match="Delta_2"):
        theory.delta2(1.0, 50, 0.5, M=1.0, m_prime=1.0, r=1e-3)


def test_lemma8_m_prime_by_hand() -> None:
    # M′ = (√n + √d + √(2 log(4/δ)))²/n; n = 100, d = 4, δ = 4e-2: (10 + 2 + √(2 log 100))²/100.
    expected = (10 + 2 + math.sqrt(2 * math.log(100))) ** 2 / 100
    assert theory.lemma8_m_prime(100, 4, 0.04) == pytest.approx(expected)
    assert theory.lemma8_m_prime(10_000, 4, 0.04) < theory.lemma8_m_prime(100, 4, 0.04)


def test_xi_by_hand() -> None:
    # ξ₁ = 4C_αΔ₁, ξ₂ = 8C_αΔ₂; at α = 1/4 (C = 3): 12Δ₁ and 24Δ₂.
    assert theory.xi1(0.25, 0.1) == pytest.approx(1.2)
    assert theory.xi2(0.25, 0.1) == pytest.approx(2.4)


def test_binary_divergence_by_hand() -> None:
    # D(p‖q) = p log(p/q) + (1−p) log((1−p)/(1−q)).
    assert theory.binary_divergence(0.5, 0.5) == 0.0
    expected = 0.25 * math.log(0.25 / 0.1) + 0.75 * math.log(0.75 / 0.9)
    assert theory.binary_divergence(0.25, 0.1) == pytest.approx(expected)
    assert theory.binary_divergence(0.0, 0.2) == pytest.approx(math.log(1 / 0.8))
    assert theory.binary_divergence(1.0, 0.2) == pytest.approx(math.log(5))


def test_success_probability_by_hand() -> None:
    # k = 20, q = 5, α = 3/8, δ = 0.05: α − q/k = 1/8; 1 − exp(−20·D(1/8‖0.05)).
    d = 0.125 * math.log(0.125 / 0.05) + 0.875 * math.log(0.875 / 0.95)
    expected = 1 - math.exp(-20 * d)
    assert theory.success_probability(20, 5, 3 / 8, 0.05) == pytest.approx(expected)
    # δ = α − q/k: D = 0, no guarantee.
    assert theory.success_probability(20, 5, 3 / 8, 1 / 8) == pytest.approx(0.0)
    # More batches, same fractions: a higher probability.
    assert theory.success_probability(40, 10, 3 / 8, 0.05) > expected


def test_remark1_choice() -> None:
    # k = 2(1+ε)q: q = 5, k = 20 → ε = 1, α = 3/(8), α − q/k = ε/(4+4ε) = 1/8.
    eps = theory.remark1_epsilon(5, 20)
    assert eps == pytest.approx(1.0)
    alpha = theory.remark1_alpha(eps)
    assert alpha == pytest.approx(3 / 8)
    assert alpha - 5 / 20 == pytest.approx(eps / (4 + 4 * eps))
    with pytest.raises(ValueError, match="q >= 1"):
        theory.remark1_epsilon(0, 10)


# ----------------------------------------------------------------------------- conditions


@pytest.mark.parametrize(
    ("kwargs", "condition"),
    [
        ({"q": 5, "k": 10}, r"2\(1\+eps\)q <= k"),
        ({"q": 5, "k": 15, "epsilon": 1.0}, r"2\(1\+eps\)q <= k"),
        ({"q": 1, "k": 30, "m": 20}, "k <= m"),
        ({"q": 5, "k": 20, "alpha": 0.25}, r"alpha in \(q/k, 1/2\)"),
        ({"q": 5, "k": 20, "alpha": 0.5}, r"alpha in \(q/k, 1/2\)"),
        ({"q": 5, "k": 20, "alpha": 3 / 8, "delta": 0.2}, r"delta <= alpha - q/k"),
        ({"q": 5, "k": 20, "alpha": 3 / 8, "delta": 0.0}, r"delta <= alpha - q/k"),
    ],
)
def test_conditions_name_the_failed_one(kwargs: dict[str, Any], condition: str) -> None:
    with pytest.raises(ValueError, match=condition):
        theory.check_conditions(**kwargs)


def test_conditions_that_hold() -> None:
    theory.check_conditions(q=5, k=20, m=100, alpha=3 / 8, delta=0.1, epsilon=1.0)
    theory.check_conditions(q=0, k=1, m=1, alpha=0.25, delta=0.25)
    theory.check_conditions(q=5, k=11)  # some ε > 0 exists


def test_theorem4_refuses_invalid_settings() -> None:
    with pytest.raises(ValueError, match=r"alpha in \(q/k, 1/2\)"):
        theory.theorem4(L=1.0, M=1.0, N=10**9, k=10, q=3, d=5, alpha=0.25, delta=0.01)
    with pytest.raises(ValueError, match=r"2\(1\+eps\)q <= k"):
        theory.theorem4(L=1.0, M=1.0, N=10**9, k=10, q=5, d=5, alpha=0.45, delta=0.01)


# --------------------------------------------------------------------------------- bounds


def big(N: int, k: int) -> theory.Theorem4:
    """Theorem 4 where it applies: q = 0, d = 5, α = 1/4, δ = 0.01, N/k ~ 1e8."""
    return theory.theorem4(L=1.0, M=1.0, N=N, k=k, q=0, d=5, alpha=0.25, delta=0.01)


def test_theorem4_assembles_its_constants() -> None:
    t4 = big(10**9, 10)
    assert t4.applicable, t4.violations
    n = 10**8
    assert t4.n == n
    assert t4.delta1 == pytest.approx(theory.delta1(n, 5, 0.01))
    mp = theory.lemma8_m_prime(n, 5, 0.01)
    assert t4.m_prime == pytest.approx(mp)
    assert t4.delta2 == pytest.approx(theory.delta2(n, 5, 0.01, M=1.0, m_prime=mp, r=1.0))
    assert t4.xi1 == pytest.approx(4 * 3 * t4.delta1)
    assert t4.xi2 == pytest.approx(8 * 3 * t4.delta2)
    assert t4.rho == pytest.approx(1 - math.sqrt(3) / 2 - t4.xi2 / 2)
    assert t4.eta == 0.5
    assert t4.floor == pytest.approx(0.5 * t4.xi1 / t4.rho)
    # (1 − ρ)^t ‖θ₀ − θ*‖ + ηξ₁/ρ
    assert t4.bound(3, 2.0) == pytest.approx((1 - t4.rho) ** 3 * 2.0 + t4.floor)
    direct = theory.theorem4_bound(
        3, 2.0, L=1.0, M=1.0, N=10**9, k=10, q=0, d=5, alpha=0.25, delta=0.01
    )
    assert direct == pytest.approx(t4.bound(3, 2.0))
    assert t4.probability == pytest.approx(theory.success_probability(10, 0, 0.25, 0.01))


def test_theorem4_is_vacuous_at_the_papers_scale() -> None:
    # N = 1e5, k = 20: ξ₂ = 8C_αΔ₂ is far above what ρ > 0 allows.
    t4 = theory.theorem4(L=1.0, M=1.0, N=100_000, k=20, q=5, d=10, alpha=3 / 8, delta=0.05, m=100)
    assert not t4.applicable
    assert any("rho" in v for v in t4.violations)
    assert t4.floor == math.inf
    with pytest.raises(ValueError, match=r"Theorem 4 does not apply: .*rho"):
        t4.bound(1, 1.0)


def test_theorem4_bound_increases_with_k_and_decreases_with_n() -> None:
    by_k = [big(10**9, k).bound(50, 1.0) for k in (1, 2, 5, 10, 20)]
    assert by_k == sorted(by_k)
    assert len(set(by_k)) == len(by_k)
    by_n = [big(n, 5).bound(50, 1.0) for n in (10**8, 10**9, 10**10)]
    assert by_n == sorted(by_n, reverse=True)
    assert len(set(by_n)) == len(by_n)


def test_theorem4_bound_decreases_with_t_towards_its_floor() -> None:
    t4 = big(10**9, 10)
    values = [t4.bound(t, 1.0) for t in range(0, 200, 20)]
    assert values == sorted(values, reverse=True)
    assert values[-1] == pytest.approx(t4.floor, rel=1e-3)


def test_corollary1_by_hand() -> None:
    # c₂C_α√(dk/N): α = 3/8 (C = 5), d = 10, k = 20, N = 1e5 → 5·√0.002 = 0.2236068.
    assert theory.corollary1_rate(10, 20, 100_000, 3 / 8) == pytest.approx(5 * math.sqrt(0.002))
    assert theory.corollary1_rate(10, 20, 100_000, 3 / 8, c2=0.1) == pytest.approx(
        0.5 * math.sqrt(0.002)
    )
    # (½ + √3/4)^t ‖θ₀ − θ*‖ + rate
    rate = theory.corollary1_rate(10, 20, 100_000, 3 / 8)
    expected = (0.5 + math.sqrt(3) / 4) ** 4 * 1.0 + rate
    assert theory.corollary1_bound(4, 1.0, 10, 20, 100_000, 3 / 8) == pytest.approx(expected)
    # monotone: up with k, down with N
    rates_k = [theory.corollary1_rate(10, k, 100_000, 0.25) for k in (1, 4, 16)]
    assert rates_k == pytest.approx([3 * math.sqrt(10 * k / 100_000) for k in (1, 4, 16)])
    assert theory.corollary1_rate(10, 20, 10**6, 0.25) < theory.corollary1_rate(10, 20, 10**5, 0.25)


def test_theorem1_rate_by_hand() -> None:
    # c₂C_α√(k(d + log(1/δ))/N) with log(1/δ) = d (Remark 1): √(2dk/N)·C_α.
    delta = math.exp(-10)
    expected = 3 * math.sqrt(20 * 20 / 100_000)
    assert theory.theorem1_rate(10, 20, 100_000, 0.25, delta) == pytest.approx(expected)


# ------------------------------------------------------------------------- predicted floor


def test_predicted_floor_default_scenario() -> None:
    # Defaults: gmom, k = 20, q = 5, d = 10, N = 1e5, noise 1. Remark 1: ε = 20/10 − 1 = 1,
    # α = 3/8, C = 5 → 5·√(10·20/1e5) = 5·√0.002 ≈ 0.2236.
    expected = 5 * math.sqrt(0.002)
    assert theory.predicted_floor(make_scenario()) == pytest.approx(expected)
    assert theory.predicted_floor(make_scenario(DEFAULT_SCENARIO)) == pytest.approx(expected)


def test_predicted_floor_conventions() -> None:
    # q = 0: C₀ = 2 → 2√(dk/N); the mean has k = 1.
    assert theory.predicted_floor(make_scenario(cluster__byzantine=0)) == pytest.approx(
        2 * math.sqrt(0.002)
    )
    mean0 = make_scenario(cluster__byzantine=0, server__aggregator="mean")
    assert theory.predicted_floor(mean0) == pytest.approx(2 * math.sqrt(1e-4))
    # mean with a Byzantine worker, or k <= 2q: no guarantee.
    assert theory.predicted_floor(make_scenario(server__aggregator="mean")) == math.inf
    assert theory.predicted_floor(make_scenario(server__aggregator__batches=10)) == math.inf
    # geomed: k = m = 100 → ε = 9, α = 11/40, C = 2·(29/40)/(18/40) = 29/9.
    geomed = make_scenario(server__aggregator="geomed")
    assert theory.predicted_floor(geomed) == pytest.approx(29 / 9 * math.sqrt(10 * 100 / 1e5))
    # the noise level scales it
    noisy = make_scenario(problem__noise=2.0)
    assert theory.predicted_floor(noisy) == pytest.approx(2 * 5 * math.sqrt(0.002))
    # monotone in q at fixed k
    floors = [theory.predicted_floor(make_scenario(cluster__byzantine=q)) for q in range(0, 10)]
    assert floors == sorted(floors)


def test_rule_batches_is_k_for_batching_rules_m_for_geomed_else_1() -> None:
    assert theory.rule_batches(make_scenario()) == 20  # gmom, its batches
    assert theory.rule_batches(make_scenario(server__aggregator="gmom_trimmed")) == 20
    assert theory.rule_batches(make_scenario(server__aggregator="geomed")) == 100
    for rule in ("mean", "krum", "coordinate_median", "trimmed_mean"):
        assert theory.rule_batches(make_scenario(server__aggregator=rule)) == 1
    krum = make_scenario(server__aggregator="krum")
    assert theory.paper_floor(krum) == math.sqrt(10 * 1 / 100_000)
    assert theory.paper_floor(make_scenario()) == math.sqrt(10 * 20 / 100_000)


def test_predicted_floor_refuses_what_the_paper_does_not_cover() -> None:
    with pytest.raises(ValueError, match="linear regression"):
        theory.predicted_floor(make_scenario(problem__kind="logistic_regression"))
    with pytest.raises(ValueError, match="covers the rules"):
        theory.predicted_floor(make_scenario(server__aggregator="krum"))


@pytest.mark.parametrize(
    ("m", "k", "aggregator", "expected"),
    [
        (100, 20, "gmom", None),
        (100, 30, "gmom", {"large": 10, "large_size": 4, "small_size": 3}),
        (40, 30, "gmom_trimmed", {"large": 10, "large_size": 2, "small_size": 1}),
        (100, 30, "mean", None),  # the mean does not batch
        (100, 30, "krum", None),
    ],
)
def test_uneven_batches(m: int, k: int, aggregator: str, expected: dict[str, int] | None) -> None:
    sc = make_scenario(
        DEFAULT_SCENARIO,
        **{"cluster.workers": m, "server.aggregator": {"kind": aggregator}},
    )
    if expected is not None:  # k is a parameter of the rules that batch only
        sc = make_scenario(
            DEFAULT_SCENARIO,
            **{"cluster.workers": m, "server.aggregator": {"kind": aggregator, "batches": k}},
        )
    got = theory.uneven_batches(sc)
    if expected is None:
        assert got is None
    else:
        assert got == {"workers": m, "batches": k, **expected}
        assert got["large"] * got["large_size"] + (k - got["large"]) * got["small_size"] == m


def test_error_models_by_hand() -> None:
    # d = 10, N = 1e5: √(d/N) = 0.01; k = 20, q = 5: 5/15 · √(200/1e5) = √2 · 0.0316.../3
    assert theory.statistical_error(10, 100_000) == pytest.approx(0.01)
    assert theory.statistical_error(10, 100_000, noise=2.0) == pytest.approx(0.02)
    assert theory.excess_error_model(10, 20, 5, 100_000) == pytest.approx(math.sqrt(2e-3) / 3)
    assert theory.excess_error_model(10, 20, 0, 100_000) == 0.0
    assert theory.attack_error_model(10, 20, 5, 100_000) == pytest.approx(
        math.sqrt(1e-4 + 2e-3 / 9)
    )


@pytest.mark.parametrize(("k", "q"), [(20, 10), (20, 11), (1, 1), (20, -1)])
def test_excess_error_model_needs_q_below_half_of_k(k: int, q: int) -> None:
    with pytest.raises(ValueError, match="q < k/2"):
        theory.excess_error_model(10, k, q, 100_000)
