"""Worst case of every defence: each aggregator and q against every attack × schedule.

For every registered aggregator, plus gmom behind nearest-neighbour mixing (`nnm → gmom`),
and each Byzantine fraction q/m ∈ {5 %, 10 %, 20 %, 30 %} of m = 20 workers (q = 1, 2, 4,
6), runs every attack (its defaults) under every schedule (its defaults) on the paper's
linear regression (d = 10, N = 1e5, 20 rounds, the vector runtime) over a few seeds, and
prints, per rule and q, the worst final error normalised to the rule's own fault-free run
(same rule, same f = q and k, same seed, nobody Byzantine) together with the attack and
schedule that achieved it. Rules that batch use k = the smallest divisor of m that is
≥ 4q (2(1+ε)q ≤ k with ε = 1), or k = m if none is.

A combination the scenario check refuses is skipped and listed with its reason; a rule
whose precondition fails at that q (krum: n ≥ 2f + 3, bulyan: n ≥ 4f + 3) is "n/a
(precondition)"; a combination where any seed diverged is "div.".

    python scenarios/worst_case.py [--quick] [--seeds 2] [--jobs 2] [--out DIR] [--quiet]
    python scenarios/worst_case.py --update-readme   # rewrite the README's table
    python scenarios/worst_case.py --write-sweep     # rewrite scenarios/sweeps/worst_case.toml
    python scenarios/worst_case.py --from-runs results/worst_case/runs.csv [--update-readme]

The table, the notes and every run's final error go to ``results/worst_case/`` (or
``--out``); ``--from-runs`` rebuilds the table from a ``runs.csv`` without running. A
line on stderr as each rule × q finishes (``--quiet``: none). ``--quick`` (three rules,
two attacks, three schedules, one seed) takes seconds.
"""

from __future__ import annotations

import argparse
import csv
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from _progress import steps
from _worst_table import (
    Plan,
    Rule,
    Screened,
    costs,
    format_block,
    format_cell,
    replace_block,
    sweep_text,
    worst_cells,
)

import bgdsim
from bgdsim import aggregators, attacks
from bgdsim.adversary import schedules
from bgdsim.config import ScenarioError

HERE = Path(__file__).resolve().parent
BASE = HERE / "paper_linear_regression.toml"
README = HERE.parent / "README.md"
SWEEP = HERE / "sweeps" / "worst_case.toml"
M = 20
FRACTIONS = (0.05, 0.10, 0.20, 0.30)
ROUNDS = 20
#: the fault-free run: the scripted schedule with no sets leaves nobody Byzantine
NOBODY: dict[str, Any] = {"kind": "scripted", "sets": []}
NNM_GMOM = Rule("nnm → gmom", "gmom", ("nnm",))


def make_plan(quick: bool, n_seeds: int | None = None) -> Plan:
    if quick:
        rules = [Rule("mean", "mean"), Rule("bulyan", "bulyan"), NNM_GMOM]
        return Plan(rules, [1, 6], ["sign_flip", "alie"], ["batch_spread", "random", "scripted"],
                    list(range(n_seeds or 1)), 8)  # fmt: skip
    rules = [Rule(name, name) for name in aggregators.names()]
    rules.append(NNM_GMOM)
    public = [name for name in attacks.names() if not name.startswith("_")]
    qs = [round(f * M) for f in FRACTIONS]
    return Plan(rules, qs, public, schedules.names(), list(range(n_seeds or 2)), ROUNDS)


def batches(m: int, q: int) -> int:
    """k for the rules that batch: the smallest divisor of m with k ≥ 4q, else m."""
    return next((k for k in range(max(4 * q, 1), m + 1) if m % k == 0), m)


def overrides(rule: Rule, q: int, attack: str, schedule: Any, rounds: int) -> dict[str, Any]:
    table: dict[str, Any] = {"kind": rule.kind}
    if aggregators.takes_batches(aggregators.get(rule.kind)):
        table["batches"] = batches(M, q)
    return {
        "rounds": rounds,
        "cluster.workers": M,
        "cluster.byzantine": q,
        "server.aggregator": table,
        "server.pre": [{"kind": p} for p in rule.pre],
        "adversary.attack": attack,
        "adversary.schedule": schedule,
    }


def refusal(rule: Rule, q: int, attack: str, schedule: Any, rounds: int) -> str | None:
    """The scenario check's message if it refuses this combination, else None."""
    try:
        bgdsim.load_scenario(BASE, overrides(rule, q, attack, schedule, rounds))
    except ScenarioError as exc:
        return str(exc).removeprefix(f"{BASE}: ")
    return None


def screen(plan: Plan) -> Screened:
    probe = plan.rules[0]
    return Screened(
        rules={(r.label, q): why for r in plan.rules for q in plan.qs
               if (why := refusal(r, q, "sign_flip", "random", plan.rounds))},
        schedules={s: why for s in plan.schedules
                   if (why := refusal(probe, plan.qs[0], "sign_flip", s, plan.rounds))},
        attacks={a: why for a in plan.attacks
                 if (why := refusal(probe, plan.qs[0], a, "random", plan.rounds))},
    )  # fmt: skip


Job = tuple[Rule, int, str, Any, int, int]  # rule, q, attack, schedule, seed, rounds


