"""The ``bgdsim`` command line: parse, load, call, print, exit code — nothing more.

Exit codes: 0 success; 1 the run or check failed; 2 bad input (unreadable or invalid
scenario, unknown name, bad override), always with one message naming the field.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from bgdsim import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

LISTABLE = (
    "aggregators",
    "attacks",
    "schedules",
    "latencies",
    "losses",
    "topologies",
    "faults",
    "problems",
    "missing",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own usage errors → exit 2, one line
        self.print_usage(sys.stderr)
        raise SystemExit(_fail(f"{self.prog}: {message}"))


def _fail(message: str) -> int:
    print(f"bgdsim: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="bgdsim", description="Simulate Byzantine Gradient Descent (Chen, Su, Xu).")
    p.add_argument("--version", action="version", version=f"bgdsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="run a scenario on the discrete-event simulator")
    r.add_argument("scenario", type=Path, help="scenario TOML file")
    r.add_argument("--seed", type=int, help="override the scenario's seed")
    r.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a key, value in TOML (repeatable): --set cluster.byzantine=10",
    )
    r.add_argument("--log", type=Path, help="event log path (default logs/<name>-seed<seed>.jsonl)")
    r.add_argument("--no-log", action="store_true", help="do not write an event log")
    r.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    r.add_argument(
        "--runtime",
        choices=["simpy", "vector", "asyncio", "tcp"],
        default="simpy",
        help="simpy (simulated time, default), vector (simulated time, each round in closed "
        "form: the same log, much faster at large m), asyncio (real time), tcp (loopback "
        "sockets)",
    )
    r.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="asyncio/tcp: wall seconds per simulated second (e.g. 0.01 to run 100x faster)",
    )

    v = sub.add_parser("validate", help="check a scenario file and print it fully resolved")
    v.add_argument("scenario", type=Path)
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    rp = sub.add_parser("replay", help="verify a log, inspect a round, or re-run its faults")
    rp.add_argument("log", type=Path, help="an event log (.jsonl)")
    rp.add_argument("--verify", action="store_true", help="check integrity and recompute rounds")
    rp.add_argument("--round", type=int, metavar="T", help="show round T worker by worker")
    rp.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="re-run the recorded faults with the server changed (server.* keys, rounds, name)",
    )
    rp.add_argument(
        "--export",
        choices=["csv", "parquet"],
        help="csv: every event as one flat table; parquet: messages.parquet and "
        "events.parquet for DuckDB / polars",
    )
    rp.add_argument(
        "--out",
        type=Path,
        help="--export: the output file (csv, default LOG.csv) or folder (parquet, "
        "default LOG's name without .jsonl)",
    )
    rp.add_argument("--log-out", dest="log_out", type=Path, help="--set: the re-run's log path")
    rp.add_argument("--json", action="store_true", help="--set: print the re-run's summary as JSON")

    sw = sub.add_parser("sweep", help="run a grid of scenarios x seeds (locally or on Dask)")
    sw.add_argument("sweep", type=Path, help="sweep TOML file")
    sw.add_argument("--engine", choices=["local", "dask"], default="local")
    sw.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, tcp://HOST:8786")
    sw.add_argument("--jobs", type=int, help="worker processes (default: the CPU count)")
    sw.add_argument("--out", type=Path, help="output folder (default: results/<sweep name>)")
    sw.add_argument("--logs", action="store_true", help="write every run's event log")

    pl = sub.add_parser("plot", help="figures from a sweep's results or from event logs")
    pl.add_argument("path", type=Path, help="a sweep's results directory or an event log")
    pl.add_argument("--out", type=Path, help="output directory (default: beside the input)")

    df = sub.add_parser("diff", help="the first divergence between two logs")
    df.add_argument("log_a", type=Path)
    df.add_argument("log_b", type=Path)

    tp = sub.add_parser("topology", help="draw a scenario's network topology")
    tp.add_argument("scenario", type=Path)
    tp.add_argument("--out", type=Path, required=True, help="image file (.png or .svg)")
    tp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    sv = sub.add_parser("serve", help="tcp runtime: the server, for workers in other processes")
    sv.add_argument("scenario", type=Path)
    sv.add_argument("--listen", required=True, metavar="HOST:PORT", help="e.g. 127.0.0.1:7000")
    sv.add_argument("--keys", type=Path, required=True, help="folder of per-worker key files")
    sv.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    sv.add_argument("--seed", type=int)
    sv.add_argument("--log", type=Path)
    sv.add_argument("--time-scale", type=float, default=1.0)

    wk = sub.add_parser("worker", help="tcp runtime: one worker, connecting to `bgdsim serve`")
    wk.add_argument("--connect", required=True, metavar="HOST:PORT")
    wk.add_argument("--id", type=int, required=True, help="the worker's id j")
    wk.add_argument("--key-file", type=Path, required=True)

    ls = sub.add_parser("list", help="list the registered components")
    ls.add_argument("what", nargs="?", choices=LISTABLE, help="one family (default: all)")
    return p


def _load(args: argparse.Namespace) -> Any:
    from bgdsim.config import load_scenario

    return load_scenario(args.scenario, args.overrides, seed=getattr(args, "seed", None))


def _cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from bgdsim.sim import default_log_path, run

    scenario = _load(args)
    log_path: Path | bool = False if args.no_log else (args.log or True)
    target = default_log_path(scenario) if log_path is True else log_path
    if target:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        except OSError as exc:
            return _fail(f"--log {target}: cannot write the event log: {exc.strerror or exc}")
    if not args.time_scale > 0:
        return _fail(f"--time-scale: must be > 0, got {args.time_scale}")
    err = Console(stderr=True)
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task(f"{scenario.name} (seed {scenario.seed})", total=scenario.rounds)

        def progress(t: int, _n: int) -> None:
            bar.update(task, completed=t)

        if args.runtime == "simpy":
            result = run(scenario, log_path=log_path, progress=progress)
        elif args.runtime == "vector":
            from bgdsim.vector import run_vector

            result = run_vector(scenario, log_path=log_path, progress=progress)
        elif args.runtime == "asyncio":
            from bgdsim.live import run_asyncio

            result = run_asyncio(
                scenario, log_path=log_path, time_scale=args.time_scale, progress=progress
            )
        else:
            import asyncio

            from bgdsim.live import run_tcp

            result = asyncio.run(
                run_tcp(scenario, log_path=log_path, time_scale=args.time_scale, progress=progress)
            )
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(result.summary(), default=_jsonable) + b"\n")
    else:
        _print_summary(result, scenario)
    return EXIT_OK


def _jsonable(obj: Any) -> Any:
    raise TypeError(f"not serialisable: {type(obj).__name__}")


def _predicted_floor(scenario: Any) -> str | None:
    """Corollary 1's C_α·√(dk/N) (c₂ = 1: the shape of the bound, not a guarantee)."""
    from bgdsim.theory import predicted_floor

    try:
        value = predicted_floor(scenario)
    except ValueError:  # not the paper's problem or rule
        return None
    return f"{value:.4g}" if math.isfinite(value) else "none (k ≤ 2q: no guarantee)"


