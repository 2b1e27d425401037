"""§2 the error against N, §3 against d (Corollary 1: ∝ √(dk/N)) and §8 the rounds to
reach the floor against N (Theorem 1: O(log N))."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bgdsim import theory
from bgdsim.plots import style
from reproduction import Built, Plan, Run
from reproduction.figures import (
    band,
    fitted_line,
    loglog,
    save,
    section,
    seeds_text,
    settings,
    table,
)
from reproduction.runs import ATTACK_TEXT, BASE_NAME, Point, fit_line, fit_slope, fmt_fit, g

KEYS = {"n": "problem.samples", "d": "problem.dim"}
ADV = f"Byzantine workers (q = 5): {ATTACK_TEXT['sign_flip']}"


def _slope_section(
    plan: Plan, run: Run, out: Path, key: str, grid: list[int], claim: str
) -> tuple[dict[int, list[Point]], dict[int, tuple[float, float]], str, str]:
    """Points at q = 0 and 5 over ``grid`` of ``key`` (``n`` or ``d``); figure and fits."""
    pts = {q: [Point({"q": q, key: v}, plan.seeds) for v in grid] for q in (0, 5)}
    run(pts[0] + pts[5])
    fig = style.new_figure()
    ax = fig.add_subplot()
    xs = [float(v) for v in grid]
    fits = {}
    for q, color in ((0, "C0"), (5, "C1")):
        centers = [p.center for p in pts[q]]
        band(ax, xs, pts[q], color, f"gmom, $q = {q}$")
        fits[q] = fit_slope(xs, centers)
        fitted_line(ax, xs, centers, color, f"fit, slope {fits[q][0]:+.2f}")
        shape = [theory.predicted_floor(p.scenario()) for p in pts[q]]
        ax.plot(
            xs, shape, "--", color=color, linewidth=1, label=rf"$C_\alpha\sqrt{{dk/N}}$, $q = {q}$"
        )
    sym = "N" if key == "n" else "d"
    ticks = xs if key == "d" else None
    loglog(ax, style.axis_label(KEYS[key]), claim, xticks=ticks)
    link = save(fig, out, f"error_vs_{'samples' if key == 'n' else 'dimension'}")
    return pts, fits, link, sym


def build(plan: Plan, run: Run, out: Path) -> list[Built]:
    """§2, §3 and §8 (which reuses §2's curves at q = 5)."""
    samples, curves = _samples(plan, run, out)
    return [samples, _dimension(plan, run, out), _rounds(plan, curves, out)]


def _verdict(fits: dict[int, tuple[float, float]], want: float, tol: float) -> str:
    off = [q for q in (0, 5) if abs(fits[q][0] - want) > tol]
    if not off:
        return f"Agrees: both slopes are within {tol:g} of {want:+g}."
    return f"Disagrees at q = {' and '.join(map(str, off))}: more than {tol:g} from {want:+g}."


def _samples(plan: Plan, run: Run, out: Path) -> tuple[Built, list[Point]]:
    pts, fits, link, _ = _slope_section(
        plan, run, out, "n", plan.samples, "final error vs. $N$ ($d = 10$, $k = 20$)"
    )
    rows = [[str(n), g(pts[0][i].center), g(pts[5][i].center)] for i, n in enumerate(plan.samples)]
    r5 = [b.center / a.center for a, b in zip(pts[0], pts[5], strict=True)]
    loose = [theory.predicted_floor(p.scenario()) / p.center for p in pts[0] + pts[5]]
    text = section(
        "2. Final error vs. N (Corollary 1: ∝ √(dk/N))",
        link,
        settings(
            f"`{BASE_NAME}` (d = 10, m = 100, gmom, k = 20, 40 rounds)",
            f"N ∈ {{{', '.join(map(str, plan.samples))}}}; q = 0 or 5; {ADV}",
            f"{seeds_text(plan.seeds)} per point; slope: least-squares on log-log ± s.e.",
        ),
        "slope −1/2 (dashed: C_α√(dk/N) with c₂ = 1).",
        f"slope {fmt_fit(fits[0])} at q = 0, {fmt_fit(fits[5])} at q = 5.",
        _verdict(fits, -0.5, 0.1)
        + f" The Byzantine workers cost a factor ×{min(r5):.2g}–×{max(r5):.2g}"
        f" over the fault-free error, not a different rate; the c₂ = 1 line lies ×{min(loose):.2g}–"
        f"×{max(loose):.2g} above the data (both q): loose by a constant, right in shape.",
        table(["N", "final error, q = 0", "final error, q = 5"], rows),
    )
    row = (
        f"| error vs. N (Cor. 1) | slope −0.5 | {fmt_fit(fits[0])} (q = 0), "
        f"{fmt_fit(fits[5])} (q = 5) |"
    )
    return (row, text), pts[5]


def _dimension(plan: Plan, run: Run, out: Path) -> Built:
    pts, fits, link, _ = _slope_section(
        plan, run, out, "d", plan.dims, "final error vs. $d$ ($N = 10^5$, $k = 20$)"
    )
    rows = [[str(d), g(pts[0][i].center), g(pts[5][i].center)] for i, d in enumerate(plan.dims)]
    text = section(
        "3. Final error vs. d (Corollary 1: ∝ √(dk/N))",
        link,
        settings(
            f"`{BASE_NAME}` (N = 100000, m = 100, gmom, k = 20, 40 rounds)",
            f"d ∈ {{{', '.join(map(str, plan.dims))}}}; q = 0 or 5; {ADV}",
            f"{seeds_text(plan.seeds)} per point; slope: least-squares on log-log ± s.e.",
        ),
        "slope +1/2.",
        f"slope {fmt_fit(fits[0])} at q = 0, {fmt_fit(fits[5])} at q = 5.",
        _verdict(fits, 0.5, 0.15)
        + (
            " Both slopes are below ½: the geometric median of Gaussian "
            "batch means gets relatively more efficient as d grows (its efficiency relative to "
            "the mean tends to 1), so the error grows slightly more slowly than √d."
            if max(fits[0][0], fits[5][0]) < 0.5
            else ""
        ),
        table(["d", "final error, q = 0", "final error, q = 5"], rows),
    )
    row = (
        f"| error vs. d (Cor. 1) | slope +0.5 | {fmt_fit(fits[0])} (q = 0), "
        f"{fmt_fit(fits[5])} (q = 5) |"
    )
    return row, text


def rounds_to_floor(curve: np.ndarray) -> int:
    """The first t with ‖θ_t − θ*‖ ≤ 2 × the floor (the geometric mean of the second half)."""
    floor = float(np.exp(np.mean(np.log(curve[len(curve) // 2 :]))))
    return int(np.argmax(curve <= 2 * floor))


def _rounds(plan: Plan, pts: list[Point], out: Path) -> Built:
    """§8: rounds to the floor against log N (the curves of §2 at q = 5)."""
    ns = [float(n) for n in plan.samples]
    ts = [rounds_to_floor(p.curve()) for p in pts]
    fit = fit_line(list(np.log10(ns)), [float(t) for t in ts])
    exact = math.log(10) / (2 * math.log(2))
    paper = math.log(10) / (2 * math.log(1 / theory.contraction(1.0, 1.0)))
    fig = style.new_figure()
    ax = fig.add_subplot()
    ax.plot(
        ns,
        ts,
        "o-",
        color="C1",
        label=f"gmom, $q = 5$ ({style.seeds_note(len(plan.seeds), None)} of the curve)",
    )
    a = np.mean(ts) - exact * np.mean(np.log10(ns))
    ax.plot(ns, a + exact * np.log10(ns), "k:", label=r"$\log N / (2\log 2)$ + const (exact step)")
    ax.set_xscale("log")
    ax.set_xlabel(style.axis_label("problem.samples"))
    ax.set_ylabel(r"rounds until $\|\theta_t-\theta^*\| \leq 2\times$ floor")
    style.integer_axis(ax.yaxis)
    ax.set_title("rounds to reach the floor vs. $N$")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="x-small")
    link = save(fig, out, "rounds_vs_samples")
    ok = exact / 2 <= fit[0] <= paper
    text = section(
        "8. Rounds to the floor vs. N (Theorem 1: O(log N))",
        link,
        settings(
            "the runs of §2 at q = 5; floor: the geometric mean of the error over the "
            "second half of the rounds; T: the first round within 2× of it"
        ),
        f"from ‖θ₀ − θ*‖ = 1 to a floor ∝ N^(−½) at rate r per round takes log N/(2 log(1/r)) "
        f"+ const rounds: {exact:.2f} rounds per decade of N at the exact step's r = ½, at "
        f"most {paper:.1f} at Corollary 1's r = {theory.contraction(1.0, 1.0):.3f}.",
        f"T = {', '.join(map(str, ts))} rounds for N = {', '.join(map(str, plan.samples))}: "
        f"{fmt_fit(fit)} rounds per decade (least squares of T on log₁₀ N).",
        (
            "Agrees: the rounds grow linearly in log N, at about the exact step's rate."
            if ok
            else "Disagrees with O(log N) at the measured rate."
        ),
    )
    row = (
        f"| rounds to floor (Thm. 1) | O(log N), ≤ {paper:.1f}/decade | {fmt_fit(fit)} per decade |"
    )
    return row, text
