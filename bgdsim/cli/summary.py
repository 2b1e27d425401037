"""The table a finished run prints: the scenario, its errors, its floors, its counts."""

from __future__ import annotations

import math
from typing import Any


def _predicted_floor(scenario: Any) -> str | None:
    """Corollary 1's C_α·√(dk/N) (c₂ = 1: the shape of the bound, not a guarantee)."""
    from bgdsim.theory import predicted_floor

    try:
        value = predicted_floor(scenario)
    except ValueError:  # not the paper's problem or rule
        return None
    return f"{value:.4g}" if math.isfinite(value) else "none (k ≤ 2q: no guarantee)"


def _uneven_batches(scenario: Any) -> str | None:
    """The summary's warning when k does not divide m (Algorithm 2 assumes k | m)."""
    from bgdsim.theory import uneven_batches

    u = uneven_batches(scenario)
    if u is None:
        return None
    small = u["batches"] - u["large"]
    return (
        f"k = {u['batches']} does not divide m = {u['workers']}: {u['large']} batches of "
        f"{u['large_size']}, {small} of {u['small_size']}, weighted alike (paper: k | m)"
    )


def _print_summary(result: Any, scenario: Any) -> None:
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    c = result.counts
    t = Table(title=f"{result.name} · seed {result.seed}", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right", overflow="fold")
    srv, cl = scenario.server, scenario.cluster
    rule = srv.aggregator.kind + (f" (k={result.k})" if result.k != 1 else "")
    if srv.pre:
        from bgdsim.aggregators.pre.chain import describe_chain, parse_chain

        rule = describe_chain(parse_chain(srv.pre), rule)
    t.add_row("aggregator", rule)
    uneven = _uneven_batches(scenario)
    if uneven is not None:
        t.add_row("warning: uneven batches", uneven, style="yellow")
    t.add_row("workers / byzantine", f"{cl.workers} / {cl.byzantine}")
    t.add_row("attack / schedule", f"{scenario.adversary.attack} / {scenario.adversary.schedule}")
    status = "" if result.status == "completed" else f" ({result.status})"
    t.add_row("rounds", f"{result.rounds}{status}")
    t.add_row("initial error ‖θ₀−θ*‖", f"{result.errors[0]:.4g}")
    fe = result.final_error
    t.add_row("final error ‖θ_T−θ*‖", f"{fe:.4g}" if math.isfinite(fe) else str(fe))
    t.add_row(f"paper floor √(dk/N), k = {result.k}", f"{result.floor:.4g}")
    predicted = _predicted_floor(scenario)
    if predicted is not None:
        t.add_row("Corollary 1 shape C_α√(dk/N), c₂ = 1", predicted)
    t.add_row("final / floor", f"{fe / result.floor:.3g}")
    for key, label in (("test_loss", "final test loss"), ("test_accuracy", "final test accuracy")):
        if key in result.metrics:
            t.add_row(label, f"{float(result.metrics[key][-1]):.4g}")
    t.add_row(
        "reports sent / delivered",
        f"{c['up_sent']} / {c['up_delivered']}",
    )
    t.add_row(
        "dropped (down+up) / late / rejected",
        f"{c['down_dropped'] + c['up_dropped']} / {c['up_late']} / {c['up_rejected']}",
    )
    t.add_row("simulated time", f"{result.sim_time:.4g} s")
    t.add_row(
        "barrier: all / quorum / timeout",
        f"{c['barrier_all']} / {c['barrier_quorum']} / {c['barrier_timeout']}",
    )
    if c["aggregate_skipped"]:
        t.add_row("rounds without a step (rule could not run)", str(c["aggregate_skipped"]))
    sent = result.per_worker.get("up_sent")
    if sent is not None and len(sent):
        worst = int(np.argmin(result.per_worker["up_delivered"]))
        t.add_row(
            "least-heard worker: delivered / rounds",
            f"w{worst}: {int(result.per_worker['up_delivered'][worst])} / {result.rounds}",
        )
    t.add_row("wall time", f"{result.wall_seconds:.2f} s")
    t.add_row("log", str(result.log_path) if result.log_path else "(none)")
    Console().print(t)
