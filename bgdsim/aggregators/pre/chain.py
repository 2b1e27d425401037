"""A scenario's ``server.pre``: pre-aggregators bound to their parameters, applied in order.

:class:`Chain` is built once per run from the validated component tables and called by the
server's rule every round, before the aggregator. Step i of round t draws its random bits
(``rng``) from the round's server seed with the spawn key (i,) — a stream of its own,
distinct from the aggregator's ``default_rng(seed)`` — so the adversary's view of the rule,
``replay --verify`` and a re-run apply exactly the same chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bgdsim.aggregators.pre import SUPPLIED, registry
from bgdsim.components import Component, parse_component

__all__ = ["Chain", "describe_chain", "parse_chain", "step_rng"]


def step_rng(seed: int, step: int) -> np.random.Generator:
    """The random bits of pre-aggregation step ``step`` in a round whose server seed is ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(step,))))


def parse_chain(value: Any, *, where: str = "server.pre") -> list[Component]:
    """The validated components of a ``pre`` list (each a table or a bare name).

    Raises:
        ValueError: naming ``where[i]``: not a list, or an entry :func:`parse_component`
            refuses.
    """
    if not isinstance(value, list | tuple):
        raise ValueError(f"{where}: must be a list of tables {{ kind = ... }}, got {value!r}")
    return [
        parse_component(v, registry, where=f"{where}[{i}]", supplied=SUPPLIED)
        for i, v in enumerate(value)
    ]


class Chain:
    """Pre-aggregators applied in order: ``(n, d)`` reports → ``(n', d)`` vectors.

    Args:
        components: validated components (:func:`parse_chain`).
        f: the number of Byzantine reports to tolerate, supplied to steps that take ``f``.
    """

    def __init__(self, components: Sequence[Component], *, f: int) -> None:
        self.components = tuple(components)
        self._steps: list[tuple[str, Any, dict[str, Any], bool]] = []
        for c in self.components:
            fn = registry.get(c.kind)
            params = dict(c.params)
            names = _parameters(fn)
            if "f" in names:
                params["f"] = f
            self._steps.append((c.kind, fn, params, "rng" in names))

    def __len__(self) -> int:
        return len(self.components)

    def __call__(self, vectors: np.ndarray, seed: int | None = None) -> np.ndarray:
        """The chain's output on ``vectors``, with this round's server ``seed``.

        Raises:
            PreconditionError: a step cannot run on what it is given (the round is skipped).
            ValueError: a step returned something other than a non-empty ``(n', d)`` array.
        """
        x = vectors
        d = np.shape(vectors)[1]
        for i, (kind, fn, params, random) in enumerate(self._steps):
            bits = {"rng": step_rng(seed, i)} if random and seed is not None else {}
            x = np.asarray(fn(x, **params, **bits), dtype=np.float64)
            if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] != d:
                raise ValueError(
                    f"pre-aggregator {kind} returned shape {x.shape}, expected (n', {d})"
                )
        return x

    def describe(self) -> str:
        """``nnm → bucketing(s=2)`` (empty for no steps)."""
        return describe_chain(self.components)

    def tables(self) -> list[dict[str, Any]]:
        """The steps as component tables (what the scenario and the adversary's view hold)."""
        return [c.to_table() for c in self.components]


def describe_chain(components: Sequence[Component], rule: str | None = None) -> str:
    """``nnm → bucketing(s=2)``, followed by ``→ rule`` when a rule is named."""
    return " → ".join([*(c.describe() for c in components), *([rule] if rule else [])])


def _parameters(fn: Any) -> set[str]:
    import inspect

    return set(inspect.signature(fn).parameters)
