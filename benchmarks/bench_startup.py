"""Benchmark: start-up — ``import bgdsim`` and ``bgdsim --version`` against bare Python.

What is measured
    Wall time of fresh interpreter processes, alternated, medians over ``--repeats``:

    * **python** — ``python -c pass``: the interpreter alone (the floor);
    * **import numpy** — ``python -c "import numpy"``: what any numerical command pays;
    * **import bgdsim** — ``python -c "import bgdsim"``: the package's attributes load on
      first use, so this should cost about the interpreter alone;
    * **bgdsim --version** — ``python -m bgdsim.cli --version``: the CLI imports a
      command's dependencies inside that command;
    * **bgdsim run (import only)** — ``python -c "import bgdsim.sim, bgdsim.config"``:
      what a run pays before its first round (numpy, pydantic, SimPy, pyarrow, …).

Target
    ``import bgdsim`` and ``bgdsim --version`` within ~1.5× bare Python (they must not
    import numpy).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from _common import machine_rows, rotated, table

COMMANDS = {
    "python": [sys.executable, "-c", "pass"],
    "import numpy": [sys.executable, "-c", "import numpy"],
    "import bgdsim": [sys.executable, "-c", "import bgdsim"],
    "bgdsim --version": [sys.executable, "-m", "bgdsim.cli", "--version"],
    "bgdsim run (import only)": [sys.executable, "-c", "import bgdsim.sim, bgdsim.config"],
}


def once(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args(argv)
    for cmd in COMMANDS.values():
        once(cmd)  # warm the file cache
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _, name in rotated(list(COMMANDS), args.repeats):
        times[name].append(once(COMMANDS[name]))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, bgdsim; print(sorted({'numpy', 'pydantic', "
         "'pyarrow', 'simpy'} & set(sys.modules)))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    print("# bench_startup: fresh processes, medians\n")
    print(table(("machine", ""), machine_rows()))
    print(f"\n{args.repeats} repeats, alternated\n")
    base = med["python"]
    rows = [(name, f"{1e3 * v:.0f}", f"{v / base:.2f}") for name, v in med.items()]
    print(table(("command", "median ms", "× python"), rows))
    print(f"\nheavy modules loaded by `import bgdsim`: {heavy}")
    for name in ("import bgdsim", "bgdsim --version"):
        ratio = med[name] / base
        print(f"{name}: **{ratio:.2f}× python** (target <= 1.5: "
              f"{'met' if ratio <= 1.5 else 'MISSED'})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
