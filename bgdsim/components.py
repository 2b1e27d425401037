"""Component tables: ``{ kind = "name", param = value }`` or a bare ``"name"``.

Every pluggable part of a scenario (the aggregator, the attack, the schedule and each
pre-aggregator in ``server.pre``) is written one way: a table whose ``kind`` names
a registered component and whose other keys are its parameters, or just the name, which
means that component with its defaults. :func:`parse_component` checks the name against
the registry (unknown: "did you mean …") and the parameters against the component's
keyword-only signature (:func:`~bgdsim._params.check_params`), so a built-in and a
plugin's component are validated alike.

>>> from bgdsim.aggregators import pre
>>> parse_component({"kind": "bucketing", "s": 3}, pre.registry, where="server.pre[0]",
...                 supplied=pre.SUPPLIED)
Component(kind='bucketing', params={'s': 3})
>>> parse_component("nnm", pre.registry, where="server.pre[0]", supplied=pre.SUPPLIED).describe()
'nnm'
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from bgdsim._params import check_params
from bgdsim.registry import Registry

__all__ = ["Component", "parse_component"]


@dataclass(frozen=True)
class Component:
    """A component's registered name and its validated parameters (defaults filled in)."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_table(self) -> dict[str, Any]:
        """The TOML table ``{kind, **params}`` (parameters that are None are left out)."""
        return {"kind": self.kind, **{k: v for k, v in self.params.items() if v is not None}}

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """``kind`` or ``kind(p=v, …)``, for summaries: ``bucketing(s=2)``."""
        shown = [f"{k}={_show(v)}" for k, v in self.params.items() if v is not None]
        return f"{self.kind}({', '.join(shown)})" if shown else self.kind


def parse_component(
    value: Any,
    registry: Registry[Callable[..., Any]],
    *,
    where: str,
    supplied: Collection[str] = (),
) -> Component:
    """A :class:`Component` from a table ``{kind, **params}`` or a bare name.

    Args:
        value: the scenario's value: a string, or a mapping with a string ``kind``.
        registry: where ``kind`` is looked up (plugins included).
        where: the dotted field, for error messages (``server.pre[1]``).
        supplied: parameters the engine supplies itself (not allowed in the table).

    Raises:
        ValueError: naming ``where``: not a name or table, no ``kind``, an unknown kind
            (with "did you mean"), or an unknown or ill-typed parameter.
    """
    if isinstance(value, str):
        kind, given = value, {}
    elif isinstance(value, Mapping):
        if "kind" not in value:
            raise ValueError(f"{where}: a component table needs a 'kind' ({_allowed(registry)})")
        kind = value["kind"]
        given = {k: v for k, v in value.items() if k != "kind"}
    else:
        raise ValueError(
            f"{where}: must be a name or a table {{ kind = ... }}, got {type(value).__name__} "
            f"{value!r}"
        )
    try:
        fn = registry.get(kind)
    except ValueError as exc:
        raise ValueError(f"{where}.kind: {exc}") from None
    params = check_params(fn, given, where=where, supplied=supplied)
    return Component(str(kind), params)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _allowed(registry: Registry[Any]) -> str:
    return "allowed: " + ", ".join(registry.names())
