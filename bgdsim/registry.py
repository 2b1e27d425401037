"""A generic name → component registry with "did you mean" errors.

Every pluggable family (aggregators, attacks, schedules, latency models, problems) is one
:class:`Registry`. Components register themselves with a decorator::

    aggregators = Registry("aggregator")

    @aggregators.register("mean")
    def mean(vectors): ...

and are looked up with :meth:`Registry.get`, which answers an unknown name with the
closest registered names. ``bgdsim list`` is fed from :meth:`Registry.names`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["Registry", "UnknownNameError", "did_you_mean"]


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` if none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class UnknownNameError(KeyError, ValueError):
    """An unknown component name; the message names the family and the allowed values."""

    def __init__(self, kind: str, name: object, choices: list[str]) -> None:
        self.kind, self.name, self.choices = kind, name, choices
        allowed = f"allowed: {', '.join(sorted(choices))}"
        if isinstance(name, str):
            msg = f"unknown {kind} '{name}'{did_you_mean(name, choices)}; {allowed}"
        else:  # e.g. get(None): say what was given, not a TypeError from difflib
            msg = f"{kind} name must be a string, got {type(name).__name__} {name!r}; {allowed}"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    """A dict of named components of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated object under ``name``."""

        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} '{name}' is already registered")
            self._items[name] = obj
            return obj

        return deco

    def unregister(self, name: str) -> T:
        """Remove ``name`` and return its component (a plug-in or test that registered a
        component for a while); raise :class:`UnknownNameError` if none."""
        obj = self.get(name)
        del self._items[name]
        return obj

    def get(self, name: str) -> T:
        """Return the component called ``name``; raise :class:`UnknownNameError` if none."""
        try:
            return self._items[name]
        except (KeyError, TypeError):  # TypeError: an unhashable name
            raise UnknownNameError(self.kind, name, self.names()) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
