"""The server ``replay --verify`` rebuilds from a log's header, within sane bounds.

The verifier builds it only once the first seal's digest has vouched for the header
(its line is in the first span), and only if the sizes it names fit what the log could
hold: a header re-sealed after an edit (``cluster.workers = 10**7``, ``problem.dim =
10**9``, a rule parameter of 10**9 iterations) is refused by name instead of making the
check allocate or loop without end.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bgdsim.engine import Barrier, ServerCore, build_barrier, build_server
from bgdsim.eventlog import PAYLOAD_DTYPE
from bgdsim.replay._arrivals import Mismatch
from bgdsim.replay.reader import Log, LogError

__all__ = ["MIN_ROOM", "announced_rounds", "bounds", "build"]

_F8 = np.dtype(PAYLOAD_DTYPE)
#: a round's report block (m·d float64) may exceed the sidecar by this much: a run
#: whose reports were mostly lost wrote fewer than m·d of them
MIN_ROOM = 1 << 26
#: an integer rule parameter may be this large whatever the sidecar's size
MIN_PARAM = 1 << 16


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def bounds(header: dict[str, Any], sidecar_size: int) -> None:
    """Refuse sizes no sidecar of ``sidecar_size`` bytes could go with.

    Raises:
        Mismatch: d larger than θ₀ and θ* (both in the sidecar) allow, an m×d report
            block far larger than the sidecar, or an integer rule parameter larger than
            the sidecar's size in float64 words (each named with its value).
    """
    scenario = header.get("scenario")
    if not isinstance(scenario, dict):
        return  # validate_scenario names it
    sections = {k: v if isinstance(v, dict) else {} for k, v in scenario.items()}
    d = _int(sections.get("problem", {}).get("dim"))
    m = _int(sections.get("cluster", {}).get("workers"))
    if d is not None and 2 * d * _F8.itemsize > sidecar_size:
        raise Mismatch("scenario", f"problem.dim = {d}: θ₀ and θ* alone would take "
                       f"{2 * d * _F8.itemsize} bytes, the sidecar has {sidecar_size}")  # fmt: skip
    if m is not None and max(m, 1) * max(d or 1, 1) * _F8.itemsize > max(sidecar_size, MIN_ROOM):
        raise Mismatch("scenario", f"cluster.workers = {m}: {m} reports of dim {d} "
                       f"are far more than the sidecar's {sidecar_size} bytes")  # fmt: skip
    params = sections.get("server", {}).get("aggregator")
    limit = max(sidecar_size // _F8.itemsize, MIN_PARAM)
    for name, value in params.items() if isinstance(params, dict) else ():
        n = _int(value)
        if n is not None and abs(n) > limit:
            raise Mismatch("scenario", f"server.aggregator.{name} = {n}: beyond any run "
                           f"this sidecar ({sidecar_size} bytes) could record")  # fmt: skip


def build(log: Log) -> tuple[ServerCore, Barrier]:
    """The server core and barrier of the header's scenario, from θ₀.

    Raises:
        Mismatch: a size out of bounds (:func:`bounds`), or θ₀ not a ``(d,)`` float64.
        LogError: the header's scenario or values cannot be replayed.
    """
    head = log.header
    bounds(head, log.sidecar_size)
    try:
        sc = log.scenario()
        sizes = np.asarray(head.get("sizes", []), dtype=np.float64)
        theta = np.array(log.payload(head["theta"]))
        if theta.dtype != _F8 or theta.shape != (sc.problem.dim,):
            raise Mismatch("header", f"θ₀ is {theta.dtype}{list(theta.shape)}, not a "
                           f"({sc.problem.dim},) float64 vector")  # fmt: skip
        if sizes.ndim != 1 or sizes.size not in (0, sc.cluster.workers):
            raise Mismatch("header", f"sizes has {sizes.size} entries for "
                           f"{sc.cluster.workers} workers")  # fmt: skip
        core = build_server(sc, theta, float(head["step_size"]), sizes)
        barrier = build_barrier(sc)
    except (ValueError, KeyError, TypeError, ArithmeticError, LookupError) as exc:
        raise LogError(f"{log.path}: the header cannot be replayed: {exc}") from None
    return core, barrier


def announced_rounds(header: dict[str, Any]) -> int:
    """The rounds a header's scenario asks for, 0 if it does not say (for progress only:
    unchecked)."""
    scenario = header.get("scenario")
    rounds = scenario.get("rounds") if isinstance(scenario, dict) else None
    return rounds if isinstance(rounds, int) and rounds >= 0 else 0
