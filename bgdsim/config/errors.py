"""Scenario errors: :class:`ScenarioError` and the one-line message that names the field.

Every invalid scenario — from a file, from ``--set``, from a sweep's cell — is reported
as ``SOURCE: dotted.field: what is wrong (got VALUE)``, built from pydantic's first
error by :func:`format_error`.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

__all__ = ["ScenarioError", "format_error"]


class ScenarioError(ValueError):
    """A scenario that cannot be loaded or is invalid; the message names the field."""


def format_error(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    parts = [x for x in err["loc"] if not str(x).startswith("function-")]
    loc = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in parts).lstrip(".")
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    bad = err.get("input")
    show_input = err["type"] not in ("value_error", "missing") and not isinstance(bad, dict)
    got = f" (got {bad!r})" if show_input else ""
    sub = re.match(r"([A-Za-z_][A-Za-z0-9_.]*(?:\[\d+\][A-Za-z0-9_.]*)*): ", msg)
    if sub and loc:  # a section validator naming its own field: join into one dotted path
        loc, msg = f"{loc}.{sub.group(1)}", msg[sub.end() :]
    where = f"{loc}: " if loc else ""
    more = len(exc.errors()) - 1
    tail = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {where}{msg}{got}{tail}"
