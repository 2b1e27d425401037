"""One master seed → independent, named random streams.

Each consumer (data, latencies, drops, adversary, attack, batching, …) draws from its own
:class:`numpy.random.Generator`, derived from the master seed and a stable hash of the
consumer's name with :class:`numpy.random.SeedSequence`. Streams are therefore
independent of each other *and of the order in which they are created*: changing the drop
rate (which changes how many drop draws are consumed) never changes the data or the
Byzantine sets.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams", "stream"]


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for stream ``name`` under master seed ``seed``.

    >>> a = stream(0, "data").standard_normal(2)
    >>> b = stream(0, "data").standard_normal(2)
    >>> bool((a == b).all())
    True
    """
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


class Streams:
    """Lazily created named streams of one run, each created once."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._cache: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._cache.get(name)
        if gen is None:
            gen = self._cache[name] = stream(self.seed, name)
        return gen