def _print_summary(result: Any, scenario: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    c = result.counts
    t = Table(title=f"{result.name} · seed {result.seed}", show_header=False)
    t.add_column(style="bold")
    t.add_column(justify="right", overflow="fold")
    srv, cl = scenario.server, scenario.cluster
    t.add_row("aggregator", f"{srv.aggregator} (k={srv.batches})")
    t.add_row("workers / byzantine", f"{cl.workers} / {cl.byzantine}")
    t.add_row("attack / schedule", f"{scenario.adversary.attack} / {scenario.adversary.schedule}")
    t.add_row(
        "rounds", f"{result.rounds}" + ("" if result.status == "completed" else " (diverged)")
    )
    t.add_row("initial error ‖θ₀−θ*‖", f"{result.errors[0]:.4g}")
    fe = result.final_error
    t.add_row("final error ‖θ_T−θ*‖", f"{fe:.4g}" if math.isfinite(fe) else str(fe))
    t.add_row("paper floor √(dk/N)", f"{result.floor:.4g}")
    predicted = _predicted_floor(scenario)
    if predicted is not None:
        t.add_row("Corollary 1 shape C_α√(dk/N), c₂ = 1", predicted)
    t.add_row("final / floor", f"{fe / result.floor:.3g}")
    t.add_row(
        "reports sent / delivered",
        f"{c['up_sent']} / {c['up_delivered']}",
    )
    t.add_row(
        "dropped (down+up) / late / rejected",
        f"{c['down_dropped'] + c['up_dropped']} / {c['up_late']} / {c['up_rejected']}",
    )
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


def _cmd_validate(args: argparse.Namespace) -> int:
    scenario = _load(args)
    from bgdsim.config import to_toml

    print(f"# {args.scenario}: valid")
    print(to_toml(scenario.to_dict()), end="")
    return EXIT_OK


def _cmd_replay(args: argparse.Namespace) -> int:
    from bgdsim.replay import export_csv, timeline, verify

    actions = [bool(args.verify), args.round is not None, bool(args.overrides), bool(args.export)]
    if sum(actions) > 1:
        return _fail("replay: choose one of --verify, --round, --set, --export")
    if args.round is not None:
        summary, rows = timeline(args.log, args.round)
        _print_timeline(summary, rows)
        return EXIT_OK
    if args.export == "parquet":
        from bgdsim.replay import export_parquet

        folder = args.out or args.log.with_suffix("")
        msg_path, ev_path, n_msg, n_ev = export_parquet(args.log, folder)
        print(f"{msg_path}: {n_msg} message records")
        print(f"{ev_path}: {n_ev} events")
        return EXIT_OK
    if args.export:
        out = args.out or args.log.with_suffix(".csv")
        n = export_csv(args.log, out)
        print(f"{out}: {n} events")
        return EXIT_OK
    if args.overrides:
        from bgdsim.replay import rerun

        result = rerun(args.log, args.overrides, log_path=args.log_out or True)
        if args.json:
            sys.stdout.buffer.write(orjson.dumps(result.summary()) + b"\n")
        else:
            print(f"re-run of {args.log.name} with {' '.join(args.overrides)}")
            _print_summary(result, _load_logged(result.log_path))
        return EXIT_OK
    check = verify(args.log)
    print(check.message())
    return EXIT_OK if check.ok else EXIT_FAILED


def _load_logged(path: Path | None) -> Any:
    from bgdsim.replay import Log

    assert path is not None
    with Log(path) as log:
        return log.scenario()


def _print_timeline(summary: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    def fmt(v: Any) -> str:
        return "" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

    title = (
        f"round {summary['round']}: start {fmt(summary.get('start'))} s, barrier "
        f"{fmt(summary.get('barrier'))} s ({summary.get('reason', '?')}), "
        f"‖aggregate‖ {fmt(summary.get('aggregate_norm'))}, error {fmt(summary.get('error'))}"
    )
    cols = {
        "worker": "w", "byzantine": "byz", "batch": "batch", "down_latency": "↓ latency",
        "down_deliver": "↓ arrives", "down_drop": "↓ lost", "down_reason": "↓ why",
        "up_send": "↑ sent", "up_latency": "↑ latency", "up_deliver": "↑ arrives",
        "up_drop": "↑ lost", "up_reason": "↑ why", "up_late": "↑ late",
        "up_rejected": "↑ rejected", "dist_to_honest_mean": "‖g − honest mean‖",
    }  # fmt: skip
    used = [c for c in cols if any(r.get(c) not in (None, False) for r in rows)]
    t = Table(title=title)
    for c in used:
        t.add_column(cols[c], justify="right", no_wrap=True)
    for r in rows:
        cells = [("B" if r.get(c) else "") if c == "byzantine" else fmt(r.get(c)) for c in used]
        t.add_row(*cells)
    Console(width=max(160, Console().width)).print(t)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from bgdsim.sweep import SweepError, SweepRunError, read_results, run_sweep

    if args.jobs is not None and args.jobs < 1:
        return _fail(f"--jobs: must be >= 1, got {args.jobs}")
    try:
        csv_path = run_sweep(
            args.sweep,
            engine=args.engine,
            jobs=args.jobs,
            scheduler=args.scheduler,
            out=args.out,
            logs=args.logs,
        )
    except SweepError as exc:
        return _fail(str(exc))
    except SweepRunError as exc:
        print(f"bgdsim: sweep failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    rows = read_results(csv_path.parent)
    print(f"{csv_path}: {len(rows)} runs")
    return EXIT_OK


def _cmd_plot(args: argparse.Namespace) -> int:
    from bgdsim.plots import plot_path

    try:
        written = plot_path(args.path, args.out)
    except ValueError as exc:
        return _fail(str(exc))
    for path in written:
        print(path)
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from bgdsim.replay import diff

    first = diff(args.log_a, args.log_b)
    if first is None:
        print("identical runs")
        return EXIT_OK
    t, seq, event, key = first
    where = f"round {t}, " if t is not None else ""
    print(f"first divergence: {where}event #{seq} ({event}), field {key}")
    return EXIT_FAILED


def _cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from bgdsim.live import serve

    scenario = _load(args)
    if not args.time_scale > 0:
        return _fail(f"--time-scale: must be > 0, got {args.time_scale}")

    def listening(host: str, port: int) -> None:
        print(f"listening on {host}:{port}; keys in {args.keys}", file=sys.stderr, flush=True)

    try:
        result = asyncio.run(
            serve(
                scenario,
                args.listen,
                args.keys,
                log_path=args.log or True,
                time_scale=args.time_scale,
                on_listen=listening,
            )
        )
    except ValueError as exc:  # a bad HOST:PORT
        return _fail(f"--listen {args.listen}: {exc}")
    _print_summary(result, scenario)
    return EXIT_OK


def _cmd_worker(args: argparse.Namespace) -> int:
    import asyncio

    from bgdsim.live import worker

    try:
        asyncio.run(worker(args.connect, args.id, args.key_file))
    except ValueError as exc:
        return _fail(f"worker {args.id}: {exc}")
    except ConnectionError as exc:
        print(f"bgdsim: worker {args.id}: connection lost: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _cmd_topology(args: argparse.Namespace) -> int:
    scenario = _load(args)
    if args.out.suffix.lower() not in (".png", ".svg"):
        return _fail(f"--out {args.out}: the image must be a .png or .svg file")
    routes = scenario.network.topology.build(scenario.cluster.workers)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        routes.draw(args.out, title=f"{scenario.name}: {scenario.network.topology.kind}")
    except OSError as exc:
        return _fail(f"--out {args.out}: cannot write: {exc.strerror or exc}")
    print(f"{args.out}: {len(routes.relays)} relays, {scenario.cluster.workers} workers")
    return EXIT_OK


def _listing() -> dict[str, list[tuple[str, str]]]:
    from bgdsim import adversary, aggregators, attacks, problems
    from bgdsim.network import latencies, losses, topologies

    def first_line(obj: Any) -> str:
        return (obj.__doc__ or "").strip().splitlines()[0] if obj.__doc__ else ""

    missing = [
        ("zero", "a missing report counts as the zero vector (the paper's arbitrary value)"),
        ("exclude", "missing reports are left out of the aggregation"),
        ("stale", "a missing report is replaced by the worker's last accepted one"),
    ]
    return {
        "aggregators": [(n, first_line(aggregators.get(n))) for n in aggregators.names()],
        "attacks": [(n, first_line(attacks.get(n))) for n in attacks.names()],
        "schedules": [(n, first_line(adversary.schedules.get(n))) for n in adversary.schedules],
        "latencies": [(n, first_line(latencies.get(n))) for n in latencies],
        "losses": [(n, first_line(losses.get(n))) for n in losses],
        "topologies": [(n, first_line(topologies.get(n))) for n in topologies],
        "faults": [
            ("crash", "workers (or relays) neither receive nor send, then resume"),
            ("partition", "every message to or from the workers is lost"),
            ("degrade", "the workers' links: latency x factor, loss + drop"),
            ("byzantine", "the workers are Byzantine in those rounds (within q)"),
            ("server_pause", "the server starts no round in the interval (seconds)"),
        ],
        "problems": [
            (n, first_line(sys.modules[problems.registry.get(n).__module__]))
            for n in problems.names()
        ],
        "missing": missing,
    }


def _cmd_list(args: argparse.Namespace) -> int:
    listing = _listing()
    for family in [args.what] if args.what else LISTABLE:
        print(f"{family}:")
        for name, doc in listing[family]:
            print(f"  {name:<20} {doc}")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": _cmd_run,
    "validate": _cmd_validate,
    "topology": _cmd_topology,
    "replay": _cmd_replay,
    "diff": _cmd_diff,
    "plot": _cmd_plot,
    "sweep": _cmd_sweep,
    "serve": _cmd_serve,
    "worker": _cmd_worker,
    "list": _cmd_list,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bgdsim`` console script."""
    from bgdsim.config import ScenarioError
    from bgdsim.registry import UnknownNameError
    from bgdsim.replay import LogError

    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except (ScenarioError, UnknownNameError, LogError) as exc:
        return _fail(str(exc))
    except OSError as exc:  # e.g. a --log path that cannot be created
        where = f" {exc.filename}" if exc.filename else ""
        return _fail(f"cannot write{where}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        print("bgdsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
