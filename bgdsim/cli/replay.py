"""The commands on event logs: ``replay`` (verify, a round, export, re-run) and ``diff``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bgdsim.cli.exits import EXIT_FAILED, EXIT_OK, _fail
from bgdsim.cli.progress import RoundBar, show_progress
from bgdsim.cli.summary import _print_summary


def _cmd_replay(args: argparse.Namespace) -> int:
    from bgdsim.cli.run import SignKeyFlagError, _sign_key
    from bgdsim.replay import export_csv, timeline, verify

    actions = [bool(args.verify), args.round is not None, bool(args.overrides), bool(args.export)]
    if sum(actions) > 1:
        return _fail("replay: choose one of --verify, --round, --set, --export")
    for flag, given, needs, ok in (
        ("--out", args.out is not None, "--export", bool(args.export)),
        ("--log-out", args.log_out is not None, "--set", bool(args.overrides)),
        ("--overwrite", args.overwrite, "--set", bool(args.overrides)),
        ("--json", args.json, "--set", bool(args.overrides)),
    ):
        if given and not ok:
            return _fail(f"{flag}: only with {needs}")
    if args.sign_key is not None and (args.round is not None or args.export):
        return _fail("--sign-key: only with --verify (check a log) or --set (sign a re-run)")
    try:
        key = _sign_key(args)
    except SignKeyFlagError as exc:
        return _fail(str(exc))
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
        from bgdsim.logpaths import clobbers

        out = args.out or args.log.with_suffix(".csv")
        if clobbers(out, args.log):
            return _fail(f"--out {out}: is the log being read or its sidecar")
        n = export_csv(args.log, out)
        print(f"{out}: {n} events")
        return EXIT_OK
    if args.overrides:
        return _rerun(args, key)
    label = f"verify {args.log.name}"
    with RoundBar(label, 0, enabled=show_progress(args.quiet)) as progress:
        check = verify(args.log, progress=progress, sign_key=key)
    print(check.message())
    return EXIT_OK if check.ok else EXIT_FAILED


def _rerun(args: argparse.Namespace, key: bytes | None) -> int:
    """``replay LOG --set ...``: the parent verified first; one that does not verify is
    refused with its mismatch (exit 1, as ``--verify`` on it), nothing written."""
    from bgdsim.logpaths import LogPathError
    from bgdsim.replay import ParentMismatch, rerun
    from bgdsim.replay._header import announced_rounds

    label = f"verify {args.log.name}"
    try:
        with RoundBar(label, 0, enabled=show_progress(args.quiet)) as progress:
            result = rerun(
                args.log,
                args.overrides,
                log_path=args.log_out or True,
                overwrite=args.overwrite,
                sign_key=key,
                progress=progress,
            )
    except LogPathError as exc:
        return _fail(exc.describe("--log-out" if args.log_out else "log"))
    except ParentMismatch as exc:
        _fail(str(exc))
        return EXIT_FAILED
    if args.json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(result.summary()) + b"\n")
        return EXIT_OK
    print(f"re-run of {args.log.name} with {' '.join(args.overrides)}")
    scenario, asked = _load_logged(result.log_path), announced_rounds(_load_header(args.log))
    if scenario.rounds < asked and not any(o.startswith("rounds=") for o in args.overrides):
        print(f"the parent log has {scenario.rounds} verified complete rounds of the {asked} "
              "its scenario asks for (still being written, cut short or diverged): "
              "re-ran those")  # fmt: skip
    _print_summary(result, scenario)
    return EXIT_OK


def _load_header(path: Path) -> dict[str, Any]:
    from bgdsim.replay import Log

    with Log(path) as log:
        return log.header


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


def _cmd_diff(args: argparse.Namespace) -> int:
    from bgdsim.replay import diff

    ignore = [f.strip() for f in args.ignore]
    if any(not f for f in ignore):
        return _fail("--ignore: needs a field name (e.g. --ignore time)")
    try:
        result = diff(args.log_a, args.log_b, ignore)
    except ValueError as exc:
        if "--ignore" not in str(exc):
            raise
        return _fail(str(exc))
    if result.identical:
        print("identical runs" + (f" (ignoring {', '.join(ignore)})" if ignore else ""))
        return EXIT_OK
    _print_diff(result)
    return EXIT_FAILED


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _print_diff(result: Any) -> None:
    """The scenario keys that differ, the header fields derived from them, the first
    diverging event, and how many rounds differ."""
    if result.scenario:
        print("scenario keys that differ (A -> B):")
        for key, (va, vb) in result.scenario.items():
            print(f"  {key}: {_short(va)} -> {_short(vb)}")
    if result.header:
        shown = ", ".join(
            f"{k} ({_short(a)} -> {_short(b)})" for k, (a, b) in result.header.items()
        )
        print(f"header fields that differ: {shown}")
    first = result.first
    if first is None:
        print("events: identical")
        return
    where = f"round {first.round}, " if first.round is not None else ""
    what = f"event #{first.seq} ({first.event})" if first.seq is not None else first.event
    worker = f", worker {first.worker}" if first.worker is not None else ""
    print(f"first divergence: {where}{what}{worker}, field {', '.join(first.fields)}")
    n_a, n_b = result.rounds
    of = f"of {n_a}" if n_a == n_b else f"(A has {n_a} rounds, B {n_b})"
    print(f"rounds that differ: {result.rounds_differ} {of}")
