"""Loss models: which messages a link loses.

A loss model is a small validated config object (pydantic), registered under its
``kind`` so that a scenario names it as ``loss = { kind = "gilbert_elliott",
loss_rate = 0.05, burst = 4 }``. A model holds no per-run state: a run asks it for a
:class:`LossState` covering its links (``model.new_state(links, rng)``), then, for each
batch of messages, ``state.lose(rng, link_indices)`` says which of them are lost and
advances those links (and only those) by one message.

=================  ==================================  ==================================
kind               parameters (defaults)               loss process
=================  ==================================  ==================================
iid                ``p`` in [0, 1] (0.01)              each message lost with prob. p
gilbert_elliott    ``loss_rate`` in [0, 1) (0.01),     a good/bad Markov chain per link,
                   ``burst`` ≥ 1 (5), ``loss_good``    one step per message: losses
                   (0), ``loss_bad`` (1) in [0, 1]     come in runs of mean ``burst``
=================  ==================================  ==================================

Gilbert-Elliott, in the parameters users think in. A link is *good* or *bad*; a message
sent on it is lost with probability ``loss_good`` or ``loss_bad`` given the current
state, then the chain steps: bad → good with probability p_BG, good → bad with p_GB.
The model chooses

* p_BG = 1 / ``burst``, so the mean sojourn in the bad state is ``burst`` messages;
* π_B = (``loss_rate`` − ``loss_good``) / (``loss_bad`` − ``loss_good``), the fraction of
  messages sent in the bad state that makes the long-run loss rate
  (1 − π_B)·``loss_good`` + π_B·``loss_bad`` equal ``loss_rate``;
* p_GB = π_B · p_BG / (1 − π_B), which makes π_B the chain's stationary bad fraction.

With the defaults (``loss_good`` = 0, ``loss_bad`` = 1) the bad state loses everything
and the good state nothing, so π_B = ``loss_rate``, p_GB = loss_rate / (burst·(1 −
loss_rate)), and a run of consecutive losses is exactly a bad sojourn: its mean length is
``burst``. With other ``loss_good``/``loss_bad``, ``burst`` is the mean bad sojourn (runs
of losses are then shorter, and scattered losses occur in the good state).

Not every combination is achievable: ``loss_good`` ≤ ``loss_rate`` ≤ ``loss_bad`` is
needed (a mix of the two states' rates), and p_GB ≤ 1, i.e. π_B ≤ burst / (1 + burst),
since a good run lasts at least one message. Each link's initial state is drawn from the
stationary distribution, so the loss rate is ``loss_rate`` from the first message on.
When ``loss_good`` = ``loss_bad`` (= ``loss_rate``) the states are indistinguishable and
every link stays good.

The parameter is ``loss_rate`` in scenarios, in the constructor and in dumps; in Python
the field is ``rate`` (``loss_rate()`` is the long-run loss rate method every model has).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from bgdsim.network._tables import parse_table
from bgdsim.registry import Registry

__all__ = [
    "GilbertElliottLoss",
    "GilbertElliottState",
    "IIDLoss",
    "IIDLossState",
    "LossModel",
    "LossState",
    "losses",
    "parse_loss",
]

# p_GB may exceed 1 by rounding at the boundary π_B = burst / (1 + burst).
_ROUNDING = 1e-12


class LossState:
    """The loss state of ``links`` links of one run (one Markov chain per link, or none)."""

    def __init__(self, links: int) -> None:
        self.links = links

    def lose(self, rng: np.random.Generator, links: np.ndarray) -> np.ndarray:
        """One message on each of the (distinct) ``links``; which are lost (bool, same order).

        Advances those links' states by one message; the other links do not move.
        """
        raise NotImplementedError

    def _check(self, links: np.ndarray) -> np.ndarray:
        idx = np.asarray(links)
        if idx.ndim != 1:
            raise ValueError(f"links must be a 1-d array of link indices, got shape {idx.shape}")
        if idx.size == 0:
            return idx.astype(np.intp)
        if idx.dtype.kind not in "iu":
            raise ValueError(f"links must be integer link indices, got dtype {idx.dtype}")
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= self.links:
            bad = lo if lo < 0 else hi
            raise ValueError(f"link index {bad} out of range for {self.links} links")
        # Increasing (np.flatnonzero's output) is distinct; otherwise sort to check.
        if not (idx[1:] > idx[:-1]).all() and np.unique(idx).size != idx.size:
            raise ValueError("links must be distinct: one message per link per call")
        return idx


class LossModel(BaseModel):
    """Base class: how a link loses messages."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    kind: str
    summary: ClassVar[str] = ""

    def new_state(self, links: int, rng: np.random.Generator) -> LossState:
        """A fresh state for ``links`` links (initial states drawn from ``rng`` if any)."""
        raise NotImplementedError

    def loss_rate(self) -> float:
        """Long-run fraction of messages lost."""
        raise NotImplementedError


def _check_links(links: int) -> int:
    if isinstance(links, bool) or not isinstance(links, (int, np.integer)) or links < 0:
        raise ValueError(f"links must be an integer >= 0, got {links!r}")
    return int(links)


losses: Registry[type[LossModel]] = Registry("loss model")


