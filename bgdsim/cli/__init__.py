"""The ``bgdsim`` command line: parse, load, call, print, exit code — nothing more.

Exit codes: 0 success; 1 the run or check failed; 2 bad input (unreadable or invalid
scenario, unknown name, bad override), always with one message naming the field.

The package re-exports its modules' public names; each command imports what it needs
when it runs, so ``bgdsim --version`` and ``bgdsim --help`` load nothing heavy:

* :mod:`bgdsim.cli.dispatch` — :func:`main` (the console script) and ``COMMANDS``;
* :mod:`bgdsim.cli.parser` — the argument parser;
* :mod:`bgdsim.cli.exits` — the exit codes and the one-line error;
* :mod:`bgdsim.cli.run` — ``run``, ``validate``, ``topology`` (a scenario file);
* :mod:`bgdsim.cli.summary` — the table a run prints;
* :mod:`bgdsim.cli.replay` — ``replay`` and ``diff`` (event logs);
* :mod:`bgdsim.cli.sweep` — ``sweep`` and ``plot``;
* :mod:`bgdsim.cli.live` — ``serve`` and ``worker`` (the tcp runtime across processes);
* :mod:`bgdsim.cli.listing` — ``list``.
"""

from __future__ import annotations

from bgdsim.cli.dispatch import COMMANDS, main
from bgdsim.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bgdsim.cli.listing import LISTABLE

__all__ = ["COMMANDS", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "LISTABLE", "main"]
