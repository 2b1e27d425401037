"""Parse a ``{kind = ..., ...}`` TOML table into a registered pydantic model, with errors
that name the parameter, the allowed ones and the closest match."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bgdsim.registry import Registry, did_you_mean

__all__ = ["parse_table"]

M = TypeVar("M", bound=BaseModel)


def _param(cls: type[BaseModel], name: str) -> str:
    alias = cls.model_fields[name].alias
    return alias or name


def parse_table(
    value: Any,
    *,
    base: type[M],
    registry: Registry[type[M]],
    default_kind: str,
    example: str,
    label: str,
) -> M:
    """The model for ``value`` (a model is passed through).

    Raises:
        ValueError: ``value`` is not a table, its ``kind`` is unknown, or a parameter is
            unknown or invalid; the message names it (``"<param>: <problem> (got ...)"``).
    """
    if isinstance(value, base):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"must be a table like {example}, got {value!r}")
    kind = value.get("kind", default_kind)
    if not isinstance(kind, str):
        raise ValueError(f"kind must be a string, got {kind!r}")
    cls = registry.get(kind)
    try:
        return cls.model_validate({**value, "kind": kind})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = [_param(cls, f) for f in cls.model_fields if f != "kind"]
            hint = did_you_mean(str(err["loc"][-1]), allowed)
            names = ", ".join(allowed) or "(none)"
            msg = f"unknown parameter of {kind} {label}{hint}; allowed: {names}"
        show = loc and err["type"] not in ("value_error", "missing", "extra_forbidden")
        got = f" (got {err['input']!r})" if show else ""
        raise ValueError(f"{loc}: {msg}{got}" if loc else msg) from None
