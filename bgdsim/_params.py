"""Validate a component's keyword parameters from its signature.

Aggregators and attacks are plain functions whose tunable parameters are keyword-only
arguments with type annotations (``scale: Annotated[float, Field(gt=0)] = 10.0``). A
scenario's ``params`` table is checked against that signature with pydantic before the
run starts, so a misspelt or ill-typed parameter is an input error naming the parameter,
not a crash in round 17.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from functools import cache
from typing import Any, cast, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from bgdsim.registry import did_you_mean

__all__ = ["check_params", "param_names"]


@cache
def _model(fn: Callable[..., Any], supplied: frozenset[str]) -> type[BaseModel]:
    target = cast(Any, fn).__init__ if isinstance(fn, type) else fn
    hints = get_type_hints(target, include_extras=True)
    fields: dict[str, Any] = {}
    for p in inspect.signature(fn).parameters.values():
        if p.kind is not inspect.Parameter.KEYWORD_ONLY or p.name in supplied:
            continue
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (hints.get(p.name, Any), default)
    config = ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True)
    return create_model(f"{fn.__name__}_params", __config__=config, **fields)


def param_names(fn: Callable[..., Any], supplied: Collection[str] = ()) -> list[str]:
    """The tunable keyword-only parameters of ``fn`` (those not in ``supplied``)."""
    return list(_model(fn, frozenset(supplied)).model_fields)


def check_params(
    fn: Callable[..., Any],
    params: dict[str, Any],
    *,
    where: str,
    supplied: Collection[str] = (),
    owner: str | None = None,
) -> dict[str, Any]:
    """Validate ``params`` against ``fn``'s keyword-only parameters.

    Returns the validated parameters with defaults filled in. Raises ``ValueError`` naming
    ``where.<param>`` (``<param>`` alone when ``where`` is empty) on an unknown name (with
    "did you mean") or a bad value; with ``owner`` (``"attack 'alie'"``) the message says
    whose parameter it is.
    """
    model = _model(fn, frozenset(supplied))
    allowed = list(model.model_fields)
    prefix = f"{where}." if where else ""
    for key in params:
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            choices = ", ".join(allowed) if allowed else "none"
            if owner is None:
                raise ValueError(f"{prefix}{key}: unknown parameter{hint}; allowed: {choices}")
            raise ValueError(
                f"{prefix}{key}: the {owner} has no parameter '{key}'{hint}; "
                f"its parameters: {choices}"
            )
    try:
        return model.model_validate(params).model_dump()
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        got = "" if err["type"] == "missing" else f" (got {err.get('input')!r})"
        whose = "" if owner is None else f" (a parameter of the {owner})"
        raise ValueError(f"{prefix}{loc}: {err['msg']}{got}{whose}") from None
