"""§4 the error against q at k = 4q (Remark 1: ∝ √(dq/N)) and §5 the k trade-off at
fixed q (Corollary 1's C_α√(dk/N) against the data and the excess-error model)."""

from __future__ import annotations

import math
from pathlib import Path

from bgdsim import theory
from bgdsim.plots import style
from reproduction import Built, Plan, Run
from reproduction.figures import (
    band,
    fitted_line,
    loglog,
    over,
    save,
    section,
    seeds_text,
    settings,
    table,
)
from reproduction.runs import ATTACK_TEXT, BASE_NAME, Point, fit_slope, fmt_fit, g

WIDE = {"m": 120, "n": 120_000}  # m = 120: most k of the grids divide m
WIDE_TEXT = f"`{BASE_NAME}` with m = 120, N = 120000 (N/m = 1000), gmom, 40 rounds"


def excess(e: float, e0: float) -> float:
    """The part of the error the Byzantine workers cause, √(e² − e₀²) (nan if e ≤ e₀)."""
    return math.sqrt(e * e - e0 * e0) if math.isfinite(e) and e > e0 else math.nan


def build(plan: Plan, run: Run, out: Path) -> list[Built]:
    return [_byzantine(plan, run, out), _batches(plan, run, out)]


def _byzantine(plan: Plan, run: Run, out: Path) -> Built:
    qs = plan.qs_eps
    attacked = [Point({**WIDE, "q": q, "k": 4 * q}, plan.seeds) for q in qs]
    honest = [Point({**WIDE, "q": 0, "k": 4 * q}, plan.seeds) for q in qs]
    run(attacked + honest)
    xs = [float(q) for q in qs]
    total = [p.center for p in attacked]
    ex = [excess(a.center, h.center) for a, h in zip(attacked, honest, strict=True)]
    fit_total, fit_ex = fit_slope(xs, total), fit_slope(xs, ex)
    fig = style.new_figure(6.4, 5.6)
    ax = fig.add_subplot()
    band(ax, xs, attacked, "C1", "gmom, $k = 4q$")
    fitted_line(ax, xs, total, "C1", f"fit, slope {fit_total[0]:+.2f}")
    ax.plot(
        xs, ex, "s-", color="C2", label=r"excess $\sqrt{e^2 - e_0^2}$ ($e_0$: $q = 0$, same $k$)"
    )
    fitted_line(ax, xs, ex, "C2", f"fit, slope {fit_ex[0]:+.2f}")
    model = [theory.excess_error_model(10, 4 * q, q, 120_000) for q in qs]
    ax.plot(xs, model, "k-.", linewidth=1, label=r"model $\frac{q}{k-q}\sqrt{dk/N}$")
    ax.plot(
        xs,
        [theory.predicted_floor(p.scenario()) for p in attacked],
        "k--",
        linewidth=1,
        label=r"$C_\alpha\sqrt{dk/N}$, $c_2 = 1$",
    )
    title = "final error vs. $q$ at $k = 4q$ ($m = 120$)"
    xlabel = style.axis_label("cluster.byzantine") + ", $k = 4q$"
    loglog(ax, xlabel, title, xticks=xs, outside=True)
    link = save(fig, out, "error_vs_byzantine")
    rows = [
        [str(q), str(4 * q), g(t), g(e), g(mo)]
        for q, t, e, mo in zip(qs, total, ex, model, strict=True)
    ]
    ok = abs(fit_ex[0] - 0.5) <= 0.15
    text = section(
        "4. Final error vs. q with k = 2(1+ε)q (Remark 1: ∝ √(dq/N))",
        link,
        settings(
            WIDE_TEXT,
            f"q ∈ {{{', '.join(map(str, qs))}}}, k = 4q (ε = 1: α = 3/8, C_α = 5); "
            f"Byzantine workers: {ATTACK_TEXT['sign_flip']}; the same seeds at q = 0 give e₀",
            f"{seeds_text(plan.seeds)} per point; slopes: least squares on log-log ± s.e.",
        ),
        "slope +1/2: with k = 2(1+ε)q the floor c₂C_α√(dk/N) is ∝ √(dq/N).",
        f"total error slope {fmt_fit(fit_total)}; the excess over q = 0, √(e² − e₀²), slope "
        f"{fmt_fit(fit_ex)}; the model q/(k − q)·√(dk/N) = √(dq/N)·(4/3)·½ lies within "
        f"×{min(e / m for e, m in zip(ex, model, strict=True)):.2g}–"
        f"×{max(e / m for e, m in zip(ex, model, strict=True)):.2g} of the excess.",
        (
            "Agrees for the part the Byzantine workers cause: it grows as √q. "
            if ok
            else "The q-dependent part does not grow as √q. "
        )
        + (
            "The total grows more slowly because its q-free part (the honest samples' √(d/N)) "
            "dominates at small q; the bound, an upper bound on the total, is pessimistic there."
            if fit_total[0] < fit_ex[0]
            else ""
        ),
        table(["q", "k", "final error e", "excess √(e² − e₀²)", "model"], rows),
    )
    row = (
        f"| error vs. q, k = 4q (Remark 1) | slope +0.5 | {fmt_fit(fit_total)} (total); "
        f"{fmt_fit(fit_ex)} (excess) |"
    )
    return row, text


