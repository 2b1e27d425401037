"""Bounds on a scenario that keep bad input cheap: nesting, names, sizes, iterations.

* :func:`nesting_depth` — how deeply a TOML text nests arrays and tables, checked before
  parsing (the parser recurses): at most :data:`MAX_DEPTH`;
* :func:`check_name` — a run's name is one plain file-name component (it names the log);
* :func:`memory_estimate` / :func:`check_memory` — the bytes a run needs, refused when
  more than this machine's physical memory;
* :func:`log_bytes_estimate` — the size of a run's event log (checked against free disk
  space by the command line before a run);
* :func:`check_iterations` — iteration counts and tolerances of rules, schedules and
  attacks, bounded so that one aggregation cannot run for hours.
"""

from __future__ import annotations

import os
import unicodedata
from typing import Any, NamedTuple

__all__ = [
    "ITERATION_LIMIT",
    "MAX_DEPTH",
    "MAX_NAME_LENGTH",
    "MIN_TOLERANCE",
    "PER_ROUND_BYTES",
    "PER_WORKER_BYTES",
    "Estimate",
    "check_iterations",
    "check_memory",
    "check_name",
    "format_bytes",
    "log_bytes_estimate",
    "machine_memory",
    "memory_estimate",
    "nesting_depth",
]

#: the deepest nesting of arrays and tables in a scenario or a --set value
MAX_DEPTH = 32
#: the longest run name (it is a file-name component of the log)
MAX_NAME_LENGTH = 200
#: bookkeeping per worker (its routes, streams, per-round messages), bytes
PER_WORKER_BYTES = 4096
#: bookkeeping per round (the error history and per-round counts), bytes
PER_ROUND_BYTES = 64
#: the largest iteration count of a rule, schedule or attack parameter
ITERATION_LIMIT = 10_000
#: the smallest relative tolerance of a rule parameter (below it: float noise)
MIN_TOLERANCE = 1e-15

_ITERATION_PARAMS = ("iters", "max_iter", "candidates", "evaluations")
_TOLERANCE_PARAMS = ("tol",)


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[`` / ``{`` in a TOML text, outside strings and comments."""
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "\"'":
            triple = text.startswith(c * 3, i)
            quote = c * 3 if triple else c
            i += len(quote)
            while i < n:
                if c == '"' and text[i] == "\\":
                    i += 2
                    continue
                if text.startswith(quote, i):
                    i += len(quote)
                    break
                if not triple and text[i] == "\n":
                    break  # an unterminated string: the parser will say so
                i += 1
            continue
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return deepest


def check_name(name: str) -> str:
    """A run name: one plain file-name component, no control characters."""
    if not name:
        raise ValueError("must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"must be at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    bad = next((ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise ValueError(
            f"must not contain control characters (found U+{ord(bad):04X}); allowed: "
            "printable characters except / and \\"
        )
    if "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(
            f"must be a plain file name (it names the log logs/<name>-seed<seed>.jsonl): "
            f"no / or \\ and not . or .., got {name!r}"
        )
    return name


class Estimate(NamedTuple):
    """Bytes a scenario needs, the field most responsible and how it was computed."""

    total: int
    field: str
    detail: str


def format_bytes(n: float) -> str:
    """``1.5 GiB``-style sizes."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def memory_estimate(*, samples: int, dim: int, workers: int, rounds: int) -> Estimate:
    """A lower bound on a run's memory: the data (N × (d + 1) × 8 bytes), one round's
    gradients and reports (2 × m × d × 8), per-worker and per-round bookkeeping."""
    parts = {
        "data": 8 * samples * (dim + 1),
        "reports": 16 * workers * dim + PER_WORKER_BYTES * workers,
        "history": PER_ROUND_BYTES * rounds,
    }
    biggest = max(parts, key=lambda k: parts[k])
    if biggest == "data":
        field = "problem.samples" if samples / 100_000 >= dim / 10 else "problem.dim"
        detail = f"the data, problem.samples {samples} × (problem.dim {dim} + 1) × 8 bytes"
    elif biggest == "reports":
        field = "cluster.workers"
        detail = (
            f"the reports and per-worker state, cluster.workers {workers} × "
            f"(2 × problem.dim {dim} × 8 + {PER_WORKER_BYTES}) bytes"
        )
    else:
        field = "rounds"
        detail = f"the per-round history, rounds {rounds} × {PER_ROUND_BYTES} bytes"
    return Estimate(sum(parts.values()), field, detail)


def machine_memory() -> int | None:
    """This machine's physical memory in bytes (None where it cannot be asked)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def check_memory(*, samples: int, dim: int, workers: int, rounds: int) -> None:
    """Raise ``ValueError`` naming the field if the run cannot fit in physical memory."""
    est = memory_estimate(samples=samples, dim=dim, workers=workers, rounds=rounds)
    have = machine_memory()
    if have is not None and est.total > have:
        raise ValueError(
            f"{est.field}: the run needs at least {format_bytes(est.total)} of memory "
            f"(mostly {est.detail}), more than this machine's {format_bytes(have)}"
        )


def log_bytes_estimate(*, workers: int, dim: int, rounds: int) -> int:
    """A lower bound on the event log's size: rounds × (m·d·8 + 20·3m) bytes."""
    return rounds * (workers * dim * 8 + 20 * 3 * workers)


def check_iterations(params: dict[str, Any], where: str) -> None:
    """Bound iteration counts (``iters``, ``max_iter``, ``candidates``, ``evaluations``)
    to 1..:data:`ITERATION_LIMIT` and tolerances (``tol``) to >= :data:`MIN_TOLERANCE`."""
    prefix = f"{where}." if where else ""
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if key in _ITERATION_PARAMS and not 1 <= value <= ITERATION_LIMIT:
            raise ValueError(
                f"{prefix}{key}: must be an iteration count from 1 to {ITERATION_LIMIT}, "
                f"got {value}"
            )
        if key in _TOLERANCE_PARAMS and value < MIN_TOLERANCE:
            raise ValueError(f"{prefix}{key}: must be >= {MIN_TOLERANCE:g}, got {value}")
