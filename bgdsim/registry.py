"""A generic name → component registry with "did you mean" errors.

Every pluggable family (aggregators, attacks, schedules, latency models, problems) is one
:class:`Registry`. Components register themselves with a decorator::

    aggregators = Registry("aggregator")

    @aggregators.register("mean")
    def mean(vectors): ...

and are looked up with :meth:`Registry.get`, which answers an unknown name with the
closest registered names. ``bgdsim list`` is fed from :meth:`Registry.names`.

A registry made with an entry-point ``group`` (``bgdsim.aggregators``, ``bgdsim.attacks``,
``bgdsim.schedules``, ``bgdsim.problems``, ``bgdsim.pre_aggregators``) also holds the
components that installed packages declare there: ``name = "package.module:object"``.
They are loaded lazily — an entry point is imported the first time its name is asked
for and not found among the built-ins (or when every component is listed), so ``import
bgdsim`` never imports a plugin. Built-in names take precedence over an entry point of the
same name. An entry point that fails to load raises :class:`PluginError`, naming it.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

T = TypeVar("T")

__all__ = [
    "GROUPS",
    "PluginError",
    "Registry",
    "UnknownNameError",
    "did_you_mean",
    "install",
    "local_components",
]

#: the entry-point groups a package declares its components in, by family
GROUPS = {
    "aggregator": "bgdsim.aggregators",
    "attack": "bgdsim.attacks",
    "schedule": "bgdsim.schedules",
    "problem": "bgdsim.problems",
    "pre-aggregator": "bgdsim.pre_aggregators",
}


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


class PluginError(ValueError):
    """An installed package's entry point could not be loaded as a component."""

    def __init__(self, ep: EntryPoint, reason: str) -> None:
        dist = getattr(ep, "dist", None)
        source = f" of {dist.name}" if dist is not None else ""
        super().__init__(
            f"plugin entry point '{ep.name} = {ep.value}' in group {ep.group}{source} "
            f"failed to load: {reason}"
        )


@cache
def _declared(group: str) -> dict[str, tuple[EntryPoint, ...]]:
    """The entry points installed packages declare in ``group``, by name (read once)."""
    from importlib.metadata import entry_points

    found: dict[str, tuple[EntryPoint, ...]] = {}
    for ep in entry_points(group=group):
        if all(ep.value != other.value for other in found.get(ep.name, ())):
            found[ep.name] = (*found.get(ep.name, ()), ep)
    return found


class Registry(Generic[T]):
    """A dict of named components of one kind, plus the entry points of ``group``.

    Args:
        kind: the family's name in messages ("aggregator").
        group: the entry-point group installed packages declare components in; None: no
            plugins.
    """

    def __init__(self, kind: str, group: str | None = None) -> None:
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._local: set[str] = set()  # registered here from outside bgdsim, not a plugin
        # the module that made it, so that another process can find it (install)
        self.module: str = sys._getframe(1).f_globals.get("__name__", "")
        _REGISTRIES[kind] = self

    def _plugins(self) -> dict[str, tuple[EntryPoint, ...]]:
        return {} if self.group is None else _declared(self.group)

    def _load(self, name: str) -> bool:
        """Load the entry point called ``name``, if one is declared; whether it was."""
        eps = self._plugins().get(name)
        if not eps:
            return False
        if len(eps) > 1:
            values = ", ".join(ep.value for ep in eps)
            raise PluginError(eps[0], f"'{name}' is declared more than once ({values})")
        ep = eps[0]
        try:
            obj: Any = ep.load()
        except Exception as exc:  # an import error, or anything its import raises
            raise PluginError(ep, f"{type(exc).__name__}: {exc}") from exc
        if not callable(obj):
            raise PluginError(ep, f"it names a {type(obj).__name__}, not a function or class")
        have = self._items.get(name)
        if have is None:  # it may have registered itself with the decorator on import
            self._items[name] = cast(T, obj)
        elif have is not obj:
            raise PluginError(ep, f"another {self.kind} was registered as '{name}' on import")
        self._local.discard(name)  # every process finds a plugin by itself
        return True

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated object under ``name``."""
        # who registers it decides whether it is bgdsim's own (another process has it by
        # itself) or this process's (a sweep ships it): an alias of a built-in made in a
        # script is the script's
        caller = str(sys._getframe(1).f_globals.get("__name__", ""))
        own = caller == "bgdsim" or caller.startswith("bgdsim.")

        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} '{name}' is already registered")
            self._items[name] = obj
            if not own:
                self._local.add(name)
            return obj

        return deco

    def unregister(self, name: str) -> T:
        """Remove ``name`` and return its component (a plug-in or test that registered a
        component for a while); raise :class:`UnknownNameError` if none."""
        obj = self.get(name)
        del self._items[name]
        self._local.discard(name)
        return obj

    def get(self, name: str) -> T:
        """Return the component called ``name``, loading its plugin if need be.

        Raises:
            UnknownNameError: no built-in and no entry point has that name.
            PluginError: its entry point failed to load.
        """
        try:
            return self._items[name]
        except (KeyError, TypeError):  # TypeError: an unhashable name
            pass
        if isinstance(name, str) and self._load(name):
            return self._items[name]
        raise UnknownNameError(self.kind, name, self.names())

    def names(self) -> list[str]:
        """Registered and declared names, sorted (declared plugins are not loaded)."""
        return sorted({*self._items, *self._plugins()})

    def __contains__(self, name: object) -> bool:
        return name in self._items or (isinstance(name, str) and name in self._plugins())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())


#: every registry made, by kind
_REGISTRIES: dict[str, Registry[Any]] = {}


def local_components() -> list[tuple[str, str, str, Any]]:
    """The components registered in this process from outside bgdsim and its plugins
    (``@bgdsim.aggregators.register`` in a script or a notebook), as ``(registry module,
    kind, name, object)``: what a sweep ships to its workers, which know only the
    built-ins and the plugins by themselves."""
    return [
        (reg.module, kind, name, reg._items[name])
        for kind, reg in sorted(_REGISTRIES.items())
        if reg.module.startswith("bgdsim.")  # the families a run looks components up in
        for name in sorted(reg._local)
        if name in reg._items
    ]


def install(components: list[tuple[str, str, str, Any]]) -> None:
    """Register components shipped from another process (:func:`local_components`).

    A name this process registered from outside bgdsim itself (a worker that outlives a
    sweep, or a spawned one that re-imported the script) takes the shipped object: the
    sweep's process has the current code.

    Raises:
        ValueError: the name belongs here to a built-in or a plugin.
    """
    for module, kind, name, obj in components:
        reg = _REGISTRIES.get(kind)
        if reg is None:
            importlib.import_module(module)
            reg = _REGISTRIES[kind]
        have = reg._items.get(name)
        if have is None:
            reg._items[name] = obj
            reg._local.add(name)
        elif name in reg._local:
            reg._items[name] = obj
        elif have is not obj:
            raise ValueError(
                f"{kind} '{name}' of the sweep's process is a built-in or a plugin here "
                f"({_qualname(have)})"
            )


def _qualname(obj: Any) -> str:
    """``module.qualname`` of a component, for messages."""
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', '?')}"
