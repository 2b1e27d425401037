"""The reproduction of the paper's claims, one module per section (see reproduce_paper.py).

:class:`Plan` holds every grid and seed list, full or ``--quick``; each section module
has ``build(plan, run, out) -> [(summary row, section text), ...]``, where ``run(points)`` runs
the points it needs (on the vector runtime, in parallel) and ``out`` is where the
figures go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reproduction.runs import Point

Run = Callable[[list[Point]], None]
Built = tuple[str, str]  # (summary-table row, section text)


@dataclass(frozen=True)
class Plan:
    """Grids and seeds of every section."""

    quick: bool
    seeds: list[int]
    conv_seeds: list[int]
    few_seeds: list[int]  # costly attacks (gm_shift, adaptive) and the breakdown grids
    samples: list[int]
    dims: list[int]
    qs_eps: list[int]
    ks_q5: list[int]
    ks_q10: list[int]
    ks_q0: list[int]
    ks_costly: list[int]
    qs_break: list[int]
    qs_km: list[int]
    per_worker: list[int]  # N/m for the one-shot comparison
    prob_seeds: list[int]


def make_plan(quick: bool, n_seeds: int | None = None) -> Plan:
    if quick:
        n = n_seeds or 2
        return Plan(
            quick=True, seeds=list(range(n)), conv_seeds=list(range(min(n, 2))),
            few_seeds=[0], samples=[10_000, 100_000, 400_000], dims=[5, 10, 40],
            qs_eps=[2, 5, 15], ks_q5=[12, 20, 120], ks_q10=[21, 40],
            ks_q0=[1], ks_costly=[20], qs_break=[0, 1, 9, 10],
            qs_km=[0, 49, 50], per_worker=[10, 50, 1000], prob_seeds=list(range(12)),
        )  # fmt: skip
    n = n_seeds or 10
    return Plan(
        quick=False,
        seeds=list(range(n)),
        conv_seeds=list(range(min(n, 5))),
        few_seeds=list(range(min(n, 3))),
        samples=[10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000],
        dims=[3, 5, 10, 20, 40, 80],
        qs_eps=[1, 2, 3, 5, 6, 10, 15],
        ks_q5=[12, 15, 20, 24, 30, 40, 60, 120],
        ks_q10=[21, 22, 24, 30, 40, 60, 120],
        ks_q0=[1, 3, 4, 6, 8, 12, 20, 30, 60, 120],
        ks_costly=[12, 20, 40],
        qs_break=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20],
        qs_km=[0, 10, 20, 30, 40, 45, 48, 49, 50, 51],
        per_worker=[10, 15, 20, 30, 50, 100, 200, 1000],
        prob_seeds=list(range(200)),
    )
