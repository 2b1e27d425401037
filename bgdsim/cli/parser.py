"""The argument parser: every command, its arguments and their help.

Usage errors (argparse's own) print the usage and one ``bgdsim: error:`` line and exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bgdsim import __version__
from bgdsim.cli.exits import _fail
from bgdsim.cli.listing import LISTABLE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own usage errors → exit 2, one line
        raise SystemExit(_fail(f"{self.prog}: {message} (see {self.prog} --help)"))


QUIET = "no progress bar (there is none either when stderr is not a terminal)"


def _sign_key(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--sign-key",
        dest="sign_key",
        type=Path,
        metavar="FILE",
        help=f"{what}; FILE holds the key as hex text, 16 to 64 bytes "
        "(e.g. from `openssl rand -hex 32`)",
    )


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
    r.add_argument(
        "--log",
        type=Path,
        help="event log path, a .jsonl file not yet there (default "
        "logs/<name>-seed<seed>.jsonl, or -2, -3, ... if taken: nothing is overwritten)",
    )
    r.add_argument("--overwrite", action="store_true", help="--log: replace an existing log")
    _sign_key(r, "sign the event log: an HMAC-SHA256 signature on every seal")
    r.add_argument("--no-log", action="store_true", help="do not write an event log")
    r.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    r.add_argument("-q", "--quiet", action="store_true", help=QUIET)
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
        default=None,
        help="asyncio/tcp: wall seconds per simulated second (default 1; e.g. 0.01 to run "
        "100x faster)",
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
    rp.add_argument(
        "--log-out",
        dest="log_out",
        type=Path,
        help="--set: the re-run's log path (default logs/<name>-seed<seed>.jsonl, or -2, "
        "-3, ... if taken: never the parent)",
    )
    rp.add_argument("--overwrite", action="store_true", help="--log-out: replace an existing log")
    rp.add_argument("--json", action="store_true", help="--set: print the re-run's summary as JSON")
    rp.add_argument("-q", "--quiet", action="store_true", help=QUIET)

    _sign_key(rp, "--verify: check every seal's signature; --set: sign the re-run's log")

    sw = sub.add_parser("sweep", help="run a grid of scenarios x seeds (locally or on Dask)")
    sw.add_argument("sweep", type=Path, help="sweep TOML file")
    sw.add_argument("--engine", choices=["local", "dask"], default="local")
    sw.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, tcp://HOST:8786")
    sw.add_argument("--jobs", type=int, help="worker processes (default: the CPU count)")
    sw.add_argument("--out", type=Path, help="output folder (default: results/<sweep name>)")
    sw.add_argument("--logs", action="store_true", help="write every run's event log")
    sw.add_argument("-q", "--quiet", action="store_true", help=QUIET)

    pl = sub.add_parser("plot", help="figures from a sweep's results or from event logs")
    pl.add_argument("path", type=Path, help="a sweep's results directory or an event log")
    pl.add_argument("--out", type=Path, help="output directory (default: beside the input)")

    rp2 = sub.add_parser(
        "report", help="one self-contained HTML page of a run's log or a sweep's results"
    )
    rp2.add_argument("path", type=Path, help="an event log (.jsonl) or a sweep's results folder")
    rp2.add_argument(
        "--out", type=Path, help="the HTML file (default: LOG.html, or DIR/report.html)"
    )

    df = sub.add_parser(
        "diff", help="two logs: scenario keys that differ, first divergence, rounds that differ"
    )
    df.add_argument("log_a", type=Path)
    df.add_argument("log_b", type=Path)
    df.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="FIELD",
        help="a field (or scenario key) not to compare; repeatable",
    )

    tp = sub.add_parser("topology", help="draw a scenario's network topology")
    tp.add_argument("scenario", type=Path)
    tp.add_argument("--out", type=Path, required=True, help="image file (.png or .svg)")
    tp.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    sv = sub.add_parser("serve", help="tcp runtime: the server, for workers in other processes")
    sv.add_argument("scenario", type=Path)
    sv.add_argument("--listen", required=True, metavar="HOST:PORT", help="e.g. 127.0.0.1:7000")
    sv.add_argument(
        "--keys",
        type=Path,
        default=Path("results") / "keys",
        help="folder of per-worker key files, written if empty (default: results/keys)",
    )
    sv.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    sv.add_argument("--seed", type=int)
    sv.add_argument("--log", type=Path, help="event log path (as for run; opened once bound)")
    sv.add_argument("--overwrite", action="store_true", help="--log: replace an existing log")
    _sign_key(sv, "sign the event log (as for run)")
    sv.add_argument("--time-scale", type=float, default=1.0)
    sv.add_argument("-q", "--quiet", action="store_true", help=QUIET)

    wk = sub.add_parser("worker", help="tcp runtime: one worker, connecting to `bgdsim serve`")
    wk.add_argument("--connect", required=True, metavar="HOST:PORT")
    wk.add_argument("--id", type=int, required=True, help="the worker's id j")
    wk.add_argument("--key-file", type=Path, required=True)
    wk.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")

    ls = sub.add_parser("list", help="list the registered components")
    ls.add_argument("what", nargs="?", choices=LISTABLE, help="one family (default: all)")
    return p
