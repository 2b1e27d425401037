"""The commands that read runs back or make many: ``sweep`` (a grid, locally or on
Dask), ``plot`` (figures) and ``report`` (one HTML page)."""

from __future__ import annotations

import argparse
import sys

from bgdsim.cli.exits import EXIT_FAILED, EXIT_OK, _fail
from bgdsim.cli.progress import show_progress


def _cmd_sweep(args: argparse.Namespace) -> int:
    from bgdsim.sweep import SweepError, SweepRunError, read_results, run_sweep

    if args.jobs is not None and args.jobs < 1:
        return _fail(f"--jobs: must be >= 1, got {args.jobs}")

    def plan(done: int, left: int) -> None:
        runs = "run" if done == 1 else "runs"
        print(f"sweep {args.sweep.stem}: {done} {runs} already done, {left} to run", flush=True)

    try:
        csv_path = run_sweep(
            args.sweep,
            engine=args.engine,
            jobs=args.jobs,
            scheduler=args.scheduler,
            out=args.out,
            logs=args.logs,
            progress=show_progress(args.quiet),
            plan=plan,
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


def _cmd_report(args: argparse.Namespace) -> int:
    from bgdsim.logpaths import clobbers
    from bgdsim.report import write_report

    if args.out is not None and clobbers(args.out, args.path):
        return _fail(f"--out {args.out}: is the log being read or its sidecar")
    try:
        written = write_report(args.path, args.out)
    except ValueError as exc:
        return _fail(str(exc))
    print(written)
    return EXIT_OK