def _batches(plan: Plan, run: Run, out: Path) -> Built:
    grids = {5: plan.ks_q5, 10: plan.ks_q10}
    pts = {q: [Point({**WIDE, "q": q, "k": k}, plan.seeds) for k in ks] for q, ks in grids.items()}
    all_ks = sorted({*plan.ks_q5, *plan.ks_q10, *plan.ks_q0})
    honest = {k: Point({**WIDE, "q": 0, "k": k}, plan.seeds) for k in all_ks}
    costly = {
        (a, k): Point({**WIDE, "q": 5, "k": k, "attack": a}, plan.few_seeds)
        for a in ("gm_shift", "adaptive")
        for k in plan.ks_costly
    }
    run([*pts[5], *pts[10], *honest.values(), *costly.values()])
    fig = style.new_figure(6.4, 6.4)
    ax = fig.add_subplot()
    fits, ratios = {}, {}
    for (q, ks), color in zip(grids.items(), ("C1", "C3"), strict=True):
        xs = [float(k) for k in ks]
        ex = [excess(p.center, honest[k].center) for p, k in zip(pts[q], ks, strict=True)]
        model = [theory.excess_error_model(10, k, q, 120_000) for k in ks]
        band(ax, xs, pts[q], color, f"gmom, $q = {q}$")
        ax.plot(xs, ex, "s:", color=color, label=rf"excess $\sqrt{{e^2-e_0^2}}$, $q = {q}$")
        ax.plot(
            xs,
            model,
            "-.",
            color=color,
            linewidth=1,
            label=rf"model $\frac{{q}}{{k-q}}\sqrt{{dk/N}}$, $q = {q}$",
        )
        floor = [theory.predicted_floor(p.scenario()) for p in pts[q]]
        ax.plot(
            xs,
            floor,
            "--",
            color=color,
            linewidth=1,
            label=rf"$C_\alpha\sqrt{{dk/N}}$, $q = {q}$, $c_2 = 1$",
        )
        far = [i for i, k in enumerate(ks) if k >= 4 * q]
        fits[q] = fit_slope([xs[i] for i in far], [ex[i] for i in far])
        ratios[q] = [e / m for e, m in zip(ex, model, strict=True)]
    for a, marker in (("gm_shift", "^"), ("adaptive", "v")):
        ks = plan.ks_costly
        ax.plot(
            ks,
            [costly[(a, k)].center for k in ks],
            marker,
            color="C1",
            linestyle="none",
            label=f"$q = 5$, {a} ({over(len(plan.few_seeds))})",
        )
    zero = [honest[k].center for k in all_ks]
    ax.plot(all_ks, zero, "o-", color="C0", label=f"$q = 0$ ({over(len(plan.seeds))})")
    ticks = [float(k) for k in all_ks if k in (1, 4, 12, 20, 40, 120)]
    title = "the $k$ trade-off ($m = 120$, $N = 120000$)"
    loglog(ax, style.axis_label("server.aggregator.batches"), title, xticks=ticks, outside=True)
    link = save(fig, out, "error_vs_batches")
    floor5 = [theory.predicted_floor(p.scenario()) for p in pts[5]]
    kmin = plan.ks_q5[min(range(len(floor5)), key=floor5.__getitem__)]
    rows = [
        [
            str(k),
            g(p.center),
            g(excess(p.center, honest[k].center)),
            g(theory.excess_error_model(10, k, 5, 120_000)),
            f"{f:.3g}",
        ]
        for k, p, f in zip(plan.ks_q5, pts[5], floor5, strict=True)
    ]
    rows10 = [
        [
            str(k),
            g(p.center),
            g(excess(p.center, honest[k].center)),
            g(theory.excess_error_model(10, k, 10, 120_000)),
        ]
        for k, p in zip(plan.ks_q10, pts[10], strict=True)
    ]
    c_rows = [
        [a, str(k), g(costly[(a, k)].center), g(pts[5][plan.ks_q5.index(k)].center)]
        for a in ("gm_shift", "adaptive")
        for k in plan.ks_costly
    ]
    r5 = ratios[5]
    vs = [costly[(a, k)].center / pts[5][plan.ks_q5.index(k)].center for a, k in costly]
    fit0 = fit_slope([float(k) for k in all_ks], zero)
    uneven = [k for k in sorted({*plan.ks_q5, *plan.ks_q10}) if 120 % k]
    text = section(
        "5. The k trade-off at fixed q (Corollary 1: C_α√(dk/N))",
        link,
        settings(
            WIDE_TEXT,
            f"q = 5, k ∈ {{{', '.join(map(str, plan.ks_q5))}}}; q = 10, k ∈ "
            f"{{{', '.join(map(str, plan.ks_q10))}}}"
            + (
                f" (k = {', '.join(map(str, uneven))} do not divide m: batches of ⌈m/k⌉ and ⌊m/k⌋)"
                if uneven
                else ""
            )
            + "; q = 0 at every k (e₀, the q-free part)",
            f"Byzantine workers: {ATTACK_TEXT['sign_flip']}; at q = 5 also "
            f"{ATTACK_TEXT['gm_shift']} and {ATTACK_TEXT['adaptive']} at k ∈ "
            f"{{{', '.join(map(str, plan.ks_costly))}}} ({seeds_text(plan.few_seeds)})",
            f"{seeds_text(plan.seeds)} per point; slope of the excess fitted over k ≥ 4q",
        ),
        "at fixed q, Remark 1's α = (2+ε)/(4+4ε) with ε = k/(2q) − 1 makes C_α = 3 + 4q/(k − 2q) "
        f"fall as k grows while √k rises, so `theory.predicted_floor` over k is **U-shaped** "
        f"(here its minimum is at k = {kmin}; {', '.join(f'{f:.3g}' for f in floor5)} over the "
        "q = 5 grid): it blows up as k → 2q and grows as √k for k ≫ q. The excess-error model "
        "q/(k − q)·√(dk/N) falls as 1/√k for k ≫ q and blows up as k → q.",
        f"the excess √(e² − e₀²) at q = 5 has slope {fmt_fit(fits[5])} over k ≥ 20 (q = 10: "
        f"{fmt_fit(fits[10])} over k ≥ 40), and lies within ×{min(r5):.2g}–×{max(r5):.2g} of the "
        f"model. gm_shift and the adaptive schedule reach ×{min(vs):.2g}–×{max(vs):.2g} of "
        f"sign_flip ×100's error at the same k. The q-free part e₀ has slope {fmt_fit(fit0)} in k.",
        f"The bound is **loose** for k ≫ 2q: at k = {plan.ks_q5[-1]} the c₂ = 1 floor is "
        f"×{floor5[-1] / pts[5][-1].center:.2g} the measured error and rises as √k while the "
        f"excess {'falls' if fits[5][0] < 0 else 'does not fall'}; the √k growth it allows does "
        "not appear (the median of k Gaussian batch means has an error ∝ 1/√N whatever k). "
        "It is **tight in shape** near k ≈ 2q: both the bound and the data blow up there "
        f"(q = 10: {g(pts[10][0].center)} at k = "
        f"{plan.ks_q10[0]} against {g(pts[10][-1].center)} at k = {plan.ks_q10[-1]}). More "
        "batches help against a fixed q, down to the fault-free error.",
        "q = 5:\n\n"
        + table(["k", "final error e", "excess", "model", "C_α√(dk/N)"], rows)
        + "\n\nq = 10:\n\n"
        + table(["k", "final error e", "excess", "model"], rows10)
        + "\n\nother attacks at q = 5:\n\n"
        + table(["attack", "k", "final error", "sign_flip ×100"], c_rows),
    )
    row = (
        f"| k trade-off at fixed q (Cor. 1) | C_α√(dk/N): U-shaped in k | excess falls, slope "
        f"{fmt_fit(fits[5])} (q = 5); ×{min(r5):.2g}–×{max(r5):.2g} of q/(k−q)·√(dk/N) |"
    )
    return row, text