class IIDLossState(LossState):
    """Independent losses: nothing to remember."""

    def __init__(self, links: int, p: float) -> None:
        super().__init__(links)
        self.p = p

    def lose(self, rng: np.random.Generator, links: np.ndarray) -> np.ndarray:
        idx = self._check(links)
        return rng.random(idx.size) < self.p


@losses.register("iid")
class IIDLoss(LossModel):
    """Each message is lost independently with probability ``p``."""

    summary: ClassVar[str] = "each message lost independently with probability p"
    kind: Literal["iid"] = "iid"
    p: float = Field(0.01, ge=0, le=1, allow_inf_nan=False)

    def new_state(self, links: int, rng: np.random.Generator) -> IIDLossState:
        return IIDLossState(_check_links(links), self.p)

    def loss_rate(self) -> float:
        return self.p


class GilbertElliottState(LossState):
    """One good/bad chain per link; ``bad`` is a copy of the current states."""

    def __init__(
        self, bad: np.ndarray, p_gb: float, p_bg: float, loss_good: float, loss_bad: float
    ) -> None:
        super().__init__(bad.size)
        self._bad = bad
        self.p_gb, self.p_bg = p_gb, p_bg
        self.loss_good, self.loss_bad = loss_good, loss_bad

    @property
    def bad(self) -> np.ndarray:
        """Which links are in the bad state now (a copy)."""
        return self._bad.copy()

    def lose(self, rng: np.random.Generator, links: np.ndarray) -> np.ndarray:
        idx = self._check(links)
        bad = self._bad[idx]
        u = rng.random((2, idx.size))
        lost = u[0] < np.where(bad, self.loss_bad, self.loss_good)
        self._bad[idx] = np.where(bad, u[1] >= self.p_bg, u[1] < self.p_gb)
        return lost


@losses.register("gilbert_elliott")
class GilbertElliottLoss(LossModel):
    """Bursty losses: a good/bad Markov chain per link, runs of losses of mean ``burst``."""

    summary: ClassVar[str] = (
        "bursty: long-run loss_rate, runs of consecutive losses of mean length burst"
    )
    kind: Literal["gilbert_elliott"] = "gilbert_elliott"
    rate: float = Field(0.01, alias="loss_rate", ge=0, lt=1, allow_inf_nan=False)
    burst: float = Field(5.0, ge=1, allow_inf_nan=False)
    loss_good: float = Field(0.0, ge=0, le=1, allow_inf_nan=False)
    loss_bad: float = Field(1.0, ge=0, le=1, allow_inf_nan=False)

    @model_validator(mode="after")
    def _achievable(self) -> GilbertElliottLoss:
        r, g, b = self.rate, self.loss_good, self.loss_bad
        if g > b:
            raise ValueError(f"loss_good ({g}) must be <= loss_bad ({b})")
        if not g <= r <= b:
            raise ValueError(
                f"loss_rate ({r}) must lie between loss_good ({g}) and loss_bad ({b}): "
                "the long-run loss rate is a mix of the two states' loss rates"
            )
        pi = self.stationary_bad
        if pi >= 1:
            raise ValueError(
                f"loss_rate ({r}) equals loss_bad ({b}) > loss_good ({g}): links would have "
                "to stay bad forever; lower loss_rate or raise loss_bad"
            )
        if pi * (1 + self.burst) > self.burst * (1 + _ROUNDING):
            raise ValueError(
                f"loss_rate ({r}) needs the bad state {pi:.4g} of the time, but with burst "
                f"({self.burst}) it can be at most burst/(1+burst) = "
                f"{self.burst / (1 + self.burst):.4g} (a good run lasts at least one "
                f"message): raise burst to >= {pi / (1 - pi):.4g} or lower loss_rate"
            )
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if "rate" in data:  # dumps use the scenario's name for it
            data = {("loss_rate" if k == "rate" else k): v for k, v in data.items()}
        return data

    @property
    def stationary_bad(self) -> float:
        """π_B, the long-run fraction of messages sent in the bad state."""
        if self.loss_bad == self.loss_good:
            return 0.0
        return (self.rate - self.loss_good) / (self.loss_bad - self.loss_good)

    @property
    def p_bad_to_good(self) -> float:
        """p_BG = 1 / burst."""
        return 1.0 / self.burst

    @property
    def p_good_to_bad(self) -> float:
        """p_GB = π_B · p_BG / (1 − π_B)."""
        pi = self.stationary_bad
        return min(1.0, pi * self.p_bad_to_good / (1 - pi))

    def new_state(self, links: int, rng: np.random.Generator) -> GilbertElliottState:
        bad = rng.random(_check_links(links)) < self.stationary_bad
        return GilbertElliottState(
            bad, self.p_good_to_bad, self.p_bad_to_good, self.loss_good, self.loss_bad
        )

    def loss_rate(self) -> float:
        return self.rate


def _param_name(cls: type[LossModel], field: str) -> str:
    alias = cls.model_fields[field].alias
    return alias if alias else field


def parse_loss(value: Any) -> LossModel:
    """Build a loss model from a TOML table ``{kind = ..., ...}`` (or pass one through)."""
    return parse_table(
        value,
        base=LossModel,
        registry=losses,
        default_kind="iid",
        example='{ kind = "iid", p = 0.01 }',
        label="loss",
    )
