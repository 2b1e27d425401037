"""The tcp runtime across processes: ``serve`` (the server) and ``worker`` (one worker)."""

from __future__ import annotations

import argparse
import errno
import socket
import sys

from bgdsim.cli.exits import EXIT_FAILED, EXIT_OK, _fail
from bgdsim.cli.progress import RoundBar, show_progress
from bgdsim.cli.run import SignKeyFlagError, _load, _sign_key
from bgdsim.cli.summary import _print_summary


def _check_address(flag: str, address: str) -> str | None:
    """A one-line refusal of a bad ``HOST:PORT`` (None: it is good)."""
    _host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return f"{flag} {address}: expected HOST:PORT, e.g. 127.0.0.1:7000"
    if not 0 <= int(port) <= 65535:
        return f"{flag} {address}: the port must be 0 to 65535, got {int(port)}"
    return None


def _check_time_scale(value: float) -> str | None:
    """A one-line refusal of a ``--time-scale`` that is not a finite number > 0."""
    from bgdsim.live.driver import check_time_scale

    try:
        check_time_scale(value)
    except ValueError:
        return f"--time-scale: must be a finite number > 0, got {value}"
    return None


def _ids(ids: set[int], most: int = 8) -> str:
    """Worker ids, in order, the first ``most`` of them: ``0, 1, 2, … (97 more)``."""
    shown = sorted(ids)
    text = ", ".join(map(str, shown[:most]))
    return text + (f", … ({len(shown) - most} more)" if len(shown) > most else "")


def _cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from bgdsim.live import serve
    from bgdsim.logpaths import LogPathError

    bad = _check_address("--listen", args.listen) or _check_time_scale(args.time_scale)
    if bad:
        return _fail(bad)
    try:
        key = _sign_key(args)
    except SignKeyFlagError as exc:
        return _fail(str(exc))
    scenario = _load(args)
    m = scenario.cluster.workers
    waiting = set(range(m))

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def listening(host: str, port: int) -> None:
        say(f"listening on {host}:{port}; keys in {args.keys}")
        say(f"waiting for {m} workers: {_ids(waiting)} (--key-file {args.keys}/worker-J.key)")

    def joined(j: int, peer: str) -> None:
        waiting.discard(j)
        left = f"waiting for {_ids(waiting)}" if waiting else "all joined: running"
        say(f"worker {j} joined from {peer} ({m - len(waiting)} of {m}); {left}")

    with RoundBar(scenario.name, scenario.rounds, enabled=show_progress(args.quiet)) as bar:
        try:
            result = asyncio.run(
                serve(
                    scenario,
                    args.listen,
                    args.keys,
                    log_path=args.log or True,
                    overwrite=args.overwrite,
                    time_scale=args.time_scale,
                    progress=bar,
                    on_listen=listening,
                    on_join=joined,
                    sign_key=key,
                )
            )
        except LogPathError as exc:
            return _fail(exc.describe("--log" if args.log else "log"))
        except ValueError as exc:  # a bad key file (HOST:PORT was checked above)
            return _fail(f"--keys {args.keys}: {exc}")
        except socket.gaierror as exc:  # the host part does not resolve
            return _fail(f"--listen {args.listen}: unknown host: {exc.strerror or exc}")
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                raise
            return _fail(f"--listen {args.listen}: cannot listen: {exc.strerror or exc}")
    if waiting:
        say(f"ran without {len(waiting)} workers that never joined: {_ids(waiting)}")
    _print_summary(result, scenario)
    return EXIT_OK


def _cmd_worker(args: argparse.Namespace) -> int:
    import asyncio

    from bgdsim.live import worker

    bad = _check_address("--connect", args.connect)
    if bad:
        return _fail(f"worker {args.id}: {bad}")
    if args.id < 0:
        return _fail(f"--id {args.id}: a worker id is 0 to m - 1")
    rounds: list[int] = []

    def said(what: str, t: int) -> None:
        if what == "round":
            rounds.append(t)
        if args.quiet:
            return
        if what == "joined":
            print(f"worker {args.id}: joined {args.connect}", flush=True)
        elif what == "round":
            print(f"worker {args.id}: round {t}", flush=True)
        else:
            print(f"worker {args.id}: done ({len(set(rounds))} rounds)", flush=True)

    try:
        asyncio.run(worker(args.connect, args.id, args.key_file, on_event=said))
    except ValueError as exc:
        return _fail(f"worker {args.id}: {exc}")
    except socket.gaierror as exc:
        return _fail(f"worker {args.id}: --connect {args.connect}: unknown host: "
                     f"{exc.strerror or exc}")  # fmt: skip
    except ConnectionError as exc:
        after = f" (after round {rounds[-1]})" if rounds else ""
        print(f"bgdsim: worker {args.id}: connection lost{after}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
