"""Progress on stderr for the commands that can take a while (rich), and when to show it."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

__all__ = ["RoundBar", "show_progress"]


def show_progress(quiet: bool) -> bool:
    """Whether to draw progress: not ``--quiet``, and stderr is a terminal (never in a
    pipe, a file or a CI log)."""
    return not quiet and sys.stderr.isatty()


class RoundBar:
    """A bar of ``done / total`` on stderr, started at the first update (so a refusal
    before any work stays one line) and removed when closed.

    Called as ``bar(done, total)``: the ``progress`` callback of :func:`bgdsim.run`,
    :func:`bgdsim.verify` and the live runtimes. Disabled, it does nothing.
    """

    def __init__(self, description: str, total: int, *, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn())
        err = Console(stderr=True)
        self._bar = Progress(*columns, TimeElapsedColumn(), console=err, transient=True)
        self._task = self._bar.add_task(description, total=total)

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            return
        if not self._bar.live.is_started:
            self._bar.start()
        self._bar.update(self._task, completed=done, total=total)

    def close(self) -> None:
        """Remove the bar (if it was drawn)."""
        if self._bar is not None and self._bar.live.is_started:
            self._bar.stop()

    def __enter__(self) -> RoundBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
