"""Regenerate ``example_rtt.csv``: 200 synthetic one-way latencies in milliseconds.

A wide-area link as measurements usually look: an 18 ms propagation floor plus a skewed
(lognormal) queueing delay, a congested minority (12 %) with a longer queue, and a few
outliers (3 %, retransmissions and route flaps) of 120-400 ms. Deterministic (fixed seed);
use it in a scenario as::

    latency = { kind = "empirical", path = "traces/example_rtt.csv", scale = 0.001 }

    python scenarios/traces/make_example_rtt.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20240611
FLOOR_MS = 18.0


def trace(n: int = 200, seed: int = SEED) -> np.ndarray:
    """The ``n`` latencies (ms), in a shuffled but reproducible order."""
    rng = np.random.default_rng(seed)
    congested, outliers = round(0.12 * n), round(0.03 * n)
    normal = n - congested - outliers
    parts = [
        FLOOR_MS + rng.lognormal(np.log(4.0), 0.6, normal),
        FLOOR_MS + rng.lognormal(np.log(15.0), 0.5, congested),
        FLOOR_MS + rng.uniform(100.0, 380.0, outliers),
    ]
    return rng.permutation(np.concatenate(parts))


def main() -> None:
    lines = ["one_way_ms", *(f"{v:.3f}" for v in trace())]
    out = HERE / "example_rtt.csv"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines) - 1} latencies to {out.name}")


if __name__ == "__main__":
    main()
