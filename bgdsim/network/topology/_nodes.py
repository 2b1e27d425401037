"""Node names of a topology graph: the server, the worker ids, and their natural order."""

from __future__ import annotations

import re

SERVER = "server"
_WORKER_ID = re.compile(r"w[0-9]+")


def _natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """``relay2`` before ``relay10``: digit runs compare as numbers."""
    parts = re.split(r"([0-9]+)", name)  # odd indices: the digit runs
    return tuple((1, int(p)) if i % 2 else (0, p) for i, p in enumerate(parts) if p)
