"""The commands on a scenario file: ``run``, ``validate`` and ``topology``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bgdsim.cli.exits import EXIT_OK, _fail
from bgdsim.cli.progress import RoundBar, show_progress
from bgdsim.cli.summary import _print_summary


def _load(args: argparse.Namespace) -> Any:
    from bgdsim.config import load_scenario

    return load_scenario(args.scenario, args.overrides, seed=getattr(args, "seed", None))


class SignKeyFlagError(Exception):
    """A refused ``--sign-key``: its one-line message names the flag."""


def _sign_key(args: argparse.Namespace) -> bytes | None:
    """The key of ``--sign-key FILE``, read and checked (None without the flag).

    Raises:
        SignKeyFlagError: naming the flag, the file and what is wrong with it.
    """
    if args.sign_key is None:
        return None
    from bgdsim.eventlog.signing import SignKeyError, read_sign_key

    try:
        return read_sign_key(args.sign_key)
    except SignKeyError as exc:
        raise SignKeyFlagError(f"--sign-key {exc}") from None


def _cmd_run(args: argparse.Namespace) -> int:
    from bgdsim.cli.live import _check_time_scale
    from bgdsim.logpaths import LogPathError

    if args.time_scale is not None and args.runtime not in ("asyncio", "tcp"):
        return _fail(f"--time-scale: only with --runtime asyncio or tcp ({args.runtime} runs "
                     "on simulated time)")  # fmt: skip
    args.time_scale = 1.0 if args.time_scale is None else args.time_scale
    bad = _check_time_scale(args.time_scale)
    if bad:
        return _fail(bad)
    if args.no_log and args.sign_key is not None:
        return _fail("--sign-key: there is no log to sign with --no-log")
    if args.no_log and args.log is not None:
        return _fail("--log: there is no log to write with --no-log")
    try:
        key = _sign_key(args)
    except SignKeyFlagError as exc:
        return _fail(str(exc))
    scenario = _load(args)
    if args.runtime == "tcp":
        from bgdsim.live.tcp import check_tcp_workers

        try:
            check_tcp_workers(scenario)
        except ValueError as exc:
            return _fail(str(exc))
    log_path: Path | bool = False if args.no_log else (args.log or True)
    flag = "--log" if args.log else "log"
    try:
        _check_log_path(scenario, log_path, args.overwrite)
        result = _run_with_progress(args, scenario, log_path, key)
    except LogPathError as exc:
        return _fail(exc.describe(flag))
    except _LogDirError as exc:
        return _fail(f"{flag} {exc.path}: cannot write the event log: {exc.reason}")
    if args.json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(result.summary(), default=_jsonable) + b"\n")
    else:
        _print_summary(result, scenario)
    return EXIT_OK


class _LogDirError(Exception):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason


def _check_log_path(scenario: Any, log_path: Path | bool, overwrite: bool) -> None:
    """The log path's rules, and its folder, before the progress bar starts: a refusal
    is one line (the log itself is opened, exclusively, by the run)."""
    from bgdsim.sim.runtime import log_target

    path = log_target(scenario, log_path, overwrite=overwrite).path
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _LogDirError(path, str(exc.strerror or exc)) from None
        _check_log_space(scenario, path)


def _check_log_space(scenario: Any, path: Path) -> None:
    """Refuse a run whose event log cannot fit the free space of its folder."""
    import shutil

    from bgdsim.config.limits import format_bytes, log_bytes_estimate

    need = log_bytes_estimate(
        workers=scenario.cluster.workers, dim=scenario.problem.dim, rounds=scenario.rounds
    )
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:  # pragma: no cover - cannot ask: the write will tell
        return
    if need > free:
        raise _LogDirError(
            path,
            f"rounds: the log needs at least {format_bytes(need)} (rounds "
            f"{scenario.rounds} × (cluster.workers {scenario.cluster.workers} × "
            f"problem.dim {scenario.problem.dim} × 8 + 60 × cluster.workers) bytes), "
            f"only {format_bytes(free)} free in {path.parent} (or use --no-log)",
        )


def _run_with_progress(
    args: argparse.Namespace, scenario: Any, log_path: Path | bool, key: bytes | None
) -> Any:
    """The run on ``args.runtime``, with a progress bar on stderr (a terminal, no --quiet)."""
    from bgdsim.sim import run

    label = f"{scenario.name} (seed {scenario.seed})"
    with RoundBar(label, scenario.rounds, enabled=show_progress(args.quiet)) as progress:
        logging: dict[str, Any] = {
            "log_path": log_path,
            "overwrite": bool(args.overwrite),
            "sign_key": key,
            "progress": progress,
        }
        if args.runtime == "simpy":
            return run(scenario, **logging)
        if args.runtime == "vector":
            from bgdsim.vector import run_vector

            return run_vector(scenario, **logging)
        if args.runtime == "asyncio":
            from bgdsim.live import run_asyncio

            return run_asyncio(scenario, time_scale=args.time_scale, **logging)
        import asyncio

        from bgdsim.live import run_tcp

        return asyncio.run(run_tcp(scenario, time_scale=args.time_scale, **logging))


def _jsonable(obj: Any) -> Any:
    raise TypeError(f"not serialisable: {type(obj).__name__}")


def _cmd_validate(args: argparse.Namespace) -> int:
    scenario = _load(args)
    from bgdsim.config import to_toml

    data, unset = _with_defaults(scenario)
    print(f"# {args.scenario}: valid (every parameter shown, defaults included)")
    print(to_toml(data), end="")
    if unset:
        print(f"# not set, so the component chooses (see its docstring): {', '.join(unset)}")
    return EXIT_OK


def _with_defaults(scenario: Any) -> tuple[dict[str, Any], list[str]]:
    """The resolved scenario as a dict (its components' tables carry every default) and the
    dotted names of the parameters left to the component (default None; TOML has no null)."""
    comps = {
        "server.aggregator": scenario.server.aggregator,
        "adversary.attack": scenario.adversary.attack,
        "adversary.schedule": scenario.adversary.schedule,
    }
    unset = [f"{where}.{k}" for where, c in comps.items() for k, v in c.params.items() if v is None]
    return scenario.to_dict(), unset


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
