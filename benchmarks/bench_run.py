"""Benchmark: a full ``bgdsim.run`` (with its event log) against bare-numpy Algorithm 2.

What is measured
    The wall time of the 30 gradient-descent rounds of the paper's linear regression at
    N = 400 000, d = 50, m = 200, k = 20, q = 5: a new random Byzantine set every round,
    the ``sign_flip`` attack (scale 10), constant latency, no drops, the server
    aggregating with the geometric median of means.

    * **bgdsim** — ``bgdsim.run(scenario, log_path=<temp dir>/run-<i>.jsonl)``: the SimPy
      runtime with the full event log (JSON lines + binary payload sidecar) written to a
      temporary directory that is deleted at the end.
    * **bgdsim, no log** — the same with ``log_path=None``; not part of the headline
      ratio, it only shows how much of bgdsim's overhead is the log.
    * **baseline-stats** — Algorithm 2 in bare numpy on the same data, with each worker's
      sufficient statistics A_j = W_jᵀW_j/n and b_j = W_jᵀy_j/n precomputed *outside* the
      timed loop (as bgdsim does inside ``problems.build``), so a round's honest gradients
      are one batched ``A @ θ − b``. The precomputation's own cost is printed separately.
    * **baseline-direct** — the same, recomputing all honest gradients from the raw data
      each round: r = Wθ − y over all N samples, then one batched ``r_jᵀ W_j / n``.

    Each baseline round: honest gradients of all m workers in one numpy call, a random
    Byzantine set (drawn from the same named stream bgdsim's ``random`` schedule uses, so
    both runs see identical sets), sign-flip messages (−10 × the honest mean), batch means
    by reshape, the geometric median by :func:`bgdsim.geometric_median` (the same solver
    with the same tolerance), the step θ ← θ − η·aggregate and the error ‖θ − θ*‖. The
    comparison therefore measures the simulator's overhead: SimPy events, report
    validation, the server state machine, and logging.

Excluding data generation
    Both timings cover the rounds only. The problem (data and sufficient statistics) is
    built once, untimed, with ``bgdsim.problems.build`` from the scenario's own config and
    ``data`` stream. During the timed bgdsim runs ``bgdsim.problems.build`` is
    monkeypatched to return that cached problem (the runtime looks it up on the module at
    call time); the patch checks that it receives the same config and worker count and
    that it was actually called, so a change in the runtime cannot silently put data
    generation back into the timing. Skipping the real build draws nothing from the
    other streams (every consumer has its own named stream), so the run is unchanged.
    What remains in bgdsim's timing is everything else ``run`` does: opening the log,
    building the server core/schedule/attack, the 30 rounds, closing the log.

Method
    The four contenders alternate in one process (the order rotates each repeat), after
    one untimed warm-up of each; medians over ``--repeats`` are reported. The headline
    ratio is bgdsim / the faster baseline (normally baseline-stats, the like-for-like
    one, since bgdsim also precomputes the statistics outside its rounds).

Target
    bgdsim / faster baseline <= 1.5. The final errors of all contenders should agree
    (bgdsim and baseline-stats exactly: same data, same Byzantine sets, same arithmetic)
    and be of the order of the paper's √(dk/N).

``--profile`` additionally runs cProfile on one bgdsim run (with log) and prints the top
10 functions by tottime, then selected functions by cumulative time.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from _common import cached_build, machine_rows, profile, rotated, table

import bgdsim
import bgdsim.problems
from bgdsim.rng import stream
from bgdsim.vector import run_vector

FULL = {"samples": 400_000, "dim": 50, "workers": 200, "batches": 20, "byzantine": 5, "rounds": 30}
QUICK = {"samples": 40_000, "dim": 50, "workers": 200, "batches": 20, "byzantine": 5, "rounds": 10}
# the vector runtime's scale target: m = 10,000, d = 10, 200 rounds (N = 100 m, q = m / 20)
LARGE = {
    "samples": 1_000_000,
    "dim": 10,
    "workers": 10_000,
    "batches": 20,
    "byzantine": 500,
    "rounds": 200,
}
SCALE = 10.0
SEED = 0


def make_scenario(cfg: dict[str, int]) -> bgdsim.Scenario:
    return bgdsim.load_scenario(
        overrides={
            "name": "bench-run",
            "seed": SEED,
            "rounds": cfg["rounds"],
            "problem.kind": "linear_regression",
            "problem.samples": cfg["samples"],
            "problem.dim": cfg["dim"],
            "cluster.workers": cfg["workers"],
            "cluster.byzantine": cfg["byzantine"],
            "cluster.compute_time": 0.0,
            "server.aggregator": "gmom",
            "server.aggregator.batches": cfg["batches"],
            "server.step_size": 0.5,
            "server.missing": "zero",
            "network.latency": {"kind": "constant", "value": 0.01},
            "network.drop": 0.0,
            "adversary.schedule": "random",
            "adversary.attack": {"kind": "sign_flip", "scale": SCALE},
        }
    )


# ------------------------------------------------------------------------- baselines


def baseline(
    problem: Any,
    scenario: bgdsim.Scenario,
    gradients: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, list[float]]:
    """Algorithm 2 in bare numpy; returns θ_T and the errors ‖θ_t − θ*‖, t = 0..T."""
    m, q = scenario.cluster.workers, scenario.cluster.byzantine
    k = scenario.server.batches
    eta = float(scenario.server.step_size)
    theta_star = problem.theta_star
    adv = stream(scenario.seed, "adversary")  # the stream bgdsim's random schedule draws from
    theta = np.zeros(problem.dim)
    errors = [float(np.linalg.norm(theta - theta_star))]
    for _ in range(scenario.rounds):
        g = gradients(theta)  # (m, d) honest gradients, one batched call
        byz = np.sort(adv.choice(m, size=q, replace=False))
        honest = np.ones(m, dtype=bool)
        honest[byz] = False
        g[byz] = -SCALE * g[honest].mean(axis=0)  # sign flip
        means = g.reshape(k, m // k, -1).mean(axis=1)
        theta = theta - eta * bgdsim.geometric_median(means, tol=1e-10)
        errors.append(float(np.linalg.norm(theta - theta_star)))
    return theta, errors


def stats_gradients(problem: Any) -> tuple[Callable[[np.ndarray], np.ndarray], float]:
    """A_j θ − b_j with A, b precomputed here; returns the function and the precompute time."""
    w, y = problem.covariates, problem.responses
    n = w.shape[1]
    t0 = time.perf_counter()
    wt = w.transpose(0, 2, 1)
    a = np.matmul(wt, w) / n  # (m, d, d)
    b = np.matmul(wt, y[:, :, None])[:, :, 0] / n  # (m, d)
    elapsed = time.perf_counter() - t0
    return (lambda theta: np.matmul(a, theta) - b), elapsed


def direct_gradients(problem: Any) -> Callable[[np.ndarray], np.ndarray]:
    """(1/n) W_jᵀ(W_j θ − y_j) for all j from the raw data (two passes over N×d)."""
    w, y = problem.covariates, problem.responses
    m, n, d = w.shape
    flat_w, flat_y = w.reshape(m * n, d), y.reshape(m * n)

    def grads(theta: np.ndarray) -> np.ndarray:
        r = flat_w @ theta
        r -= flat_y
        out: np.ndarray = np.matmul(r.reshape(m, 1, n), w)[:, 0, :] / n
        return out

    return grads


# ------------------------------------------------------------------ the format's floor


def format_floor(log: Path, repeats: int) -> tuple[float, dict[str, float]]:
    """Seconds per round that the bytes of ``log``'s rounds cost any writer of schema 2:
    BLAKE2b over each round's lines and sidecar span (the digest chain hashes every
    byte), zstd level 1 over its message record (as stored: over the whole Arrow stream,
    or over each buffer of a large record, with Arrow's IPC writer), and writing
    and flushing both files once a round. No JSON rendering, no Arrow encoding, no
    simulation: a lower bound for a writer of this format that stores the reports.
    Also returns each part's median seconds per round."""
    import pyarrow as pa
    from pyarrow import ipc

    from bgdsim.msglog.codes import WHOLE, ZSTD

    def compress(record: Any) -> None:
        if isinstance(record, bytes):  # a small record: one zstd frame over its stream
            ZSTD.compress(record, asbytes=True)
            return
        sink = pa.BufferOutputStream()  # a large one: the stream, each buffer compressed
        with ipc.new_stream(
            sink, record.schema, options=ipc.IpcWriteOptions(compression=ZSTD)
        ) as out:
            out.write_batch(record)

    side = log.with_suffix(".bin").read_bytes()
    rounds: list[tuple[bytes, bytes, Any]] = []  # (lines, sidecar span, record)
    lines, start = [], 0
    for line in log.read_bytes().splitlines(keepends=True):
        lines.append(line)
        event = orjson.loads(line)
        if event.get("event") != "round_end":
            continue
        end, rec = event["payload_end"], event.get("messages")
        record: Any = None
        if rec is not None:
            blob = side[rec["offset"] : rec["offset"] + rec["bytes"]]
            if blob.startswith(WHOLE):  # one zstd frame over the whole stream
                size = int.from_bytes(blob[len(WHOLE) : len(WHOLE) + 8], "little")
                record = ZSTD.decompress(blob[len(WHOLE) + 8 :], size, asbytes=True)
            else:
                record = ipc.open_stream(blob).read_next_batch()
        rounds.append((b"".join(lines), side[start:end], record))
        lines, start = [], end
    parts: dict[str, list[float]] = {"hash": [], "zstd": [], "write": []}
    with tempfile.TemporaryDirectory(prefix="bgdsim-floor-") as tmp:
        for rep in range(repeats):
            spent = dict.fromkeys(parts, 0.0)
            with (
                open(Path(tmp) / f"{rep}.jsonl", "wb") as fl,
                open(Path(tmp) / f"{rep}.bin", "wb") as fs,
            ):
                for text, span, record in rounds:
                    t0 = time.perf_counter()
                    hashlib.blake2b(text, digest_size=16).digest()
                    hashlib.blake2b(span, digest_size=16).digest()
                    t1 = time.perf_counter()
                    if record is not None:
                        compress(record)
                    t2 = time.perf_counter()
                    fs.write(span)
                    fl.write(text)
                    fs.flush()
                    fl.flush()
                    t3 = time.perf_counter()
                    spent["hash"] += t1 - t0
                    spent["zstd"] += t2 - t1
                    spent["write"] += t3 - t2
            for key, values in parts.items():
                values.append(spent[key] / len(rounds))
    each = {key: statistics.median(v) for key, v in parts.items()}
    return sum(each.values()), each


# --------------------------------------------------------------------------- report


# functions whose cumulative time splits a round into its parts
PROFILE_CUMULATIVE = (
    r"\(run\)|\(server\)|\(step\)|\(emit\)|\(payload\)|\(flush\)|\(gradients\)|"
    r"\(_send_up\)|\(_up_arrive\)|\(_down_arrive\)|\(receive\)|\(validate_report\)|"
    r"\(close\)|\(gmom\)|\(sign_flip\)|\(choose\)|\(geometric_median\)"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (default 7, quick 3)")
    ap.add_argument("--quick", action="store_true", help="N=40000, 10 rounds: a smoke test")
    ap.add_argument(
        "--large",
        action="store_true",
        help="m=10000, d=10, N=1e6, q=500, 200 rounds: the vector runtime's scale target "
        "(the SimPy contenders are skipped)",
    )
    ap.add_argument(
        "--profile", action="store_true", help="cProfile one bgdsim run (top 10 by tottime)"
    )
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else LARGE if args.large else FULL
    repeats = args.repeats or (3 if args.quick or args.large else 7)

    scenario = make_scenario(cfg)
    t0 = time.perf_counter()
    problem = bgdsim.problems.build(
        scenario.problem, scenario.cluster.workers, stream(SEED, "data")
    )
    build_s = time.perf_counter() - t0
    grad_stats, stats_s = stats_gradients(problem)
    grad_direct = direct_gradients(problem)
    floor = float(np.sqrt(cfg["dim"] * cfg["batches"] / cfg["samples"]))

    results: dict[str, dict[str, Any]] = {
        name: {"times": [], "theta": None, "error": None}
        for name in (
            "bgdsim",
            "bgdsim vector",
            "baseline-stats",
            "baseline-direct",
            "bgdsim, no log",
        )
    }
    if args.large:  # the event-driven runtime and the raw-data baseline take minutes here
        for name in ("bgdsim", "baseline-direct", "bgdsim, no log"):
            del results[name]
    log_info: dict[str, int] = {}

    with (
        tempfile.TemporaryDirectory(prefix="bgdsim-bench-") as tmp,
        cached_build(problem, scenario) as calls,
    ):

        def run_bgdsim(i: int, log: bool = True, vector: bool = False) -> tuple[np.ndarray, float]:
            path = Path(tmp) / f"run-{i}.jsonl"
            before = calls[0]
            runner = run_vector if vector else bgdsim.run
            t = time.perf_counter()
            res = runner(scenario, log_path=path if log else None)
            elapsed = time.perf_counter() - t
            if calls[0] != before + 1:
                raise AssertionError("bgdsim.run did not use the cached problem build")
            if res.status != "completed" or res.counts["barrier_timeout"]:
                raise AssertionError(f"unexpected run: {res.status}, {res.counts}")
            if not log:
                results["bgdsim, no log"]["theta"] = res.thetas[-1]
                results["bgdsim, no log"]["error"] = res.final_error
                return res.thetas[-1], elapsed
            if vector:
                path.unlink()
                path.with_suffix(".bin").unlink()
                results["bgdsim vector"]["theta"] = res.thetas[-1]
                results["bgdsim vector"]["error"] = res.final_error
                return res.thetas[-1], elapsed
            if not log_info:
                side = path.with_suffix(".bin")
                with open(path, "rb") as f:
                    log_info["lines"] = sum(1 for _ in f)
                log_info["bytes"] = path.stat().st_size
                log_info["side"] = side.stat().st_size
            path.unlink()
            path.with_suffix(".bin").unlink()
            results["bgdsim"]["theta"] = res.thetas[-1]
            results["bgdsim"]["error"] = res.final_error
            return res.thetas[-1], elapsed

        def run_base(name: str, grads: Callable[[np.ndarray], np.ndarray]) -> float:
            t = time.perf_counter()
            theta, errors = baseline(problem, scenario, grads)
            elapsed = time.perf_counter() - t
            results[name]["theta"] = theta
            results[name]["error"] = errors[-1]
            return elapsed

        everyone: list[tuple[str, Callable[[int], float]]] = [
            ("bgdsim", lambda i: run_bgdsim(i)[1]),
            ("bgdsim vector", lambda i: run_bgdsim(i, vector=True)[1]),
            ("baseline-stats", lambda i: run_base("baseline-stats", grad_stats)),
            ("baseline-direct", lambda i: run_base("baseline-direct", grad_direct)),
            ("bgdsim, no log", lambda i: run_bgdsim(i, log=False)[1]),
        ]
        contenders = [(name, fn) for name, fn in everyone if name in results]
        for _, fn in contenders:  # warm-up
            fn(-1)
        for i, (name, fn) in rotated(contenders, repeats):
            gc.collect()
            results[name]["times"].append(fn(i))

        # the bytes one vector run's log stores, per round
        path = Path(tmp) / "floor.jsonl"
        run_vector(scenario, log_path=path)
        floor_s = format_floor(path, repeats)

        profile_text = profile_cum = ""
        if args.profile:
            path = Path(tmp) / "profile.jsonl"
            profile_text, profile_cum = profile(
                lambda: bgdsim.run(scenario, log_path=path), PROFILE_CUMULATIVE
            )

    med = {name: statistics.median(r["times"]) for name, r in results.items()}
    baselines = [n for n in ("baseline-stats", "baseline-direct") if n in med]
    fastest = min(baselines, key=med.__getitem__)
    rounds = cfg["rounds"]
    headline = "bgdsim vector" if args.large else "bgdsim"
    target = 2.0 if args.large else 1.2

    size = "(quick)" if args.quick else "(large)" if args.large else ""
    print(f"# bench_run: bgdsim (with event log) vs bare-numpy Algorithm 2 {size}\n")
    print(table(("machine", ""), machine_rows()))
    print()
    setup = [
        ("problem", f"linear regression, N={cfg['samples']}, d={cfg['dim']}, noise=1"),
        ("cluster", f"m={cfg['workers']}, q={cfg['byzantine']} (random set each round)"),
        ("server", f"gmom k={cfg['batches']}, η=0.5, {rounds} rounds"),
        ("attack / network", f"sign_flip scale={SCALE:g}; constant latency 0.01 s, no drops"),
        ("repeats", f"{repeats} (+1 warm-up each), alternated, order rotated"),
        ("untimed: data generation + stats (problems.build)", f"{build_s:.3f} s"),
        ("untimed: baseline-stats precompute of A_j, b_j", f"{stats_s:.3f} s"),
    ]
    if log_info:
        setup.append(
            (
                "bgdsim log per run",
                f"{log_info['lines']} lines, {log_info['bytes'] / 1e6:.2f} MB JSON "
                f"+ {log_info['side'] / 1e6:.2f} MB sidecar",
            )
        )
    print(table(("setup", ""), setup))
    print()
    rows = []
    for name, r in results.items():
        ts = r["times"]
        rows.append(
            (
                name,
                f"{med[name]:.4f}",
                f"{min(ts):.4f}",
                f"{max(ts):.4f}",
                f"{1e3 * med[name] / rounds:.2f}",
                f"{med[name] / med[fastest]:.2f}",
                f"{r['error']:.5f}",
            )
        )
    print(
        table(
            ("contender", "median s", "min s", "max s", "ms/round", f"× {fastest}", "final ‖θ−θ*‖"),
            rows,
        )
    )
    print()
    summary = []
    for name in ("bgdsim vector", "bgdsim", "bgdsim, no log"):
        if name in med:
            ratio = med[name] / med[fastest]
            mark = ""
            if name == headline:
                mark = f" (target <= {target:g}: {'met' if ratio <= target else 'MISSED'})"
            summary.append((f"ratio {name} / {fastest}", f"**{ratio:.2f}**{mark}"))
    if "bgdsim" in med and "bgdsim, no log" in med:
        log_ms = 1e3 * (med["bgdsim"] - med["bgdsim, no log"]) / rounds
        summary.append(("SimPy runtime: logging", f"{log_ms:.2f} ms/round"))
    budget = (target - 1.0) * med[fastest] / rounds
    total, each = floor_s
    detail = ", ".join(f"{k} {1e3 * v:.3f}" for k, v in each.items())
    summary.append(
        (
            f"the log format's floor per round (vs the {target:g}× budget: "
            f"{1e3 * budget:.3f} ms over {fastest})",
            f"{1e3 * total:.3f} ms ({detail}) = {total / budget:.2f}× the budget",
        )
    )
    summary.append(("√(dk/N)", f"{floor:.5f}"))
    for name in ("bgdsim vector", "bgdsim"):
        if name in results:
            for base in baselines:
                diff = float(np.max(np.abs(results[name]["theta"] - results[base]["theta"])))
                summary.append((f"max |θ_T({name}) − θ_T({base})|", f"{diff:.2e}"))
    print(table(("summary", ""), summary))
    if profile_text:
        print("\n## cProfile of one bgdsim run (with log), top 10 by tottime\n\n```")
        print(profile_text)
        print("```\n\n## the same run: selected functions by cumulative time\n\n```")
        print(profile_cum)
        print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
