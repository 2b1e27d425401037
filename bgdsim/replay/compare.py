"""Two logs side by side: which scenario keys differ, where the runs first part, and how
many rounds differ (:func:`diff`, ``bgdsim diff``).

The header (``run_start``) is not an event to diverge at: its ``scenario`` is compared key
by key, and the fields derived from it (``floor``, ``step_size``, …) are listed once; the
name and a re-run's ``parent`` are expected to differ. Events are then compared span by
span — a span is a round's events up to its seal, per-message events included — field by
field, payload vectors by value, bit for bit. ``seq`` and the integrity fields (``digest``,
``payload_end``, the ``messages`` reference) are not compared: they follow from the rest.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgdsim import events as ev
from bgdsim.config.components import label
from bgdsim.registry import did_you_mean
from bgdsim.replay.reader import VECTOR_KEYS, Log, same_vector

__all__ = ["Divergence", "LogDiff", "diff"]

#: fields never compared: positions, integrity, provenance
_SKIPPED = frozenset(("seq", "digest", "signature", "signed", "payload_end", "messages", "parent"))
#: header fields that are not the run's world: its label and the code's versions
_HEADER_SKIPPED = frozenset(("name", "scenario", "bgdsim", "numpy"))
_SEALS = (ev.ROUND_END, ev.RUN_END)


@dataclass(frozen=True)
class Divergence:
    """The first event at which two runs part: its round (None for ``run_end``), its
    ``seq`` (None for a per-message record), its name, its worker (if it has one), and
    the fields that differ (``(end of log)`` when one log has no event there)."""

    round: int | None
    seq: int | None
    event: str
    worker: int | None
    fields: tuple[str, ...]


@dataclass
class LogDiff:
    """What differs between two logs.

    Attributes:
        scenario: the scenario keys that differ, dotted, as ``(value in A, value in B)``
            (a key one scenario lacks is ``None`` there).
        header: the other header fields that differ (derived from the scenario, e.g.
            ``floor``; or the world, e.g. ``theta_star``), as ``(A, B)`` (vectors: their
            norms).
        first: the first diverging event after the header, or None.
        rounds_differ: rounds whose events differ (a round only one log has counts).
        rounds: the rounds in A and in B.
    """

    scenario: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    header: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    first: Divergence | None = None
    rounds_differ: int = 0
    rounds: tuple[int, int] = (0, 0)

    @property
    def identical(self) -> bool:
        """Whether the logs record the same run (ignored fields aside)."""
        return not self.scenario and not self.header and self.first is None


def _dotted(table: Any, other: Any, prefix: str = "") -> dict[str, Any]:
    """``table`` flattened to dotted keys; a component table (one with ``kind``) whose kind
    differs from ``other``'s at the same place stays one value (another component, not
    a change of each parameter)."""
    if not isinstance(table, dict):
        return {prefix: table}
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        there = other.get(key) if isinstance(other, dict) else None
        if isinstance(value, dict) and value and not _other_kind(value, there):
            out.update(_dotted(value, there, name))
        else:
            out[name] = _component(value) if _other_kind(value, there) else value
    return out


def _other_kind(value: Any, there: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(there, dict)
        and "kind" in value
        and value.get("kind") != there.get("kind")
    )


def _component(table: dict[str, Any]) -> str:
    params = {k: v for k, v in table.items() if k != "kind"}
    return label(str(table["kind"]), params)


def _ignored(key: str, ignore: Collection[str]) -> bool:
    """``key`` is ignored if it or one of its dotted prefixes is (``network`` → network.*)."""
    parts = key.split(".")
    return any(".".join(parts[:i]) in ignore for i in range(1, len(parts) + 1))


def _spans(log: Log) -> Iterator[list[dict[str, Any]]]:
    """The events after the header, one list per span (up to and including a seal)."""
    span: list[dict[str, Any]] = []
    events = log.events()
    next(events, None)  # the header
    for event in events:
        span.append(event)
        if event.get("event") in _SEALS:
            yield span
            span = []
    if span:
        yield span  # an unsealed tail: a run cut short


def _same(a: Log, b: Log, key: str, va: Any, vb: Any) -> bool:
    if key in VECTOR_KEYS and isinstance(va, dict) and isinstance(vb, dict):
        return same_vector(np.asarray(a.payload(va)), np.asarray(b.payload(vb)))
    return bool(va == vb)


def _fields(a: Log, b: Log, ea: dict[str, Any], eb: dict[str, Any], skip: Any) -> list[str]:
    keys = dict.fromkeys([*ea, *eb])
    return [k for k in keys if k not in skip and not _same(a, b, k, ea.get(k), eb.get(k))]


def _shown(log: Log, value: Any) -> Any:
    if isinstance(value, dict) and "offset" in value and "shape" in value:
        return float(np.linalg.norm(log.payload(value)))
    return value


def _compare_header(a: Log, b: Log, ignore: Collection[str], out: LogDiff) -> None:
    ha, hb = a.header.get("scenario", {}), b.header.get("scenario", {})
    sa, sb = _dotted(ha, hb), _dotted(hb, ha)
    for key in dict.fromkeys([*sa, *sb]):
        if not _ignored(key, ignore) and sa.get(key) != sb.get(key):
            out.scenario[key] = (sa.get(key), sb.get(key))
    skip = _SKIPPED | _HEADER_SKIPPED | set(ignore)
    for key in _fields(a, b, a.header, b.header, skip):
        out.header[key] = (_shown(a, a.header.get(key)), _shown(b, b.header.get(key)))


def _span_round(span: list[dict[str, Any]]) -> int | None:
    seal = span[-1]
    return seal.get("round") if seal.get("event") == ev.ROUND_END else None


def diff(path_a: str | Path, path_b: str | Path, ignore: Collection[str] = ()) -> LogDiff:
    """Compare two logs (see the module docstring).

    Args:
        ignore: field names not to compare, in events and in the scenario (a dotted
            scenario key, or a prefix of one: ``network`` ignores every ``network.*``).

    Raises:
        LogError: a file that is not a readable log.
        ValueError: an ``ignore`` name that is no field of either log (a misspelt one
            would silently compare everything).
    """
    ignore = frozenset(ignore)
    out = LogDiff()
    skip = _SKIPPED | set(ignore)
    with Log(path_a) as a, Log(path_b) as b:
        _compare_header(a, b, ignore, out)
        seen = _names(a.header) | _names(b.header)
        spans_a, spans_b = _spans(a), _spans(b)
        n_a = n_b = 0
        while True:
            sa, sb = next(spans_a, None), next(spans_b, None)
            if sa is None and sb is None:
                break
            for event in (*(sa or ()), *(sb or ())):
                seen.update(event)
            round_a = _span_round(sa) if sa else None
            round_b = _span_round(sb) if sb else None
            n_a += round_a is not None
            n_b += round_b is not None
            first = _first_in_span(a, b, sa or [], sb or [], skip)
            if first is None:
                continue
            out.rounds_differ += round_a is not None or round_b is not None
            if out.first is None:
                out.first = first
        out.rounds = (n_a, n_b)
    unknown = sorted(ignore - seen)
    if unknown:
        name = unknown[0]
        raise ValueError(
            f"--ignore {name}: no such field in either log{did_you_mean(name, sorted(seen))}"
        )
    return out


def _names(header: dict[str, Any]) -> set[str]:
    """A header's fields and its scenario's dotted keys with every prefix of them."""
    names = set(header)
    scenario = header.get("scenario")
    if isinstance(scenario, dict):
        for key in _dotted(scenario, scenario):
            parts = key.split(".")
            names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return names


def _first_in_span(
    a: Log,
    b: Log,
    sa: list[dict[str, Any]],
    sb: list[dict[str, Any]],
    skip: Any,
) -> Divergence | None:
    for i in range(max(len(sa), len(sb))):
        ea = sa[i] if i < len(sa) else None
        eb = sb[i] if i < len(sb) else None
        either = ea if ea is not None else eb
        assert either is not None
        if ea is None or eb is None:
            fields: list[str] = ["(end of log)"]
        elif ea.get("event") != eb.get("event"):
            fields = ["event"]
        else:
            fields = _fields(a, b, ea, eb, skip)
        if fields:
            seq, name = either.get("seq"), str(either.get("event"))
            return Divergence(either.get("round"), seq, name, either.get("worker"), tuple(fields))
    return None
