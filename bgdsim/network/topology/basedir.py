"""The base directory that relative topology files (GraphML ``path``) are resolved against."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

__all__ = ["current_base_dir", "topology_base_dir"]

_base_dir: ContextVar[Path | None] = ContextVar("bgdsim_topology_base_dir", default=None)


@contextmanager
def topology_base_dir(path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Resolve relative GraphML paths against ``path`` (a directory) inside the ``with``.

    The scenario loader wraps validation in ``with topology_base_dir(scenario.parent):``
    so that ``path = "net.graphml"`` means next to the scenario file; a topology parsed
    there remembers that directory and builds the same file wherever it is built later.
    ``None`` restores the default, the current directory. Nests, and is per thread / per
    asyncio task.
    """
    token = _base_dir.set(None if path is None else Path(path).expanduser().absolute())
    try:
        yield
    finally:
        _base_dir.reset(token)


def current_base_dir() -> Path:
    """The folder relative topology files are looked up in: the innermost
    :func:`topology_base_dir`, else the working directory."""
    base = _base_dir.get()
    return base if base is not None else Path.cwd()
