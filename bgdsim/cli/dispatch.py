"""``COMMANDS`` (a command's name → its function) and :func:`main`, the console script.

:func:`main` parses the arguments, calls the command and turns what escapes it into an
exit code: bad input (an invalid scenario, an unknown name, a plugin that fails to load,
an unreadable log) and an unwritable or refused log path (:mod:`bgdsim.logpaths`) exit 2
with one line on stderr, Ctrl-C 130. The modules those errors live in (and pydantic,
numpy and pyarrow behind them) are imported only once the arguments are parsed:
``--version`` and ``--help`` exit before that.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bgdsim.cli.exits import EXIT_USAGE, _fail
from bgdsim.cli.listing import _cmd_list
from bgdsim.cli.live import _cmd_serve, _cmd_worker
from bgdsim.cli.parser import _parser
from bgdsim.cli.replay import _cmd_diff, _cmd_replay
from bgdsim.cli.run import _cmd_run, _cmd_topology, _cmd_validate
from bgdsim.cli.sweep import _cmd_plot, _cmd_report, _cmd_sweep

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": _cmd_run,
    "validate": _cmd_validate,
    "topology": _cmd_topology,
    "replay": _cmd_replay,
    "diff": _cmd_diff,
    "plot": _cmd_plot,
    "report": _cmd_report,
    "sweep": _cmd_sweep,
    "serve": _cmd_serve,
    "worker": _cmd_worker,
    "list": _cmd_list,
}


def _input_errors() -> tuple[type[Exception], ...]:
    """The errors that mean bad input (exit 2); importing them loads config and replay."""
    from bgdsim.config import ScenarioError
    from bgdsim.eventlog.signing import SignKeyError
    from bgdsim.logpaths import LogPathError
    from bgdsim.registry import PluginError, UnknownNameError
    from bgdsim.replay import LogError

    return (ScenarioError, UnknownNameError, PluginError, LogError, LogPathError, SignKeyError)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bgdsim`` console script."""
    try:
        args = _parser().parse_args(argv)  # --version, --help and usage errors exit here
        _input_errors()  # then config and replay are loaded, as before every command
        return COMMANDS[args.command](args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except OSError as exc:  # e.g. a --log path that cannot be created
        where = f" {exc.filename}" if exc.filename else ""
        return _fail(f"cannot write{where}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        print("bgdsim: interrupted", file=sys.stderr)
        return 130
    except _input_errors() as exc:  # none is an OSError: checked last, imported when needed
        return _fail(str(exc))
