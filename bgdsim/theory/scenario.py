"""The paper's bound applied to a scenario: which rules it covers, k for a rule, its floor
√(dk/N), Corollary 1's predicted error floor, and whether k divides m as Algorithm 2
assumes (Chen, Su, Xu 2017, Algorithm 2, Corollary 1, Remark 1).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bgdsim import aggregators
from bgdsim.aggregators.gmom import uneven_batches as _uneven
from bgdsim.theory.bounds import corollary1_rate
from bgdsim.theory.conditions import remark1_alpha, remark1_epsilon

if TYPE_CHECKING:
    from bgdsim.config import Scenario

__all__ = [
    "PAPER_RULES",
    "paper_floor",
    "predicted_floor",
    "rule_batches",
    "scenario_batches",
    "uneven_batches",
]

#: The server rules the paper's theorems cover, and how k is read from a scenario:
#: Algorithm 1 (``mean``, k = 1), Algorithm 2 (``gmom``, k = the aggregator's ``batches``), its
#: trimmed variant of Remark 2 (``gmom_trimmed``) and k = m (``geomed``, §2.1).
PAPER_RULES = ("mean", "gmom", "gmom_trimmed", "geomed")


def rule_batches(scenario: Scenario) -> int:
    """k for the scenario's rule, whatever it is: its ``batches`` for a rule that
    batches (``gmom`` and friends), m for ``geomed`` (one batch per worker), 1 otherwise
    (``mean``, ``krum``, ``coordinate_median``, …: one estimate from the m reports).

    Raises:
        UnknownNameError: ``server.aggregator`` names no registered rule.
    """
    rule = scenario.server.aggregator.kind
    if aggregators.takes_batches(aggregators.get(rule)):
        return scenario.server.batches
    return scenario.cluster.workers if rule == "geomed" else 1


def paper_floor(scenario: Scenario) -> float:
    """The statistical error scale √(dk/N) of Theorem 1 / Corollary 1 for the scenario's
    rule, k from :func:`rule_batches` (the mean's √(d/N) of Remark 1 for k = 1)."""
    k = rule_batches(scenario)
    return math.sqrt(scenario.problem.dim * k / scenario.problem.samples)


def scenario_batches(scenario: Scenario) -> int:
    """k for a scenario's rule: 1 for ``mean``, m for ``geomed``, its ``batches`` else.

    Raises:
        ValueError: a rule outside :data:`PAPER_RULES` (the paper has no bound for it).
    """
    rule = scenario.server.aggregator.kind
    if rule not in PAPER_RULES:
        raise ValueError(
            f"the paper's bound covers the rules {', '.join(PAPER_RULES)}; "
            f"server.aggregator is {rule!r}"
        )
    return rule_batches(scenario)


def uneven_batches(scenario: Scenario) -> dict[str, int] | None:
    """The batch sizes when the server's rule batches and k does not divide m, else None.

    Algorithm 2 splits the m reports into k batches of b = m/k and assumes k | m. When it
    does not, the rule's consecutive batches hold ⌈m/k⌉ reports (the first m mod k of
    them) or ⌊m/k⌋, and the median weights every batch alike: a run the paper's analysis
    does not cover exactly. Keys: ``workers``, ``batches``, ``large`` (how many batches
    hold ``large_size`` reports), ``large_size``, ``small_size``.
    """
    fn = aggregators.get(scenario.server.aggregator.kind)
    if not aggregators.takes_batches(fn):
        return None
    return _uneven(scenario.cluster.workers, scenario.server.batches)


def predicted_floor(scenario: Scenario) -> float:
    """Corollary 1's floor C_α √(dk/N) for a linear-regression scenario, with c₂ = 1.

    This is the *shape* of the paper's bound, not a guaranteed number: Corollary 1 holds
    with some universal c₂ the paper does not specify, and only with probability
    1 − exp(−kD(α − q/k‖δ)). Conventions:

    * k from :func:`scenario_batches` (1 for ``mean``, m for ``geomed``, else
      the aggregator's ``batches``); d = ``problem.dim``, N = ``problem.samples``, q =
      ``cluster.byzantine``.
    * q ≥ 1: α as in Remark 1, α = (2+ε)/(4+4ε) with ε = k/(2q) − 1 (k = 2(1+ε)q).
      When k ≤ 2q no ε > 0 exists and the paper guarantees nothing: returns ``inf``
      (so ``mean`` with any Byzantine worker gives ``inf``).
    * q = 0: any α ∈ (0, ½) is allowed (q/k = 0) and C_α decreases to 2 as α → 0, so
      the limit C₀ = 2 is used — the smallest constant the bound admits (Remark 1's rule
      would give α → ¼, C = 3, as ε → ∞). The floor is then 2√(dk/N) (2√(d/N) for the mean).
    * ``problem.noise`` multiplies the floor: Lemma 8 assumes ζ ~ N(0, 1), and the noise
      scales ∇f(X, θ*) = −wζ, hence σ₁ and Δ₁, linearly.

    Raises:
        ValueError: the problem is not ``linear_regression``, or the rule is not one the
            paper analyses (see :data:`PAPER_RULES`).
    """
    if scenario.problem.kind != "linear_regression":
        raise ValueError(
            "predicted_floor follows Corollary 1 (linear regression); "
            f"problem.kind is {scenario.problem.kind!r}"
        )
    k = scenario_batches(scenario)
    q = scenario.cluster.byzantine
    d, n_samples = scenario.problem.dim, scenario.problem.samples
    if q == 0:
        alpha = 0.0
    elif k <= 2 * q:
        return math.inf
    else:
        alpha = remark1_alpha(remark1_epsilon(q, k))
    return scenario.problem.noise * corollary1_rate(d, k, n_samples, alpha, c2=1.0)
