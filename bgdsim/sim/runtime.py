"""The SimPy runtime: the server as a process, links and workers as scheduled callbacks.

Per round t the ``server`` process

1. waits out a ``server_pause`` fault, if one is on;
2. computes every honest gradient ∇f̄_j(θ_{t-1}) in one batched call (workers do not
   compute inside the event loop; only *when* they reply is simulated);
3. draws the round's links (:class:`~bgdsim.network.links.Network`: latencies, losses,
   compute times, faults) — all decided when the round opens, from their own streams;
4. lets the adversary pick B_t (|B_t| ≤ q, forced workers included) and write its
   messages, having seen every honest gradient, the server's rule and the links;
5. broadcasts θ_{t-1} and waits on the barrier — every worker heard from, a quorum of
   reports in (``server.barrier = "quorum"``, plus ``grace``), or ``round_timeout`` after
   the broadcast, whichever comes first;
6. hands the round to the sans-I/O :class:`~bgdsim.protocol.ServerCore`.

A worker whose broadcast arrives replies after its compute time (and an attack's delay)
over its up-link. A message in flight is a scheduled event with a callback, not a process;
messages arriving at one instant share one event. Ties at one instant are ordered: report
arrivals before the barrier's timeout, so a report arriving exactly at the timeout is in.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from simpy.events import Event

from bgdsim import __version__, adversary, aggregators, attacks, problems
from bgdsim._params import check_params
from bgdsim.aggregators.gmom import batch_order
from bgdsim.attacks import AdversaryView
from bgdsim.config import Scenario
from bgdsim.eventlog import SCHEMA_VERSION, EventLog
from bgdsim.network.faults import Fault, FaultSchedule
from bgdsim.network.links import Network
from bgdsim.protocol import Outcome, RoundInbox, ServerCore, validate_block, validate_report
from bgdsim.result import RunResult
from bgdsim.rng import Streams
from bgdsim.sim._events import Accounting, At, schedule_groups

if TYPE_CHECKING:
    from bgdsim.sim.recorded import Recording

__all__ = ["Prepared", "default_log_path", "paper_floor", "resolve_log_path", "run"]

Progress = Callable[[int, int], None]


def default_log_path(scenario: Scenario) -> Path:
    """``logs/<name>-seed<seed>.jsonl``."""
    return Path("logs") / f"{scenario.name}-seed{scenario.seed}.jsonl"


def resolve_log_path(scenario: Scenario, log_path: str | Path | bool | None) -> Path | None:
    """``True`` → the default path, ``None``/``False`` → no log, else the path."""
    if log_path is True:
        return default_log_path(scenario)
    if log_path is None or log_path is False:
        return None
    return Path(log_path)


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


class _Round:
    """What the callbacks of one round's messages need, captured when the round opens.

    A broadcast may arrive after its round's barrier (the next round is open by then); the
    worker still answers the round it was asked, with that round's message and up-link.
    """

    __slots__ = (
        "block_offset",
        "byzantine",
        "loose",
        "outgoing",
        "row_bytes",
        "send_at",
        "sends",
        "shape",
        "t",
        "up_latency",
        "up_lost",
        "verdicts",
    )

    def __init__(
        self,
        t: int,
        outgoing: list[np.ndarray | None],
        verdicts: list[str | None],
        byzantine: set[int],
        block_offset: int | None,
        loose: set[int],
        send_at: list[float],
        sends: list[bool],
        up_latency: list[float],
        up_lost: list[str | None],
    ) -> None:
        self.t = t
        self.outgoing = outgoing
        self.verdicts = verdicts
        self.byzantine = byzantine
        self.block_offset = block_offset  # sidecar offset of the (m, d) message block
        self.loose = loose  # workers whose message is not a row of the block
        d = next((len(v) for v in outgoing if v is not None), 0)
        self.shape, self.row_bytes = [d], 8 * d
        self.send_at = send_at  # simulated time each worker sends its report
        self.sends = sends  # whether it sends at all
        self.up_latency = up_latency
        self.up_lost = up_lost  # why the report is lost, or None


@dataclass
class Prepared:
    """One round, decided when it opens (:meth:`_Simulation.prepare_round`)."""

    rnd: _Round
    lat_down: np.ndarray  # the down-links' latencies
    down_lost: list[str | None]  # why each broadcast is lost, or None
    seed: int  # the server's random bits this round


class _Simulation:
    """One run's state: the SimPy environment, the server core, the network and the log."""

    def __init__(
        self,
        scenario: Scenario,
        log: EventLog,
        progress: Progress | None,
        recording: Recording | None = None,
    ) -> None:
        self.sc = scenario
        self.recording = recording
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
        weighted = not self.problem.equal_sizes and aggregators.takes(fn, "weights")
        self.core = ServerCore(
            self.problem.initial_theta(),
            fn,
            params,
            step_size=step,
            workers=m,
            missing=srv.missing,
            max_norm=srv.max_norm,
            weights=self.problem.sizes.astype(np.float64) if weighted else None,
        )
        self.quorum = (srv.quorum or max(m - q, 1)) if srv.barrier == "quorum" else None
        adv = scenario.adversary
        schedule = adversary.schedules.get(adv.schedule)(
            m, q, self.streams["adversary"], srv.batches, **adv.schedule_params
        )
        attack = attacks.get(adv.attack)
        attack_params = check_params(attack, adv.params, where="adversary.params")
        self.adversary = adversary.Adversary(
            schedule, attack, attack_params, q, self.streams["attack"]
        )
        self.faults = FaultSchedule(list(scenario.faults), m)
        self.routes = scenario.network.topology.build(m)
        self.network = Network(
            scenario.network,
            scenario.cluster,
            scenario.problem.dim,
            self.problem.sizes,
            self.faults,
            self.routes,
            self.streams,
        )
        if recording is not None:  # a re-run: the recorded world, a new server
            from bgdsim.sim.recorded import RecordedAdversary, RecordedNetwork

            self.network = RecordedNetwork(recording, m)  # type: ignore[assignment]
            self.adversary = RecordedAdversary(recording, self.adversary)
        self.acct = Accounting(m)
        self.env = simpy.Environment(initial_time=0.0)
        # per-round state read by the callbacks
        self.inbox: RoundInbox | None = None
        self.barrier: Event | None = None
        self.barrier_reason = ""
        self.quorum_armed = False
        self.status = "completed"
        self.errors = np.zeros(0)
        self.thetas = np.zeros((0, scenario.problem.dim))

    # ------------------------------------------------------------------ callbacks
    def _down_arrive(self, ev: At) -> None:
        rnd, now, log = ev.data, self.env.now, self.log
        delivered = self.acct.per_worker["down_delivered"]
        later: dict[float, list[int]] = {}
        now_senders: list[int] = []
        for j in ev.workers:
            delivered[j] += 1
            log.message("deliver", now, rnd.t, j, "down")
            if not rnd.sends[j]:
                continue
            wait = rnd.send_at[j] - now
            if wait > 0:
                later.setdefault(wait, []).append(j)
            else:
                now_senders.append(j)
        if now_senders:
            self._send(now_senders, rnd)
        schedule_groups(self.env, later, self._send_up, rnd)

    def _send_up(self, ev: At) -> None:
        self._send(ev.workers, ev.data)

    def _send(self, workers: list[int], rnd: _Round) -> None:
        """``workers`` send their reports now."""
        now, log, acct = self.env.now, self.log, self.acct.per_worker
        sent, dropped = acct["up_sent"], acct["up_dropped"]
        t = rnd.t
        groups: dict[float, list[int]] = {}
        for j in workers:
            msg = rnd.outgoing[j]
            sent[j] += 1
            latency = rnd.up_latency[j]
            if log.enabled:
                if rnd.block_offset is None or j in rnd.loose:
                    ref = log.payload(msg)  # type: ignore[arg-type]
                else:
                    ref = {"offset": rnd.block_offset + j * rnd.row_bytes, "shape": rnd.shape}
                extra = {"latency": latency, "byzantine": j in rnd.byzantine, "payload": ref}
                log.message("send", now, t, j, "up", extra)
            reason = rnd.up_lost[j]
            if reason is not None:
                dropped[j] += 1
                log.message("drop", now, t, j, "up", {"reason": reason})
            else:
                groups.setdefault(latency, []).append(j)
        schedule_groups(self.env, groups, self._up_arrive, rnd)

    def _up_arrive(self, ev: At) -> None:
        rnd, now, log, acct = ev.data, self.env.now, self.log, self.acct.per_worker
        t = rnd.t
        inbox = self.inbox
        assert inbox is not None
        assert self.barrier is not None
        receive = self.core.receive
        for j in ev.workers:
            outcome, reason = receive(inbox, j, t, rnd.outgoing[j], rnd.verdicts[j])
            if outcome is Outcome.ACCEPTED:
                acct["up_delivered"][j] += 1
                log.message("deliver", now, t, j, "up")
                if self.quorum is not None and not self.quorum_armed:
                    self._check_quorum(inbox, self.barrier)
            elif outcome is Outcome.LATE:
                acct["up_late"][j] += 1
                log.message("late", now, t, j, "up")
                continue
            else:
                acct["up_rejected"][j] += 1
                log.message("rejected", now, t, j, "up", {"reason": reason})
            if inbox.complete():
                self._fire(self.barrier, "all")

    def _check_quorum(self, inbox: RoundInbox, barrier: Event) -> None:
        assert self.quorum is not None
        if inbox.n_received >= self.quorum:
            self.quorum_armed = True
            grace = self.sc.server.grace
            if grace > 0:
                timer = self.env.timeout(grace)
                timer.callbacks.append(partial(self._on_timer, barrier, "quorum"))
            else:
                self._fire(barrier, "quorum")

    def _on_timer(self, barrier: Event, reason: str, _timer: Event) -> None:
        self._fire(barrier, reason)

    def _fire(self, barrier: Event, reason: str) -> None:
        """Fire ``barrier`` once: the first of all heard, a quorum, its round's timeout."""
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
        compute: np.ndarray,
    ) -> AdversaryView:
        """The omniscient adversary's view of round t (copies: it cannot touch the run)."""
        srv = self.sc.server
        fn, params = self.aggregator_fn, dict(self.core.params)
        if self.core.weights is not None:
            params["weights"] = self.core.weights

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
            compute_time=float(np.median(compute)),
            latency_down=lat_down.copy(),
            latency_up=lat_up.copy(),
            batch_order=order,
            corrupted=corrupted,
        )

    def _log_fault(self, event: str, fault: object, _ev: object = None) -> None:
        self.log.emit(event, self.env.now, **fault.describe())  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ round pieces
    # Shared with the live runtimes (bgdsim.live): the round logic is these methods; a
    # runtime adds only its waiting (SimPy events, or asyncio on the wall clock).
    def header(self, error: float, **extra: Any) -> None:
        """The ``run_start`` line (``error``: ‖θ_0 − θ*‖; ``extra``: a runtime's fields)."""
        sc, log = self.sc, self.log
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
            sizes=self.problem.sizes.tolist(),
            **(
                {"parent": {"log": self.recording.path.name, "digest": self.recording.digest}}
                if self.recording is not None
                else {}
            ),
            network=self.network.describe(),
            theta_star=log.payload(self.problem.theta_star),
            theta=log.payload(self.core.theta),
            error=error,
            **extra,
        )
        log.flush()

    def timed_faults(self) -> list[tuple[float, str, Fault]]:
        """(time, event, fault) of every seconds-unit fault's start and end, in order."""
        return [
            (at, event, fault)
            for fault in self.faults.timed
            for event, at in (("fault_start", fault.from_), ("fault_end", fault.until))
            if at is not None
        ]

    def pause(self, t: int, now: float) -> float | None:
        """How long a ``server_pause`` holds round t back at ``now`` (0: not at all).

        None: paused to the end of the run (logged as ``server_paused``); the run stops.
        """
        resume = self.faults.pause_end(now)
        if not resume > now:
            return 0.0
        if not np.isfinite(resume):
            self.log.emit("server_paused", now, round=t, reason="paused to the end")
            self.log.flush()
            return None
        return resume - now

    def prepare_round(
        self, t: int, start: float, thetas: list[np.ndarray], *, write_block: bool = True
    ) -> Prepared | None:
        """Open round t at ``start``: everything decided before the server waits.

        Logs the round's fault events and ``round_start``, computes the honest gradients
        at θ_{t-1}, draws the links, lets the adversary act and validates its messages.
        ``thetas`` are the iterates so far (the adversary's history); ``write_block``:
        write the round's (m, d) message block to the sidecar (the reports' payloads
        point into it). None: the gradients are not finite (logged as ``diverged``).
        """
        log, net, core = self.log, self.network, self.core
        starts, ends = self.faults.round_events(t)
        for fault in ends:
            log.emit("fault_end", start, **fault.describe())
        for fault in starts:
            log.emit("fault_start", start, **fault.describe())
        log.emit("round_start", start, round=t)
        theta = core.theta
        with np.errstate(all="ignore"):  # θ may be huge after an attack on the mean
            honest = self.problem.gradients(theta)
        if not np.isfinite(honest).all():
            log.emit("diverged", start, round=t, reason="honest gradients at θ are not finite")
            log.flush()
            return None
        lat_down, down_lost = net.broadcast(t, start)
        compute = net.compute_times()
        lat_up = net.draw_up_latencies()
        seed = int(self.streams["server"].integers(2**63))  # the server's random bits
        view = self._view(t, theta, honest, np.asarray(thetas), seed, lat_down, lat_up, compute)
        plan = self.adversary.act(view, forced=self.faults.forced_byzantine(t))
        byz = plan.byzantine
        log.emit("byzantine_set", start, round=t, workers=byz.tolist())
        outgoing = plan.outgoing
        # validated once, vectorised: a verdict is a pure function of the message
        verdicts = validate_block(plan.block, max_norm=core.max_norm)
        for j in plan.loose:
            verdicts[j] = validate_report(outgoing[j], dim=core.dim, max_norm=core.max_norm)
        willing = np.array(
            [r is None and v is not None for r, v in zip(down_lost, outgoing, strict=True)]
        )
        send_at = net.send_times(t, start, lat_down, compute, plan.delays)
        up = net.reports(t, send_at, willing, lat_up)
        block_ref = log.payload(plan.block) if write_block else None
        rnd = _Round(
            t,
            outgoing,
            verdicts,
            set(byz.tolist()),
            None if block_ref is None else block_ref["offset"],
            plan.loose,
            send_at.tolist(),
            up.sends.tolist(),
            up.latency.tolist(),
            up.reason,
        )
        return Prepared(rnd, lat_down, down_lost, seed)

    def broadcast(self, t: int, start: float, prep: Prepared) -> dict[float, list[int]]:
        """Log round t's broadcast and its lost down-links; the rest, grouped by latency.

        One broadcast: θ to every down-link, each with its own latency (a payload).
        """
        log, acct = self.log, self.acct.per_worker
        log.emit(
            "broadcast",
            start,
            round=t,
            theta=log.payload(self.core.theta),
            latency=log.payload(prep.lat_down),
        )
        groups: dict[float, list[int]] = {}
        for j, (latency, reason) in enumerate(
            zip(prep.lat_down.tolist(), prep.down_lost, strict=True)
        ):
            acct["down_sent"][j] += 1
            if reason is not None:
                acct["down_dropped"][j] += 1
                log.message("drop", start, t, j, "down", {"reason": reason})
            else:
                groups.setdefault(latency, []).append(j)
        return groups

    def close_round(
        self,
        t: int,
        start: float,
        now: float,
        inbox: RoundInbox,
        seed: int,
        reason: str,
        errors: list[float],
        thetas: list[np.ndarray],
    ) -> str | None:
        """The barrier fired at ``now`` (for ``reason``): aggregate, update, seal round t.

        Appends the new error and θ to ``errors`` and ``thetas``. Returns None, or
        ``"diverged"`` when θ is not finite after the update (logged; the run stops).
        """
        sc, log = self.sc, self.log
        self.acct.barrier[reason] += 1
        extra = {"rng": np.random.default_rng(seed)} if self.server_random else None
        result = self.core.close(inbox, extra)
        log.emit(
            "barrier",
            now,
            round=t,
            reason=reason,
            heard=int(inbox.n_heard),
            received=int(inbox.n_received),
            missing=result.missing.tolist(),
        )
        if result.skipped is not None:
            self.acct.aggregate_skipped += 1
            log.emit("aggregate_skipped", now, round=t, rows=result.used, reason=result.skipped)
        else:
            log.emit(
                "aggregate",
                now,
                round=t,
                aggregator=sc.server.aggregator,
                missing_policy=sc.server.missing,
                rows=result.used,
                server_seed=seed,
                payload=log.payload(result.aggregate),
            )
        if not result.finite:
            log.emit("diverged", now, round=t, reason="θ is not finite after the update")
            log.flush()
            return "diverged"
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
        log.seal("round_end", now, round=t, duration=now - start)
        log.flush()
        if self.progress is not None:
            self.progress(t, sc.rounds)
        return None

    def end_run(self, now: float, **extra: Any) -> None:
        """The ``run_end`` seal of the finished run (``extra``: a runtime's fields)."""
        per_worker = {key: v.tolist() for key, v in self.acct.arrays().items()}
        self.log.seal(
            "run_end",
            now,
            status=self.status,
            rounds=len(self.errors) - 1,
            final_error=float(self.errors[-1]),
            counts=self.acct.totals(),
            per_worker=per_worker,
            **extra,
        )

    def result(self, path: Path | None, wall: float) -> RunResult:
        """The finished run's :class:`RunResult` (``wall``: ``perf_counter()`` at its start)."""
        sc = self.sc
        return RunResult(
            name=sc.name,
            seed=sc.seed,
            rounds=len(self.errors) - 1,
            errors=self.errors,
            thetas=self.thetas,
            theta_star=self.problem.theta_star,
            floor=paper_floor(sc),
            status=self.status,
            counts=self.acct.totals(),
            per_worker=self.acct.arrays(),
            log_path=path,
            wall_seconds=_time.perf_counter() - wall,
        )

    # ------------------------------------------------------------------ the server
    def server(self) -> simpy.events.ProcessGenerator:
        sc, env = self.sc, self.env
        errors = [self.problem.error(self.core.theta)]
        thetas = [self.core.theta.copy()]
        self.header(errors[0])
        for at, event, fault in self.timed_faults():  # logged when they happen
            timer = env.timeout(at)
            timer.callbacks.append(partial(self._log_fault, event, fault))
        status = "completed"
        for t in range(1, sc.rounds + 1):
            wait = self.pause(t, env.now)
            if wait is None:
                status = "paused"
                break
            if wait > 0:
                yield env.timeout(wait)
            start = env.now
            prep = self.prepare_round(t, start, thetas)
            if prep is None:
                status = "diverged"
                break
            self.inbox = inbox = self.core.open_round(t)
            self.barrier = barrier = env.event()
            self.quorum_armed = False
            schedule_groups(env, self.broadcast(t, start, prep), self._down_arrive, prep.rnd)
            timeout = env.timeout(sc.server.round_timeout)
            timeout.callbacks.append(partial(self._on_timer, barrier, "timeout"))
            yield barrier
            reason = self.barrier_reason
            stop = self.close_round(t, start, env.now, inbox, prep.seed, reason, errors, thetas)
            if stop is not None:
                status = stop
                break
        self.status = status
        self.errors = np.asarray(errors)
        self.thetas = np.asarray(thetas)


def run(
    scenario: Scenario,
    *,
    log_path: str | Path | bool | None = True,
    progress: Progress | None = None,
    _recording: Recording | None = None,
    _open_log: Callable[[Path | None], EventLog] | None = None,
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
    # _recording: a re-run's recorded world (bgdsim.sim.recorded); _open_log: what opens
    # the log at ``path`` (default EventLog; the live stream's LiveLog taps its lines)
    wall = _time.perf_counter()
    path = resolve_log_path(scenario, log_path)
    with (EventLog if _open_log is None else _open_log)(path) as log:
        sim = _Simulation(scenario, log, progress, _recording)
        proc = sim.env.process(sim.server())
        sim.env.run(until=proc)
        sim.end_run(sim.env.now)
    return sim.result(path, wall)
