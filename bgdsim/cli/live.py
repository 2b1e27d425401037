"""The tcp runtime across processes: ``serve`` (the server) and ``worker`` (one worker)."""

from __future__ import annotations

import argparse
import errno
import sys

from bgdsim.cli.exits import EXIT_FAILED, EXIT_OK, _fail
from bgdsim.cli.run import _load
from bgdsim.cli.summary import _print_summary


def _cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from bgdsim.live import serve
    from bgdsim.logpaths import LogPathError

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
                overwrite=args.overwrite,
                time_scale=args.time_scale,
                on_listen=listening,
            )
        )
    except LogPathError as exc:
        return _fail(exc.describe("--log" if args.log else "log"))
    except ValueError as exc:  # a bad HOST:PORT
        return _fail(f"--listen {args.listen}: {exc}")
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
            raise
        return _fail(f"--listen {args.listen}: cannot listen: {exc.strerror or exc}")
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
