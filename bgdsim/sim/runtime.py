"""The SimPy runtime: the server as a process, links and workers as scheduled callbacks.

Per round t the ``server`` process

1. computes every honest gradient ∇f̄_j(θ_{t-1}) in one batched call (workers do not
   compute inside the event loop; only *when* they reply is simulated),
2. lets the schedule pick B_t (|B_t| ≤ q) and the attack write B_t's messages — the
   adversary has seen every honest gradient of the round,
3. broadcasts θ_{t-1}: each down-link draws a latency and a drop,
4. waits on the barrier: all m workers heard from, or ``round_timeout`` after the
   broadcast, whichever is first,
5. hands the round to the sans-I/O :class:`~bgdsim.protocol.ServerCore`.

A worker whose broadcast arrives replies after ``compute_time`` over its up-link (which
draws its own latency and drop). A message in flight is a single scheduled event with a
callback, not a process. Ties at one simulated instant are ordered by priority: report
arrivals (0) before the barrier's timeout (1), so a report arriving exactly at the
timeout is in time. Latencies and drops of all m links are drawn once per round from
their own named streams, so one consumer's draws never shift another's.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import simpy
from simpy.events import Event, EventPriority

from bgdsim import __version__, adversary, aggregators, attacks, problems
from bgdsim._params import check_params
from bgdsim.aggregators.gmom import batch_order
from bgdsim.attacks import AdversaryView
from bgdsim.config import Scenario
from bgdsim.eventlog import SCHEMA_VERSION, EventLog
from bgdsim.protocol import (
    Outcome,
    RoundInbox,
    ServerCore,
    validate_block,
    validate_report,
)
from bgdsim.result import RunResult
from bgdsim.rng import Streams

__all__ = ["default_log_path", "paper_floor", "run"]

# A message reaching its destination is processed before a round timeout due at the same
# instant (simpy.Timeout uses NORMAL = 1).
ARRIVAL = EventPriority(0)

Progress = Callable[[int, int], None]


class _At(Event):
    """Messages to ``workers`` that all arrive ``delay`` seconds from now (cf. simpy.Timeout).

    Messages sent at one instant with the same latency arrive at the same instant; they
    share one event, handled in worker order. Events are processed by (time, priority,
    insertion), and such messages would have been inserted back to back, so coalescing
    them changes nothing in the run or its log — it only saves SimPy events (with a
    constant latency, a round costs a handful of events instead of 2m).
    """

    __slots__ = ("data", "workers")

    def __init__(
        self,
        env: simpy.Environment,
        delay: float,
        workers: list[int],
        callback: Callable[[Any], None],
        data: Any = None,
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        self.workers = workers
        self.data = data
        env.schedule(self, ARRIVAL, delay)


def _schedule_groups(
    env: simpy.Environment,
    delays: dict[float, list[int]],
    callback: Callable[[Any], None],
    data: Any,
) -> None:
    for delay, workers in delays.items():  # first-appearance order = insertion order
        _At(env, delay, workers, callback, data)


def default_log_path(scenario: Scenario) -> Path:
    """``logs/<name>-seed<seed>.jsonl``."""
    return Path("logs") / f"{scenario.name}-seed{scenario.seed}.jsonl"


def paper_floor(scenario: Scenario) -> float:
    """The statistical error scale √(d k / N) of Theorem 1 / Corollary 1 for this scenario.

    k is ``server.batches`` for rules that batch, m for ``geomed`` (k = m) and 1 otherwise
    (the mean's √(d/N), Remark 1).
    """
    fn = aggregators.get(scenario.server.aggregator)
    if aggregators.takes_batches(fn):
        k = scenario.server.batches
    elif scenario.server.aggregator == "geomed":
        k = scenario.cluster.workers
    else:
        k = 1
    return float(np.sqrt(scenario.problem.dim * k / scenario.problem.samples))


_COUNTS = (
    "down_sent",
    "down_delivered",
    "down_dropped",
    "up_sent",
    "up_delivered",
    "up_dropped",
    "up_late",
    "up_rejected",
    "barrier_all",
    "barrier_timeout",
    "aggregate_skipped",
)


class _Round:
    """What the callbacks of one round's messages need, captured when the round opens.

    A broadcast may arrive after its round's barrier (the next round is open by then); the
    worker still answers the round it was asked, with that round's message and up-link.
    """

    __slots__ = (
        "block_offset",
        "byzantine",
        "delays",
        "drop_up",
        "lat_up",
        "loose",
        "outgoing",
        "row_bytes",
        "shape",
        "t",
        "verdicts",
    )

    def __init__(
        self,
        t: int,
        outgoing: list[np.ndarray | None],
        verdicts: list[str | None],
        byzantine: set[int],
        lat_up: list[float],
        drop_up: list[bool],
        block_offset: int | None,
        loose: set[int],
        delays: list[float] | None = None,
    ) -> None:
        self.t = t
        self.delays = delays  # extra seconds before sending (timing attacks), or None
        self.block_offset = block_offset  # sidecar offset of the (m, d) message block
        self.loose = loose
        self.shape = [len(outgoing[0])] if outgoing and outgoing[0] is not None else []
        self.row_bytes = 8 * (self.shape[0] if self.shape else 0)
        self.outgoing = outgoing
        self.verdicts = verdicts
        self.byzantine = byzantine
        self.lat_up = lat_up
        self.drop_up = drop_up


class _Simulation:
    """One run's state: the SimPy environment, the server core and the log."""

    def __init__(self, scenario: Scenario, log: EventLog, progress: Progress | None) -> None:
        self.sc = scenario
        self.log = log
        self.progress = progress
        self.streams = Streams(scenario.seed)
        m, q = scenario.cluster.workers, scenario.cluster.byzantine
        self.m, self.q = m, q
        self.problem = problems.build(scenario.problem, m, self.streams["data"])
        srv = scenario.server
        fn = aggregators.get(srv.aggregator)
        params = check_params(fn, srv.params, where="server.params", supplied=aggregators.SUPPLIED)
        params = aggregators.server_params(fn, params, batches=srv.batches, f=q)
        self.aggregator_fn = fn
        self.server_random = aggregators.takes(fn, "rng")
        step = self.problem.auto_step_size() if srv.step_size == "auto" else float(srv.step_size)
        self.step_size = step
        self.core = ServerCore(
            self.problem.initial_theta(),
            fn,
            params,
            step_size=step,
            workers=m,
            missing=srv.missing,
            max_norm=srv.max_norm,
        )
        adv = scenario.adversary
        schedule = adversary.schedules.get(adv.schedule)(
            m, q, self.streams["adversary"], srv.batches, **adv.schedule_params
        )
        attack = attacks.get(adv.attack)
        attack_params = check_params(attack, adv.params, where="adversary.params")
        self.adversary = adversary.Adversary(
            schedule, attack, attack_params, q, self.streams["attack"]
        )
        self.latency = scenario.network.latency
        self.drop = scenario.network.drop
        self.compute_time = scenario.cluster.compute_time
        self.counts = dict.fromkeys(_COUNTS, 0)
        self.env = simpy.Environment(initial_time=0.0)
        # per-round state read by the callbacks
        self.inbox: RoundInbox | None = None
        self.barrier: Event | None = None
        self.barrier_reason = ""
        self.status = "completed"
        self.errors = np.zeros(0)
        self.thetas = np.zeros((0, scenario.problem.dim))

    # ------------------------------------------------------------------ callbacks
    def _down_arrive(self, ev: _At) -> None:
        rnd, now, log, env = ev.data, self.env.now, self.log, self.env
        self.counts["down_delivered"] += len(ev.workers)
        if self.compute_time == 0 and rnd.delays is None:
            self._send(ev.workers, rnd, deliver=True)
            return
        waits: dict[float, list[int]] = {}
        for j in ev.workers:
            log.message("deliver", now, rnd.t, j, "down")
            wait = self.compute_time + (rnd.delays[j] if rnd.delays is not None else 0.0)
            waits.setdefault(wait, []).append(j)
        for wait, workers in waits.items():
            if wait == 0:
                self._send(workers, rnd)
            else:
                _At(env, wait, workers, self._send_up, rnd)

    def _send_up(self, ev: _At) -> None:
        self._send(ev.workers, ev.data)

    def _send(self, workers: list[int], rnd: _Round, deliver: bool = False) -> None:
        """``workers`` reply now; ``deliver``: log their broadcast's delivery first."""
        now, log, counts = self.env.now, self.log, self.counts
        t = rnd.t
        groups: dict[float, list[int]] = {}
        for j in workers:
            if deliver:
                log.message("deliver", now, t, j, "down")
            msg = rnd.outgoing[j]
            if msg is None:  # a silent Byzantine worker
                continue
            counts["up_sent"] += 1
            latency = rnd.lat_up[j]
            if log.enabled:
                if rnd.block_offset is None or j in rnd.loose:
                    ref = log.payload(msg)
                else:
                    ref = {"offset": rnd.block_offset + j * rnd.row_bytes, "shape": rnd.shape}
                extra = {"latency": latency, "byzantine": j in rnd.byzantine, "payload": ref}
                log.message("send", now, t, j, "up", extra)
            if rnd.drop_up[j]:
                counts["up_dropped"] += 1
                log.message("drop", now, t, j, "up")
            else:
                groups.setdefault(latency, []).append(j)
        if len(groups) == 1 and len(workers) == 1:  # the common case without ties
            ((latency, group),) = groups.items()
            _At(self.env, latency, group, self._up_arrive, rnd)
        else:
            _schedule_groups(self.env, groups, self._up_arrive, rnd)

    def _up_arrive(self, ev: _At) -> None:
        rnd, now, log, counts = ev.data, self.env.now, self.log, self.counts
        t = rnd.t
        inbox = self.inbox
        assert inbox is not None
        receive = self.core.receive
        for j in ev.workers:
            outcome, reason = receive(inbox, j, t, rnd.outgoing[j], rnd.verdicts[j])
            if outcome is Outcome.ACCEPTED:
                counts["up_delivered"] += 1
                log.message("deliver", now, t, j, "up")
            elif outcome is Outcome.LATE:
                counts["up_late"] += 1
                log.message("late", now, t, j, "up")
                continue
            else:
                counts["up_rejected"] += 1
                log.message("rejected", now, t, j, "up", {"reason": reason})
            if inbox.complete():
                assert self.barrier is not None
                self._fire(self.barrier, "all")

    def _on_timeout(self, barrier: Event, _timeout: Event) -> None:
        self._fire(barrier, "timeout")

    def _fire(self, barrier: Event, reason: str) -> None:
        """Fire ``barrier`` (once): the first of "all heard" and its own round's timeout."""
        if not barrier.triggered:
            self.barrier_reason = reason
            barrier.succeed()

    def _view(
        self,
        t: int,
        theta: np.ndarray,
        honest: np.ndarray,
        history: np.ndarray,
        seed: int,
        lat_down: np.ndarray,
        lat_up: np.ndarray,
    ) -> AdversaryView:
        """The omniscient adversary's view of round t (copies: it cannot touch the run)."""
        srv = self.sc.server
        fn, params = self.aggregator_fn, dict(self.core.params)

        def aggregate(vectors: np.ndarray) -> np.ndarray:
            extra = {"rng": np.random.default_rng(seed)} if self.server_random else {}
            return np.asarray(fn(vectors, **params, **extra), dtype=np.float64)

        order = None
        if params.get("rebatch"):
            order = batch_order(self.m, np.random.default_rng(seed))
        problem = self.problem

        def corrupted(workers: np.ndarray, kind: str, strength: float) -> np.ndarray:
            return problem.corrupted_gradients(theta, workers, kind=kind, strength=strength)

        return AdversaryView(
            t,
            theta.copy(),
            honest.copy(),
            np.zeros(0, dtype=np.int64),
            self.q,
            srv.aggregator,
            srv.batches,
            params=params,
            aggregate=aggregate,
            missing=srv.missing,
            history=history,
            round_timeout=srv.round_timeout,
            max_norm=srv.max_norm,
            compute_time=self.compute_time,
            latency_down=lat_down.copy(),
            latency_up=lat_up.copy(),
            batch_order=order,
            corrupted=corrupted,
        )

    # ------------------------------------------------------------------ the server
    def server(self) -> simpy.events.ProcessGenerator:
        sc, env, log, m = self.sc, self.env, self.log, self.m
        theta_star = self.problem.theta_star
        errors = [self.problem.error(self.core.theta)]
        thetas = [self.core.theta.copy()]
        log.emit(
            "run_start",
            0.0,
            schema=SCHEMA_VERSION,
            bgdsim=__version__,
            numpy=np.__version__,
            name=sc.name,
            seed=sc.seed,
            scenario=sc.to_dict(),
            step_size=self.step_size,
            floor=paper_floor(sc),
            payload_dtype="<f8",
            theta_star=log.payload(theta_star),
            theta=log.payload(self.core.theta),
            error=errors[0],
        )
        log.flush()
        status = "completed"
        streams = self.streams
        rng_lat_down, rng_lat_up = streams["latency.down"], streams["latency.up"]
        rng_drop_down, rng_drop_up = streams["drop.down"], streams["drop.up"]
        rng_server = streams["server"]
        for t in range(1, sc.rounds + 1):
            start = env.now
            theta = self.core.theta
            log.emit("round_start", start, round=t)
            with np.errstate(all="ignore"):  # θ may be huge after an attack on the mean
                honest = self.problem.gradients(theta)
            if not np.isfinite(honest).all():
                status = "diverged"
                log.emit("diverged", start, round=t, reason="honest gradients at θ are not finite")
                log.flush()
                break
            lat_down = self.latency.sample(rng_lat_down, m)
            lat_up = self.latency.sample(rng_lat_up, m)
            drop_down = rng_drop_down.random(m) < self.drop
            drop_up = rng_drop_up.random(m) < self.drop
            seed = int(rng_server.integers(2**63))  # the server's random bits this round
            plan = self.adversary.act(
                self._view(t, theta, honest, np.asarray(thetas), seed, lat_down, lat_up)
            )
            byz = plan.byzantine
            log.emit("byzantine_set", start, round=t, workers=byz.tolist())
            block, outgoing, loose = plan.block, plan.outgoing, plan.loose
            # validated once, vectorised: a verdict is a pure function of the message
            verdicts = validate_block(block, max_norm=self.core.max_norm)
            for j in loose:
                verdicts[j] = validate_report(
                    outgoing[j], dim=self.core.dim, max_norm=self.core.max_norm
                )
            block_ref = log.payload(block)
            rnd = _Round(
                t,
                outgoing,
                verdicts,
                set(byz.tolist()),
                lat_up.tolist(),
                drop_up.tolist(),
                None if block_ref is None else block_ref["offset"],
                loose,
                plan.delays.tolist() if plan.delays.any() else None,
            )
            self.inbox = self.core.open_round(t)
            self.barrier = barrier = env.event()
            # One broadcast: θ to every down-link, each with its own latency (a payload).
            log.emit(
                "broadcast",
                start,
                round=t,
                theta=log.payload(theta),
                latency=log.payload(lat_down),
            )
            counts = self.counts
            counts["down_sent"] += m
            if not drop_down.any() and (lat_down == lat_down[0]).all():  # one arrival
                _At(env, float(lat_down[0]), list(range(m)), self._down_arrive, rnd)
            else:
                groups: dict[float, list[int]] = {}
                for j, (latency, dropped) in enumerate(
                    zip(lat_down.tolist(), drop_down.tolist(), strict=True)
                ):
                    if dropped:
                        counts["down_dropped"] += 1
                        log.message("drop", start, t, j, "down")
                    else:
                        groups.setdefault(latency, []).append(j)
                _schedule_groups(env, groups, self._down_arrive, rnd)
            timeout = env.timeout(sc.server.round_timeout)
            timeout.callbacks.append(partial(self._on_timeout, barrier))
            yield barrier
            now = env.now
            counts["barrier_" + self.barrier_reason] += 1
            inbox = self.inbox
            extra = {"rng": np.random.default_rng(seed)} if self.server_random else None
            result = self.core.close(inbox, extra)
            log.emit(
                "barrier",
                now,
                round=t,
                reason=self.barrier_reason,
                heard=int(inbox.n_heard),
                received=int(inbox.received.sum()),
                missing=result.missing.tolist(),
            )
            if result.skipped is not None:
                counts["aggregate_skipped"] += 1
                log.emit("aggregate_skipped", now, round=t, rows=result.used, reason=result.skipped)
            else:
                log.emit(
                    "aggregate",
                    now,
                    round=t,
                    aggregator=sc.server.aggregator,
                    missing_policy=sc.server.missing,
                    rows=result.used,
                    payload=log.payload(result.aggregate),
                )
            if not result.finite:
                status = "diverged"
                log.emit("diverged", now, round=t, reason="θ is not finite after the update")
                log.flush()
                break
            errors.append(self.problem.error(result.theta))
            thetas.append(result.theta.copy())
            log.emit(
                "update",
                now,
                round=t,
                step_size=self.step_size,
                error=errors[-1],
                theta=log.payload(result.theta),
            )
            log.emit("round_end", now, round=t, duration=now - start)
            log.flush()
            if self.progress is not None:
                self.progress(t, sc.rounds)
        self.status = status
        self.errors = np.asarray(errors)
        self.thetas = np.asarray(thetas)


def run(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    progress: Progress | None = None,
) -> RunResult:
    """Run a scenario on the SimPy runtime.

    Args:
        scenario: a validated :class:`~bgdsim.config.Scenario`.
        log_path: where to write the event log; ``True`` (default) for
            ``logs/<name>-seed<seed>.jsonl``, ``None``/``False`` for no log.
        progress: called as ``progress(round, rounds)`` after every round.

    Returns:
        The :class:`~bgdsim.result.RunResult`.
    """
    wall = _time.perf_counter()
    path: Path | None
    if log_path is True:
        path = default_log_path(scenario)
    elif log_path is None or log_path is False:
        path = None
    else:
        path = Path(log_path)
    with EventLog(path) as log:
        sim = _Simulation(scenario, log, progress)
        proc = sim.env.process(sim.server())
        sim.env.run(until=proc)
        counts = sim.counts
        in_flight = counts["up_sent"] - counts["up_dropped"] - counts["up_delivered"]
        in_flight -= counts["up_late"] + counts["up_rejected"]
        rounds = len(sim.errors) - 1
        log.emit(
            "run_end",
            sim.env.now,
            status=sim.status,
            rounds=rounds,
            final_error=float(sim.errors[-1]),
            counts=counts,
            up_in_flight=in_flight,
        )
    return RunResult(
        name=scenario.name,
        seed=scenario.seed,
        rounds=rounds,
        errors=sim.errors,
        thetas=sim.thetas,
        theta_star=sim.problem.theta_star,
        floor=paper_floor(scenario),
        status=sim.status,
        counts={**counts, "up_in_flight": in_flight},
        log_path=path,
        wall_seconds=_time.perf_counter() - wall,
    )
