"""The world of a run: data, links, faults and the adversary, planned one round at a time.

:class:`World` builds a scenario's components from one set of named random streams (so a
run on any runtime draws exactly the same data, Byzantine sets, messages and links) and,
when round t opens, :meth:`World.plan_round` decides everything about it at once:

1. every honest message, in one batched call: ∇f̄_j(θ_{t-1}), a mini-batch gradient, or
   a momentum buffer (:mod:`~bgdsim.engine.workers`, whose state lives here);
2. the round's links (:class:`~bgdsim.network.links.Network`: latencies, losses, compute
   times, faults), each from its own stream;
3. the adversary's choice of B_t (|B_t| ≤ q, forced workers included) and its messages,
   written having seen every honest gradient, the server's rule and the links;
4. the validation verdict of every message, send times and up-link fates.

The result, a :class:`PlannedRound`, is plain data: runtimes only decide *when* its
messages are delivered. :class:`RecordedWorld` answers the same questions from a log, so a
re-run keeps the recorded world and changes only the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from bgdsim import adversary, attacks, problems
from bgdsim.aggregators.gmom import batch_order
from bgdsim.attacks import AdversaryView
from bgdsim.engine.barrier import Barrier
from bgdsim.engine.planned import PlannedRound, given
from bgdsim.engine.recorded import RecordedAdversary, RecordedNetwork, Recording
from bgdsim.engine.server import ServerCore, build_server
from bgdsim.engine.validation import validate_block, validate_report
from bgdsim.engine.workers import HonestWorkers
from bgdsim.network.faults import FaultSchedule
from bgdsim.network.links import Network
from bgdsim.rng import Streams
from bgdsim.theory.scenario import paper_floor

if TYPE_CHECKING:
    from bgdsim.config import Scenario

__all__ = [
    "PlannedRound",
    "RecordedWorld",
    "World",
    "build_barrier",
    "build_problem",
    "paper_floor",
]


def build_problem(scenario: Scenario, streams: Streams) -> problems.Problem:
    """The scenario's problem from the run's ``data``, ``split`` and ``partition`` streams
    (what every runtime, a TCP worker and ``replay --verify`` build)."""
    data = scenario.data
    setup = problems.DataSetup(
        streams["split"], streams["partition"], None if data is None else data.partition
    )
    return problems.build(scenario.problem, scenario.cluster.workers, streams["data"], setup)


def build_barrier(scenario: Scenario) -> Barrier:
    """The barrier a scenario's ``[server]`` describes (quorum default: m − q, at least 1)."""
    srv, m, q = scenario.server, scenario.cluster.workers, scenario.cluster.byzantine
    quorum = (srv.quorum or max(m - q, 1)) if srv.barrier == "quorum" else None
    return Barrier(m, srv.round_timeout, quorum, srv.grace)


def _median(values: np.ndarray) -> float:
    """``np.median(values)``, without a partition when every value is the same."""
    if values.size and values.min() == values.max():
        return float(values[0])
    return float(np.median(values))


