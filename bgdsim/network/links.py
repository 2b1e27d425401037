"""Every link of a run, one round at a time: latencies, losses, compute times, faults.

:class:`Network` turns the scenario's ``[network]`` table (default models, per-worker
``groups`` overrides, bandwidth, topology) and its ``[[faults]]`` into per-round arrays,
drawn in a few vectorised calls from their own named streams:

* the broadcast: each down-link's latency and whether (and why) the message is lost;
* the workers' compute times;
* the reports: each up-link's latency and whether (and why) the report is lost.

A message's latency is its last-mile link's draw, plus the transmission time
(message bytes / bandwidth), plus a draw for every relay hop above the last mile; a
``degrade`` fault multiplies it. A message is lost if its last-mile link loses it (i.i.d.
or Gilbert–Elliott, one chain step per message), if a relay hop drops it, if a degrade
fault's extra drop hits, or if a partition, a crashed worker or a crashed relay is in the
way. The reason is kept (``loss``, ``partition``, ``crash``, ``relay``) and logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bgdsim.network.faults import FaultSchedule
from bgdsim.network.latency import LatencyModel, message_bytes, transmission_time
from bgdsim.network.loss import IIDLoss, LossModel, LossState
from bgdsim.rng import Streams

if TYPE_CHECKING:
    from bgdsim.config import ClusterConfig, NetworkConfig
    from bgdsim.network.topology import Routes

__all__ = ["Network", "UpLinks"]


@dataclass
class _Segment:
    """Workers that share one link configuration (a group, or everyone else)."""

    workers: np.ndarray
    latency: LatencyModel
    loss: LossModel
    transmit: float  # seconds per message
    down: LossState
    up: LossState


@dataclass
class UpLinks:
    """A round's up-links, decided when the round opens.

    Attributes:
        latency: ``(m,)`` seconds each report travels.
        reason: per worker, why its report is lost (None: it is not).
        sends: per worker, whether it sends at all (a crashed worker does not).
    """

    latency: np.ndarray
    reason: list[str | None]
    sends: np.ndarray


class Network:
    """The links of one run.

    Args:
        config: the scenario's ``[network]`` table.
        cluster: the ``[cluster]`` table (compute times).
        dim: d (message size).
        sizes: ``(m,)`` local sample counts (for compute time per sample).
        faults: the run's fault schedule.
        routes: the built topology.
        streams: the run's named random streams.
    """

    def __init__(
        self,
        config: NetworkConfig,
        cluster: ClusterConfig,
        dim: int,
        sizes: np.ndarray,
        faults: FaultSchedule,
        routes: Routes,
        streams: Streams,
    ) -> None:
        m = sizes.shape[0]
        self.m = m
        self.faults = faults
        self.routes = routes
        nbytes = message_bytes(dim)
        default_loss: LossModel = config.loss if config.loss is not None else IIDLoss(p=config.drop)
        rng_state = streams["loss.init"]
        rest = np.ones(m, dtype=bool)
        self.segments: list[_Segment] = []
        for group in config.groups:
            w = np.asarray(sorted(group.workers), dtype=np.int64)
            rest[w] = False
            loss = group.loss if group.loss is not None else default_loss
            bw = group.bandwidth if group.bandwidth is not None else config.bandwidth
            self.segments.append(
                _Segment(
                    w,
                    group.latency or config.latency,
                    loss,
                    transmission_time(nbytes, bw),
                    loss.new_state(w.size, rng_state),
                    loss.new_state(w.size, rng_state),
                )
            )
        w = np.flatnonzero(rest)
        if w.size:
            self.segments.insert(
                0,
                _Segment(
                    w,
                    config.latency,
                    default_loss,
                    transmission_time(nbytes, config.bandwidth),
                    default_loss.new_state(w.size, rng_state),
                    default_loss.new_state(w.size, rng_state),
                ),
            )
        self.compute_model: LatencyModel | None = cluster.compute_time_model()
        self.compute_scale = sizes / sizes.mean() if cluster.compute_per_sample else None
        self.rng = {
            name: streams[name]
            for name in (
                "latency.down",
                "latency.up",
                "loss.down",
                "loss.up",
                "hops.latency",
                "hops.loss",
                "degrade",
                "compute",
            )
        }
        self._relay_workers = {
            r: np.asarray(routes.workers_under(r), dtype=np.int64)
            for f in faults.faults
            for r in f.relays
        }

    # ------------------------------------------------------------------ pieces
    def _latencies(self, stream: str) -> np.ndarray:
        lat = np.empty(self.m)
        rng = self.rng[stream]
        for seg in self.segments:
            lat[seg.workers] = seg.latency.sample(rng, seg.workers.size) + seg.transmit
        for h, hop in enumerate(self.routes.hops):
            users = self.routes.users(h)
            lat[users] += hop.latency.sample(self.rng["hops.latency"], users.size)
        return lat

    def _losses(self, direction: str, senders: np.ndarray) -> np.ndarray:
        """Which of the senders' messages the links lose (last mile, relay hops)."""
        lost = np.zeros(self.m, dtype=bool)
        rng = self.rng[f"loss.{direction}"]
        for seg in self.segments:
            local = np.flatnonzero(senders[seg.workers])
            if local.size:
                state = seg.down if direction == "down" else seg.up
                lost[seg.workers[local]] = state.lose(rng, local)
        for h, hop in enumerate(self.routes.hops):
            if hop.drop > 0:
                users = self.routes.users(h)
                users = users[senders[users]]
                lost[users] |= self.rng["hops.loss"].random(users.size) < hop.drop
        return lost

    def _relay_cut(self, t: int, times: np.ndarray) -> np.ndarray:
        cut = np.zeros(self.m, dtype=bool)
        for f in self.faults.faults:
            if f.kind != "crash" or not f.relays:
                continue
            for r in f.relays:
                w = self._relay_workers[r]
                cut[w] |= f.hits(t, w, times)
        return cut

    def _degrade(self, t: int, times: np.ndarray, lat: np.ndarray, lost: np.ndarray) -> None:
        factor, drop = self.faults.degrade_at(t, times)
        lat *= factor
        hit = np.flatnonzero(drop > 0)
        if hit.size:
            lost[hit] |= self.rng["degrade"].random(hit.size) < drop[hit]

    @staticmethod
    def _reasons(m: int, causes: list[tuple[str, np.ndarray]]) -> list[str | None]:
        reason: list[str | None] = [None] * m
        for name, mask in causes:  # later causes win: the most specific is named
            for j in np.flatnonzero(mask).tolist():
                reason[j] = name
        return reason

    # ------------------------------------------------------------------ a round
    def broadcast(self, t: int, start: float) -> tuple[np.ndarray, list[str | None]]:
        """Down-links of round t, sent at ``start``: latencies and loss reasons."""
        m = self.m
        lat = self._latencies("latency.down")
        now = np.full(m, start)
        lost = self._losses("down", np.ones(m, dtype=bool))
        self._degrade(t, now, lat, lost)
        partition = self.faults.masks_at("partition", t, now)
        relay = self._relay_cut(t, now)
        crashed = self.faults.masks_at("crash", t, start + lat)  # down when it arrives
        causes = [("loss", lost), ("partition", partition), ("relay", relay), ("crash", crashed)]
        return lat, self._reasons(m, causes)

    def compute_times(self) -> np.ndarray:
        """``(m,)`` seconds each worker computes this round."""
        if self.compute_model is None:
            return np.zeros(self.m)
        c = self.compute_model.sample(self.rng["compute"], self.m)
        return c * self.compute_scale if self.compute_scale is not None else c

    def send_times(
        self, t: int, start: float, lat_down: np.ndarray, compute: np.ndarray, delays: np.ndarray
    ) -> np.ndarray:
        """When each worker would send its report: broadcast + down-link + compute + delay."""
        return start + lat_down + compute + delays

    def draw_up_latencies(self) -> np.ndarray:
        """``(m,)`` up-link latencies before faults (drawn for every link, every round)."""
        return self._latencies("latency.up")

    def up_latencies_seen(self, t: int, times: np.ndarray, latency: np.ndarray) -> np.ndarray:
        """``latency`` (:meth:`draw_up_latencies`) as reports sent at ``times`` will see it:
        slowed by the ``degrade`` faults then (what the adversary's view shows)."""
        factor, _ = self.faults.degrade_at(t, times)
        out: np.ndarray = latency * factor
        return out

    def reports(
        self, t: int, send_times: np.ndarray, willing: np.ndarray, latency: np.ndarray
    ) -> UpLinks:
        """Up-links of round t for workers that would send at ``send_times``.

        ``willing``: the workers that got the broadcast and have something to send;
        ``latency``: this round's :meth:`draw_up_latencies`.
        """
        lat = latency.copy()
        sends = willing & ~self.faults.masks_at("crash", t, send_times)
        lost = self._losses("up", sends)
        self._degrade(t, send_times, lat, lost)
        partition = self.faults.masks_at("partition", t, send_times)
        relay = self._relay_cut(t, send_times)
        causes = [("loss", lost), ("partition", partition), ("relay", relay)]
        reason = self._reasons(self.m, [(n, mask & sends) for n, mask in causes])
        return UpLinks(lat, reason, sends)

    def describe(self) -> dict[str, Any]:
        """Loss rates and relays, for the log header."""
        return {
            "segments": [
                {"workers": int(s.workers.size), "loss_rate": s.loss.loss_rate()}
                for s in self.segments
            ],
            "hops": [h.name for h in self.routes.hops],
        }
