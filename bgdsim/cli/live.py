"""The tcp runtime across processes: ``serve`` (the server) and ``worker`` (one worker)."""

from __future__ import annotations

import argparse
import errno
import math
import sys

from bgdsim.cli.exits import EXIT_FAILED, EXIT_OK, _fail
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
    if not (math.isfinite(value) and value > 0):
        return f"--time-scale: must be a finite number > 0, got {value}"
    return None


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

    def listening(host: str, port: int) -> None:
        print(f"listening on {host}:{port}; keys in {args.keys}", file=sys.stderr, flush=True)

    try:
        result = asyncio.run(
            serve(
                scenario,
                args.listen,
                args.keys,
                log_path=args.log or True,
                overwrite=args.overwrite,
                time_scale=args.time_scale,
                on_listen=listening,
                sign_key=key,
            )
        )
    except LogPathError as exc:
        return _fail(exc.describe("--log" if args.log else "log"))
    except ValueError as exc:  # a bad key file (HOST:PORT was checked above)
        return _fail(f"--keys {args.keys}: {exc}")
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
            raise
        return _fail(f"--listen {args.listen}: cannot listen: {exc.strerror or exc}")
    _print_summary(result, scenario)
    return EXIT_OK


def _cmd_worker(args: argparse.Namespace) -> int:
    import asyncio

    from bgdsim.live import worker

    bad = _check_address("--connect", args.connect)
    if bad:
        return _fail(f"worker {args.id}: {bad}")
    try:
        asyncio.run(worker(args.connect, args.id, args.key_file))
    except ValueError as exc:
        return _fail(f"worker {args.id}: {exc}")
    except ConnectionError as exc:
        print(f"bgdsim: worker {args.id}: connection lost: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