class World:
    """A scenario's data, network, faults and adversary, from the run's random streams."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.streams = Streams(scenario.seed)
        m, q = scenario.cluster.workers, scenario.cluster.byzantine
        self.m, self.q = m, q
        self.problem = build_problem(scenario, self.streams)
        self.workers = HonestWorkers(scenario.worker, self.problem, self.streams, scenario.rounds)
        srv = scenario.server
        step = self.problem.auto_step_size() if srv.step_size == "auto" else float(srv.step_size)
        self.step_size = step
        self.server: ServerCore = build_server(
            scenario, self.problem.initial_theta(), step, self.problem.sizes.astype(np.float64)
        )
        adv = scenario.adversary
        schedule = adversary.schedules.get(adv.schedule.kind)(
            m, q, self.streams["adversary"], srv.batches, **adv.schedule.params
        )
        attack = attacks.get(adv.attack.kind)
        self.adversary = adversary.Adversary(
            schedule, attack, dict(adv.attack.params), q, self.streams["attack"]
        )
        self.faults = FaultSchedule(list(scenario.faults), m)
        self.routes = scenario.network.topology.build(m)
        self.network: Any = Network(
            scenario.network,
            scenario.cluster,
            scenario.problem.dim,
            self.problem.sizes,
            self.faults,
            self.routes,
            self.streams,
        )
        self.recording: Recording | None = None

    def header(self) -> dict[str, Any]:
        """What the ``run_start`` line says about this world (vectors excluded)."""
        out: dict[str, Any] = {}
        if self.recording is not None:
            out["parent"] = {"log": self.recording.path.name, "digest": self.recording.digest}
        out["network"] = self.network.describe()
        data = self.problem.describe()
        if data:
            out["data"] = data
        return out

    def plan_round(self, t: int, start: float, history: list[np.ndarray]) -> PlannedRound | None:
        """Open round t at ``start`` on θ_{t-1} = the server's θ; ``history``: θ_0 … θ_{t-1}.

        Returns None when the honest gradients at θ are not finite (the run diverged).
        """
        net, core = self.network, self.server
        theta = core.theta
        with np.errstate(all="ignore"):  # θ may be huge after an attack on the mean
            honest = self.workers.messages(theta)
        if not np.isfinite(honest).all():
            return None
        lat_down, down_lost = net.broadcast(t, start)
        compute = net.compute_times()
        lat_up = net.draw_up_latencies()
        seed = int(self.streams["server"].integers(2**63))  # the server's random bits
        seen_up = net.up_latencies_seen(t, start + lat_down + compute, lat_up)
        view = self._view(t, theta, honest, np.asarray(history), seed, lat_down, seen_up, compute)
        plan = self.adversary.act(view, forced=self.faults.forced_byzantine(t))
        outgoing = plan.outgoing
        # validated once, vectorised: a verdict is a pure function of the message
        verdicts = validate_block(plan.block, max_norm=core.max_norm)
        for j in plan.loose:
            verdicts[j] = validate_report(outgoing[j], dim=core.dim, max_norm=core.max_norm)
        speaks = np.ones(len(outgoing), dtype=bool)  # only a Byzantine worker may be silent
        silent = [j for j, msg in outgoing.other.items() if msg is None]
        if silent:
            speaks[np.intersect1d(silent, plan.byzantine).astype(np.int64)] = False
        willing = ~given(down_lost) & speaks
        send_at = net.send_times(t, start, lat_down, compute, plan.delays)
        up = net.reports(t, send_at, willing, lat_up)
        return PlannedRound(
            t, start, plan, verdicts, lat_down, down_lost, send_at, up.sends, up.latency,
            up.reason, seed,
        )  # fmt: skip

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
        srv = self.scenario.server
        rule = self.server.rule
        params = rule.view_params()
        order = None
        if params.get("rebatch") and rule.pre is None:  # with pre: batches of its outputs
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
            srv.aggregator.kind,
            srv.batches,
            params=params,
            aggregate=rule.for_round(seed, self.server.state),
            missing=srv.missing,
            history=history,
            round_timeout=srv.round_timeout,
            max_norm=srv.max_norm,
            compute_time=_median(compute),
            compute_times=compute.copy(),
            latency_down=lat_down.copy(),
            latency_up=lat_up.copy(),
            batch_order=order,
            corrupted=corrupted,
            pre=[] if rule.pre is None else rule.pre.tables(),
        )


class RecordedWorld(World):
    """A logged run's world (Byzantine sets, links, faults, send times), for a re-run.

    The server is built afresh from ``scenario`` (which may change the server's keys);
    honest gradients and the attack's messages are recomputed at the new iterates.
    """

    def __init__(self, scenario: Scenario, recording: Recording) -> None:
        super().__init__(scenario)
        self.recording = recording
        self.network = RecordedNetwork(recording, self.m)
        self.adversary = RecordedAdversary(recording, self.adversary)
