"""The base of every scenario table: strict types, unknown keys rejected with a hint."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from bgdsim.registry import did_you_mean

__all__ = ["Section"]


class Section(BaseModel):
    """Base of every scenario table: strict types, unknown keys rejected with a hint."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = [f.alias or name for name, f in cls.model_fields.items()]
            for key in data:
                if key not in allowed:
                    moved = cls._moved(data)
                    if moved:
                        raise ValueError(moved)
                    raise ValueError(
                        f"{key}: unknown key{did_you_mean(str(key), allowed)}; "
                        f"allowed: {', '.join(allowed)}"
                    )
        return data

    @classmethod
    def _moved(cls, data: dict[str, Any]) -> str | None:
        """How to rewrite keys of an older form of this table (None: no such keys)."""
        return None
