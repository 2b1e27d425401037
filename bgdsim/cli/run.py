"""The commands on a scenario file: ``run``, ``validate`` and ``topology``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bgdsim.cli.exits import EXIT_OK, _fail
from bgdsim.cli.summary import _print_summary


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
        import orjson

        sys.stdout.buffer.write(orjson.dumps(result.summary(), default=_jsonable) + b"\n")
    else:
        _print_summary(result, scenario)
    return EXIT_OK


def _jsonable(obj: Any) -> Any:
    raise TypeError(f"not serialisable: {type(obj).__name__}")


def _cmd_validate(args: argparse.Namespace) -> int:
    scenario = _load(args)
    from bgdsim.config import to_toml

    print(f"# {args.scenario}: valid")
    print(to_toml(scenario.to_dict()), end="")
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
