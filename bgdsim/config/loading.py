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

from pydantic import ValidationError

from bgdsim.config.errors import ScenarioError, format_error
from bgdsim.config.scenario import Scenario
from bgdsim.network.latency import latency_base_dir
from bgdsim.network.topology import topology_base_dir

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
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        if _BARE.match(raw) and raw not in ("true", "false"):
            value = raw
        else:
            raise ScenarioError(f"bad --set '{text}': '{raw}' is not a TOML value") from None
    return key, value


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of the raw table with dotted ``overrides`` applied."""
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
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
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScenarioError(f"{source}: no such scenario file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{source}: cannot read: {exc}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    if isinstance(overrides, list):
        overrides = dict(parse_override(o) for o in overrides)
    if seed is not None:
        overrides = {**(overrides or {}), "seed": seed}
    if overrides:
        data = apply_overrides(data, overrides)
    base = Path(path).parent if path is not None else None
    with latency_base_dir(base), topology_base_dir(base):  # files named relative to it
        return validate_scenario(data, source)
