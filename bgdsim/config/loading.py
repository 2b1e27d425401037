"""Loading a scenario: TOML files, ``--set`` overrides, validation into a :class:`Scenario`.

An override (``cluster.byzantine=10``) is a dotted key and a TOML value; overrides are
applied to the raw table before validation, so they are checked exactly like the file.
Latency traces and GraphML topologies are named relative to the scenario file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from bgdsim.config.components import COMPONENT_KEYS
from bgdsim.config.errors import ScenarioError, format_error
from bgdsim.config.limits import MAX_DEPTH, nesting_depth
from bgdsim.config.scenario import Scenario
from bgdsim.network.latency import latency_base_dir
from bgdsim.network.topology import topology_base_dir
from bgdsim.paths import MAX_INPUT_BYTES, read_input
from bgdsim.problems.datasets import data_base_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "apply_overrides",
    "load_scenario",
    "parse_override",
    "to_toml",
    "validate_scenario",
]

_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.]*$")


class _NotToml(Exception):
    pass


def _parse_toml(text: str, source: str, *, bare: bool = False) -> dict[str, Any]:
    """``tomllib.loads`` that never recurses without bound and nests at most
    :data:`MAX_DEPTH` levels; ``bare``: a decode error raises :class:`_NotToml`."""
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise ScenarioError(
            f"{source}: arrays and tables are nested {depth} levels deep; at most "
            f"{MAX_DEPTH} are allowed"
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if bare:
            raise _NotToml from None
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:  # pragma: no cover - nesting_depth refuses these first
        raise ScenarioError(f"{source}: nested too deeply") from None


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key.path=value``; the value is a TOML value (a bare word is a string).

    >>> parse_override('network.latency={kind="exponential", mean=0.02}')
    ('network.latency', {'kind': 'exponential', 'mean': 0.02})
    >>> parse_override("server.aggregator=mean")
    ('server.aggregator', 'mean')
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if (
        not sep
        or not key
        or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key)
    ):
        raise ScenarioError(
            f"bad --set '{text}': expected key.path=value, e.g. cluster.byzantine=10"
        )
    raw = raw.strip()
    try:
        value = _parse_toml(f"v = {raw}", f"bad --set '{key}=…'", bare=True)["v"]
    except _NotToml:
        if _BARE.match(raw) and raw not in ("true", "false"):
            value = raw
        else:
            raise ScenarioError(f"bad --set '{text}': '{raw}' is not a TOML value") from None
    return key, value


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of the raw table with dotted ``overrides`` applied."""
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for dotted, value in overrides.items():
        if not isinstance(dotted, str) or not all(dotted.split(".")):
            raise ScenarioError(f"bad --set {dotted!r}: not a dotted key (e.g. cluster.byzantine)")
        if isinstance(value, np.generic):  # a numpy scalar: its Python value
            value = value.item()  # noqa: PLW2901
        parts = dotted.split(".")
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            where = ".".join(parts[: i + 1])
            if child is None:
                default = COMPONENT_KEYS.get(where)
                child = node[part] = {"kind": default} if default else {}
            elif isinstance(child, str) and where in COMPONENT_KEYS:
                child = node[part] = {"kind": child}  # a bare name is its component's table
            elif not isinstance(child, dict):
                raise ScenarioError(f"bad --set {dotted}: '{where}' is not a table")
            else:
                child = node[part] = dict(child)
            node = child
        node[parts[-1]] = value
    return out


def to_toml(data: dict[str, Any]) -> str:
    """Render a resolved scenario (``Scenario.to_dict()``) as TOML."""
    import tomli_w

    return tomli_w.dumps(data)


def validate_scenario(data: dict[str, Any], source: str = "scenario") -> Scenario:
    """Validate a raw scenario table, raising :class:`ScenarioError` naming the field."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_error(exc, source)) from None


def load_scenario(
    path: str | Path | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    seed: int | None = None,
) -> Scenario:
    """Load a scenario TOML file (or the defaults when ``path`` is None).

    Args:
        path: the TOML file.
        overrides: dotted keys to values (``{"cluster.byzantine": 10}``) or ``--set``
            strings (``["cluster.byzantine=10"]``).
        seed: overrides the scenario's ``seed``.

    Raises:
        ScenarioError: unreadable file, broken TOML, bad override, or invalid scenario.
    """
    data: dict[str, Any] = {}
    source = "scenario"
    if path is not None:
        source = str(path)
        # a regular file of at most MAX_INPUT_BYTES: never /dev/zero or a FIFO
        raw = read_input(
            path, MAX_INPUT_BYTES, source=source, what="scenario file", error=ScenarioError
        )
        try:
            text = raw.decode("utf-8-sig")  # a leading byte-order mark is dropped
        except UnicodeDecodeError as exc:
            raise ScenarioError(
                f"{source}: cannot read: not a UTF-8 text file (byte {exc.start}: {exc.reason})"
            ) from None
        data = _parse_toml(text, source)
    if isinstance(overrides, (list, tuple)):
        if not all(isinstance(o, str) for o in overrides):
            raise ScenarioError("overrides: a list of 'KEY=VALUE' strings, or a dict of dotted "
                                "keys to values")  # fmt: skip
        overrides = dict(parse_override(o) for o in overrides)
    elif overrides is not None and not isinstance(overrides, dict):
        raise ScenarioError(
            f"overrides: a dict of dotted keys to values or a list of 'KEY=VALUE' strings, "
            f"got {type(overrides).__name__}"
        )
    if seed is not None:
        overrides = {**(overrides or {}), "seed": seed}
    if overrides:
        data = apply_overrides(data, overrides)
    base = Path(path).parent if path is not None else None
    # files named relative to it
    with latency_base_dir(base), topology_base_dir(base), data_base_dir(base):
        return validate_scenario(data, source)