def final_error(job: Job) -> float | str:
    """The run's final ‖θ_T − θ*‖ (inf if it diverged), or the reason it was refused."""
    from bgdsim.vector import run_vector

    rule, q, attack, schedule, seed, rounds = job
    try:
        sc = bgdsim.load_scenario(BASE, overrides(rule, q, attack, schedule, rounds), seed=seed)
    except ScenarioError as exc:
        return str(exc).removeprefix(f"{BASE}: ")
    result = run_vector(sc, log_path=None)
    err = float(result.final_error)
    return err if result.status == "completed" and math.isfinite(err) else math.inf


def run(plan: Plan, screened: Screened, jobs: int, quiet: bool) -> dict[tuple[Any, ...], Any]:
    """Every run's outcome, keyed (rule label, q, attack, schedule, seed); the fault-free
    runs under the schedule ``"none"``."""
    todo: list[Job] = []
    for q in plan.qs:
        for rule in plan.rules:
            if (rule.label, q) in screened.rules:
                continue
            todo += [(rule, q, "sign_flip", NOBODY, s, plan.rounds) for s in plan.seeds]
            todo += [(rule, q, a, s, seed, plan.rounds) for a in plan.attacks
                     if a not in screened.attacks for s in plan.schedules
                     if s not in screened.schedules for seed in plan.seeds]  # fmt: skip
    labels = [f"{rule.label} at q = {q}" for rule, q, *_ in todo]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        outcomes = steps(pool.map(final_error, todo), labels, quiet)  # type: ignore[arg-type]
    return {
        (rule.label, q, a, "none" if s is NOBODY else s, seed): out
        for (rule, q, a, s, seed, _), out in zip(todo, outcomes, strict=True)
    }


def notes(plan: Plan, screened: Screened, outcomes: dict[tuple[Any, ...], Any]) -> list[str]:
    """What was skipped and why, one line each."""
    lines = [f"schedule {s}: refused with its defaults ({why}); run only with sets = [] as "
             "the fault-free run" if s == "scripted" else f"schedule {s}: refused ({why})"
             for s, why in screened.schedules.items()]  # fmt: skip
    lines += [f"attack {a}: refused ({why})" for a, why in screened.attacks.items()]
    lines += [f"{label} at q = {q}: n/a (precondition): {why}"
              for (label, q), why in screened.rules.items()]  # fmt: skip
    late = sorted({(k[0], k[1], k[2], k[3], v) for k, v in outcomes.items() if isinstance(v, str)})
    lines += [f"{label} at q = {q}, {a} / {s}: refused ({why})" for label, q, a, s, why in late]
    return lines


RUNS_HEADER = ["aggregator", "q", "attack", "schedule", "seed", "final_error", "refused"]


def write_runs(path: Path, outcomes: dict[tuple[Any, ...], Any]) -> None:
    """Every run: its final error (``inf``: diverged), or why it was refused."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(RUNS_HEADER)
        for key, v in outcomes.items():
            out.writerow([*key, repr(v), ""] if isinstance(v, float) else [*key, "", v])


def read_runs(path: Path) -> dict[tuple[Any, ...], Any]:
    """The outcomes :func:`write_runs` wrote."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or list(rows[0]) != RUNS_HEADER:
        raise SystemExit(f"{path}: not a runs.csv of this script (columns {RUNS_HEADER})")
    return {
        (r["aggregator"], int(r["q"]), r["attack"], r["schedule"], int(r["seed"])):
            float(r["final_error"]) if r["final_error"] else r["refused"]
        for r in rows
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few rules, attacks and schedules")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per combination (2; quick 1)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel runs")
    ap.add_argument("--out", type=Path, default=Path("results") / "worst_case")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ap.add_argument("--update-readme", action="store_true", help="rewrite the README's table")
    ap.add_argument("--write-sweep", action="store_true", help=f"rewrite sweeps/{SWEEP.name}")
    ap.add_argument("--from-runs", type=Path, help="the table of a runs.csv, without running")
    args = ap.parse_args(argv)
    if args.quick and args.update_readme:
        ap.error("--update-readme prints the full grid; do not combine it with --quick")
    plan = make_plan(args.quick, args.seeds)
    screened = screen(plan)
    if args.write_sweep:
        SWEEP.write_text(sweep_text(plan, screened, NOBODY, overrides), encoding="utf-8")
        print(f"wrote {SWEEP.relative_to(HERE.parent)}")
        return 0
    if args.from_runs:
        outcomes = read_runs(args.from_runs)
    else:
        outcomes = run(plan, screened, args.jobs, args.quiet)
    cells = worst_cells(plan, screened, outcomes)
    ran = ([a for a in plan.attacks if a not in screened.attacks],
           [s for s in plan.schedules if s not in screened.schedules])  # fmt: skip
    cost = costs(plan, screened, outcomes)
    block = format_block(plan, M, cells, cost, notes(plan, screened, outcomes), *ran)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(block, encoding="utf-8")
    if not args.from_runs:
        write_runs(args.out / "runs.csv", outcomes)
    print(block)
    if args.update_readme:
        README.write_text(replace_block(README.read_text(encoding="utf-8"), block), "utf-8")
        print("updated README.md")
    worst = max((c for c in cells.values() if c.ratio is not None), key=lambda c: c.ratio or 0)
    wrote = "table.md" if args.from_runs else "table.md and runs.csv"
    print(f"worst overall: {format_cell(worst)}; wrote {wrote} in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
