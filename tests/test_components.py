"""Component tables: ``{ kind = ..., **params }`` or a bare name."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pytest
from pydantic import Field

from bgdsim.components import Component, parse_component
from bgdsim.registry import Registry

things: Registry[object] = Registry("thing")


@things.register("scaled")
def scaled(x: np.ndarray, *, f: int, scale: Annotated[float, Field(gt=0)] = 1.0,
           mode: str = "a", limit: int | None = None) -> np.ndarray:  # fmt: skip
    """A test component."""
    return x * scale


def test_a_bare_name_means_the_defaults() -> None:
    got = parse_component("scaled", things, where="w", supplied=("f",))
    assert got == Component("scaled", {"scale": 1.0, "mode": "a", "limit": None})
    assert got.to_table() == {"kind": "scaled", "scale": 1.0, "mode": "a"}
    assert got.describe() == "scaled(scale=1, mode='a')"


def test_a_table_is_validated_against_the_signature() -> None:
    got = parse_component({"kind": "scaled", "scale": 2.5, "limit": 3}, things, where="w",
                          supplied=("f",))  # fmt: skip
    assert got.params == {"scale": 2.5, "mode": "a", "limit": 3}
    assert got.describe() == "scaled(scale=2.5, mode='a', limit=3)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"kind": "scaler"}, r"^w\.kind: unknown thing 'scaler' \(did you mean 'scaled'\?\)"),
        ({"kind": 3}, r"^w\.kind: thing name must be a string"),
        ({"scale": 1.0}, r"^w: a component table needs a 'kind' \(allowed: scaled\)"),
        (2.0, r"^w: must be a name or a table"),
        ({"kind": "scaled", "scael": 1.0}, r"^w\.scael: unknown parameter \(did you mean 'scale'"),
        ({"kind": "scaled", "f": 1}, r"^w\.f: unknown parameter"),
        ({"kind": "scaled", "scale": -1.0}, r"^w\.scale: Input should be greater than 0"),
    ],
)
def test_errors_name_the_field(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_component(value, things, where="w", supplied=("f",))
