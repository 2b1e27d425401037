"""Benchmark: wall time per simulated message event of a bgdsim run, against bare SimPy.

The unit: a simulated message event
    Every message delivery, down-link (the server's broadcast reaching worker j) or
    up-link (worker j's report reaching the server), is one simulated event: 2m per round
    when nothing is dropped, so 2m × rounds per run. This is the unit both simulators
    share. It is *not* the number of SimPy events: bgdsim's runtime coalesces the
    messages that are sent at the same instant with the same latency into one SimPy event
    (``bgdsim.sim.runtime._At``, scheduled by ``_schedule_groups``; ``_down_arrive``,
    ``_send_up`` and ``_up_arrive`` then handle its workers in order, and the log is byte
    for byte what one event per message writes). With a constant latency a whole round
    is a handful of SimPy events, so "time per SimPy event" compares nothing; time per
    message event does. Time per message event is the run's wall time divided by the
    message events it simulated.

What is measured
    A bgdsim run with many workers and almost no numerics, so that the event machinery
    dominates: m = 2000 workers, d = 10, N = 20 000 (n = 10 samples per worker), q = 5
    (random set, sign flip), gmom with k = 20, no drops, no compute time, round timeout
    1 s, 5 rounds, in two network settings:

    (a) **constant latency 0.01 s** — every broadcast has the same latency, and so has
        every report, so bgdsim coalesces: one SimPy event per link direction per round.
    (b) **exponential latency, mean 0.01 s** — every latency is distinct, so every
        message is its own SimPy event, as in the bare loop: the harder case.

    Contenders, per setting:

    * **bgdsim** — ``bgdsim.run(scenario, log_path=<temp dir>/...)``, event log written
      (to a temporary directory deleted at the end).
    * **bgdsim, no log** — the same with ``log_path=None``, so the cost of the log shows.
    * **bare SimPy** — the naive loop: one SimPy event (an ``env.timeout`` and its
      callback) per message, nothing else. One server process; per round it creates a
      barrier event and schedules m down-link timeouts, each with a callback that
      schedules the worker's up-link timeout, whose callback marks the report received
      and succeeds the barrier when all m are in; plus the round timeout. The process
      yields the barrier. It carries the same traffic as bgdsim: its latencies are read
      from bgdsim's own log of the setting (untimed, via ``bgdsim.read_events`` /
      ``bgdsim.load_payload``): the ``broadcast`` event's ``latency`` payload for the
      down-links, the ``send`` events' ``latency`` for the up-links. As a check that
      the traffic is the same, its barrier times must equal the log's ``barrier`` times
      exactly, and its message events bgdsim's.

    As in ``bench_run.py``, the data are built once and untimed: ``bgdsim.problems.build``
    is monkeypatched to return the cached problem (checked to be called with the same
    config). bgdsim's time otherwise includes all of ``run``: per-round numpy work
    (2000 gradients, latency draws, the attack, gmom), validation, the server core and
    the log.

Counting events
    Message events: bgdsim's ``counts`` (down-links delivered + up-links delivered, late
    or rejected), checked against the log's ``deliver``/``late``/``rejected`` lines, the
    no-log run and 2m × rounds; the bare loop counts its own deliveries.

    SimPy events, reported so the coalescing shows (not required to agree between
    contenders): one pop of SimPy's event queue, i.e. one call of
    ``simpy.core.Environment.step`` (``Environment.run`` calls ``self.step()`` once per
    event, and every event, whatever its class, goes through it). In a separate, untimed
    calibration run the class's ``step`` is wrapped with a counter and its ``__init__``
    with a hook that keeps the environment; afterwards the count is cross-checked against
    the environment's own bookkeeping: events scheduled (``next(env._eid)``, SimPy's
    schedule counter) minus events still queued (``len(env._queue)``: the round timeouts
    that never fired). The two must agree, or the script stops. The timed runs are not
    instrumented; runs are deterministic, so the calibrated counts apply to them.

Method
    The six runs (three contenders × two settings) alternate in one process (the order
    rotates each repeat), after one untimed warm-up of each; medians over ``--repeats``
    are reported. The log's cost per line is (median with log − median without) / lines.

Target
    Per setting: bgdsim (with log) µs/message event <= 2 × bare SimPy µs/message event.

``--profile`` additionally runs cProfile on one bgdsim run (with log) of the exponential
setting and prints the top 10 functions by tottime, then selected functions by
cumulative time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import simpy
import simpy.core
from _common import cached_build, machine_rows, profile, rotated, table, timed

import bgdsim
import bgdsim.problems
from bgdsim.rng import stream

FULL = {"workers": 2000, "dim": 10, "rounds": 5}
QUICK = {"workers": 2000, "dim": 10, "rounds": 2}
LATENCY = 0.01  # the constant latency, and the exponential's mean
ROUND_TIMEOUT = 1.0
SEED = 0
# setting -> (title, latency model)
SETTINGS: dict[str, tuple[str, dict[str, Any]]] = {
    "constant": (
        f"(a) constant latency {LATENCY} s",
        {"kind": "constant", "value": LATENCY},
    ),
    "exponential": (
        f"(b) exponential latency, mean {LATENCY} s",
        {"kind": "exponential", "mean": LATENCY},
    ),
}
CONTENDERS = ("bgdsim", "bgdsim, no log", "bare SimPy")
DELIVERIES = ("down_delivered", "up_delivered", "up_late", "up_rejected")


def make_scenario(cfg: dict[str, int], latency: dict[str, Any]) -> bgdsim.Scenario:
    m, d = cfg["workers"], cfg["dim"]
    return bgdsim.load_scenario(
        overrides={
            "name": "bench-events",
            "seed": SEED,
            "rounds": cfg["rounds"],
            "problem.kind": "linear_regression",
            "problem.samples": m * d,
            "problem.dim": d,
            "cluster.workers": m,
            "cluster.byzantine": 5,
            "cluster.compute_time": 0.0,
            "server.aggregator": "gmom",
            "server.aggregator.batches": 20,
            "server.round_timeout": ROUND_TIMEOUT,
            "network.latency": latency,
            "network.drop": 0.0,
            "adversary.schedule": "random",
            "adversary.attack": "sign_flip",
        }
    )


def count_events(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Run ``fn`` once with SimPy instrumented; return (SimPy events processed, its result)."""
    env_cls = simpy.core.Environment
    real_step, real_init = env_cls.step, env_cls.__init__
    steps = [0]
    envs: list[simpy.Environment] = []

    def step(self: simpy.Environment) -> None:
        steps[0] += 1
        real_step(self)

    def init(self: simpy.Environment, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        envs.append(self)

    env_cls.step, env_cls.__init__ = step, init  # type: ignore[method-assign]
    try:
        result = fn()
    finally:
        env_cls.step, env_cls.__init__ = real_step, real_init  # type: ignore[method-assign]
    if len(envs) != 1:
        raise AssertionError(f"expected one SimPy environment, saw {len(envs)}")
    env = envs[0]
    scheduled = next(env._eid)  # SimPy's schedule counter: events scheduled so far
    left = len(env._queue)
    if scheduled - left != steps[0]:
        raise AssertionError(
            f"event counts disagree: {steps[0]} steps, {scheduled} scheduled - {left} queued"
        )
    return steps[0], result


@dataclass
class Traffic:
    """What a bgdsim log says about its messages (read untimed, after the run)."""

    lat_down: list[list[float]] = field(default_factory=list)  # [round][worker]
    lat_up: list[list[float]] = field(default_factory=list)
    barriers: list[float] = field(default_factory=list)  # barrier time of each round
    deliveries: int = 0  # deliver + late + rejected lines
    lines: int = 0


def read_traffic(path: Path, m: int, rounds: int) -> Traffic:
    """Per-link latencies, barrier times and deliveries from a bgdsim event log."""
    down: dict[int, list[float]] = {}
    up: dict[int, list[float | None]] = {}
    out = Traffic()
    for ev in bgdsim.read_events(path):
        out.lines += 1
        kind = ev["event"]
        if kind == "broadcast":
            down[ev["round"]] = bgdsim.load_payload(path, ev["latency"]).tolist()
        elif kind == "send":
            up.setdefault(ev["round"], [None] * m)[ev["worker"]] = float(ev["latency"])
        elif kind == "barrier":
            out.barriers.append(float(ev["time"]))
        elif kind in ("deliver", "late", "rejected"):
            out.deliveries += 1
    for t in range(1, rounds + 1):
        lat_up = up.get(t, [])
        if len(down.get(t, [])) != m or len(lat_up) != m or None in lat_up:
            raise AssertionError(f"round {t}: the log lacks some link latencies")
        out.lat_down.append(down[t])
        out.lat_up.append([float(x) for x in lat_up if x is not None])
    if len(out.barriers) != rounds:
        raise AssertionError(f"expected {rounds} barrier lines, got {len(out.barriers)}")
    return out


def bare_simpy(lat_down: list[list[float]], lat_up: list[list[float]]) -> tuple[int, list[float]]:
    """One SimPy event per message, nothing else; returns (messages delivered, barrier times)."""
    env = simpy.Environment()
    m = len(lat_down[0])
    received = [False] * m
    state: dict[str, Any] = {"heard": 0, "down": 0, "barrier": None}
    barrier_times: list[float] = []

    def fire(barrier: Any, _ev: Any = None) -> None:
        if not barrier.triggered:
            barrier.succeed()

    def up_arrive(ev: Any) -> None:
        received[ev.value] = True
        state["heard"] += 1
        if state["heard"] == m:
            fire(state["barrier"])

    def down_arrive(ev: Any) -> None:
        state["down"] += 1
        j, up = ev.value
        env.timeout(up, j).callbacks.append(up_arrive)

    def server() -> Any:
        delivered = 0
        for down_t, up_t in zip(lat_down, lat_up, strict=True):
            state["heard"] = 0
            received[:] = [False] * m
            state["barrier"] = barrier = env.event()
            for j, (down, up) in enumerate(zip(down_t, up_t, strict=True)):
                env.timeout(down, (j, up)).callbacks.append(down_arrive)
            env.timeout(ROUND_TIMEOUT).callbacks.append(partial(fire, barrier))
            yield barrier
            barrier_times.append(env.now)
            delivered += sum(received)
        return delivered

    proc = env.process(server())
    env.run(until=proc)
    return state["down"] + proc.value, barrier_times


# --------------------------------------------------------------------------- report


# functions whose cumulative time splits a run into its parts
PROFILE_CUMULATIVE = (
    r"\(run\)|\(server\)|\(step\)|\(_down_arrive\)|\(_send_up\)|\(_up_arrive\)|"
    r"\(_schedule_groups\)|\(message\)|\(emit\)|\(receive\)|\(gradients\)|\(gmom\)|"
    r"\(validate_block\)|\(sample\)"
)


@dataclass
class Setting:
    """One network setting's scenario, calibration and timings."""

    title: str
    scenario: bgdsim.Scenario
    path: Path
    traffic: Traffic = field(default_factory=Traffic)
    messages: dict[str, int] = field(default_factory=dict)
    simpy_events: dict[str, int] = field(default_factory=dict)
    times: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in CONTENDERS})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (default 7, quick 3)")
    ap.add_argument("--quick", action="store_true", help="2 rounds instead of 5: a smoke test")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="cProfile one bgdsim run of the exponential setting (top 10 by tottime)",
    )
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    repeats = args.repeats or (3 if args.quick else 7)
    m, rounds = cfg["workers"], cfg["rounds"]
    expected_messages = 2 * m * rounds  # nothing is dropped

    scenarios = {key: make_scenario(cfg, lat) for key, (_, lat) in SETTINGS.items()}
    first = scenarios["constant"]
    if any(sc.problem != first.problem for sc in scenarios.values()):
        raise AssertionError("the settings must share the problem")
    problem = bgdsim.problems.build(first.problem, m, stream(SEED, "data"))

    with (
        tempfile.TemporaryDirectory(prefix="bgdsim-bench-") as tmp,
        cached_build(problem, first) as calls,
    ):
        settings = {
            key: Setting(title, scenarios[key], Path(tmp) / f"{key}.jsonl")
            for key, (title, _) in SETTINGS.items()
        }

        def run_bgdsim(s: Setting, log: bool) -> bgdsim.RunResult:
            before = calls[0]
            res = bgdsim.run(s.scenario, log_path=s.path if log else None, overwrite=True)
            if calls[0] != before + 1:
                raise AssertionError("bgdsim.run did not use the cached problem build")
            if res.status != "completed" or res.counts["barrier_all"] != rounds:
                raise AssertionError(f"unexpected run: {res.status}, {res.counts}")
            return res

        # calibration (untimed): events per run, the traffic, and sanity checks
        for key, s in settings.items():
            ev_log, res_log = count_events(partial(run_bgdsim, s, True))
            ev_nolog, res_nolog = count_events(partial(run_bgdsim, s, False))
            if res_nolog.counts != res_log.counts or not np.array_equal(
                res_nolog.errors, res_log.errors
            ):
                raise AssertionError(f"{key}: the log changed the run")
            s.traffic = tr = read_traffic(s.path, m, rounds)
            sim_messages = sum(res_log.counts[c] for c in DELIVERIES)
            if not sim_messages == tr.deliveries == expected_messages:
                raise AssertionError(
                    f"{key}: bgdsim message events: counts {sim_messages}, "
                    f"log {tr.deliveries}, expected {expected_messages}"
                )
            ev_bare, (bare_messages, bare_barriers) = count_events(
                partial(bare_simpy, tr.lat_down, tr.lat_up)
            )
            if bare_messages != sim_messages:
                raise AssertionError(f"{key}: bare SimPy delivered {bare_messages} messages")
            if bare_barriers != tr.barriers:
                raise AssertionError(
                    f"{key}: bare SimPy barrier times {bare_barriers} != bgdsim's {tr.barriers}"
                )
            s.messages = dict.fromkeys(CONTENDERS, sim_messages)
            s.simpy_events = {"bgdsim": ev_log, "bgdsim, no log": ev_nolog, "bare SimPy": ev_bare}

        runs: list[tuple[Setting, str, Callable[[], Any]]] = []
        for s in settings.values():
            runs += [
                (s, "bgdsim", partial(run_bgdsim, s, True)),
                (s, "bgdsim, no log", partial(run_bgdsim, s, False)),
                (s, "bare SimPy", partial(bare_simpy, s.traffic.lat_down, s.traffic.lat_up)),
            ]
        for _, _, fn in runs:  # warm-up
            fn()
        for _, (s, name, fn) in rotated(runs, repeats):
            s.times[name].append(timed(fn))

        profile_text = profile_cum = ""
        if args.profile:
            profile_text, profile_cum = profile(
                partial(run_bgdsim, settings["exponential"], True), PROFILE_CUMULATIVE
            )

    quick = " (quick)" if args.quick else ""
    print(f"# bench_events: µs per simulated message event, bgdsim vs bare SimPy{quick}\n")
    print(table(("machine", ""), machine_rows()))
    print()
    print(
        table(
            ("setup", ""),
            [
                (
                    "bgdsim scenario",
                    f"m={m}, d={cfg['dim']}, N={m * cfg['dim']}, q=5 sign_flip, gmom k=20",
                ),
                (
                    "network",
                    f"no drops, compute_time 0, round_timeout {ROUND_TIMEOUT} s, {rounds} rounds",
                ),
                ("settings", "; ".join(title for title, _ in SETTINGS.values())),
                (
                    "unit",
                    "message event = one message delivery, down- or up-link: "
                    f"2m per round = {expected_messages} per run",
                ),
                (
                    "bare SimPy traffic",
                    "one Timeout + callback per message; latencies read from bgdsim's log, "
                    "barrier times checked equal",
                ),
                ("repeats", f"{repeats} (+1 warm-up each), 6 runs alternated, order rotated"),
            ],
        )
    )

    verdicts: list[tuple[str, ...]] = []
    for s in settings.values():
        med = {name: statistics.median(ts) for name, ts in s.times.items()}
        us = {name: 1e6 * med[name] / s.messages[name] for name in CONTENDERS}
        bare = us["bare SimPy"]
        ratio = us["bgdsim"] / bare
        lines = s.traffic.lines
        log_s = med["bgdsim"] - med["bgdsim, no log"]
        rows = [
            (
                name,
                f"{1e3 * med[name]:.1f}",
                f"{1e3 * min(ts):.1f}",
                f"{1e3 * max(ts):.1f}",
                s.messages[name],
                s.simpy_events[name],
                f"{us[name]:.2f}",
                f"{us[name] / bare:.2f}",
            )
            for name, ts in s.times.items()
        ]
        print(f"\n## {s.title}\n")
        print(
            table(
                (
                    "contender",
                    "median ms",
                    "min ms",
                    "max ms",
                    "message events",
                    "SimPy events",
                    "µs/message event",
                    "× bare",
                ),
                rows,
            )
        )
        print()
        verdict = "met" if ratio <= 2.0 else "MISSED"
        verdicts.append(
            (s.title, f"{us['bgdsim']:.2f}", f"{bare:.2f}", f"**{ratio:.2f}**", verdict)
        )
        print(
            table(
                ("summary", ""),
                [
                    (
                        "target: bgdsim (with log) µs/message event <= 2 × bare SimPy",
                        f"**{ratio:.2f}** × bare ({verdict})",
                    ),
                    ("bgdsim, no log / bare SimPy", f"{us['bgdsim, no log'] / bare:.2f}"),
                    (
                        "SimPy events per message event",
                        f"bgdsim {s.simpy_events['bgdsim'] / s.messages['bgdsim']:.4f}, "
                        f"bare {s.simpy_events['bare SimPy'] / s.messages['bare SimPy']:.4f}",
                    ),
                    (
                        "log lines per run",
                        f"{lines} ({lines / s.messages['bgdsim']:.2f} per message event)",
                    ),
                    (
                        "cost of the log",
                        f"{1e6 * log_s / max(lines, 1):.2f} µs/log line "
                        f"({us['bgdsim'] - us['bgdsim, no log']:.2f} µs/message event)",
                    ),
                ],
            )
        )

    print("\n## targets: bgdsim (with log) µs/message event <= 2 × bare SimPy\n")
    print(table(("setting", "bgdsim µs", "bare SimPy µs", "× bare", "target <= 2"), verdicts))
    if profile_text:
        title = SETTINGS["exponential"][0]
        print(f"\n## cProfile of one bgdsim run (with log), {title}, top 10 by tottime\n\n```")
        print(profile_text)
        print("```\n\nselected functions by cumulative time:\n\n```")
        print(profile_cum)
        print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
