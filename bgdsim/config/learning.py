"""The scenario's learning tables: a data file, ``[data]`` (the partition) and ``[worker]``.

``problem.dataset`` is a bundled set's name or :class:`DatasetFile` (``{ kind = "file",
path = "data.npz" }``, read relative to the scenario file). ``[data] partition`` is a
component table (:data:`PARTITIONS`: ``iid`` | ``dirichlet`` | ``quantity`` | ``drift``)
or a bare name. A parameter named ``kind`` inside a component table is the component's
name; unknown names and keys are refused with "did you mean".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, model_validator

from bgdsim._section import Section as _Section
from bgdsim.problems.datasets import BUNDLED, resolve_data_path
from bgdsim.registry import did_you_mean

__all__ = [
    "PARTITIONS",
    "DataConfig",
    "DatasetFile",
    "DirichletPartition",
    "DriftPartition",
    "IidPartition",
    "QuantityPartition",
    "WorkerConfig",
    "parse_dataset",
]


class DatasetFile(_Section):
    """A user's own data set: ``.npz`` with arrays ``X`` (n, p) and ``y`` (n,), or
    ``.csv`` with the label (or regression target) in the last column."""

    kind: Literal["file"] = "file"
    path: str = Field(min_length=1, description="the file, relative to the scenario file")
    _resolved: str = PrivateAttr("")

    @model_validator(mode="after")
    def _resolve(self) -> DatasetFile:
        self._resolved = str(resolve_data_path(self.path))
        return self

    @property
    def resolved_path(self) -> Path:
        """The absolute path the file is read from."""
        return Path(self._resolved)


def parse_dataset(v: Any) -> Any:
    """A bundled set's name, or a ``{ kind = "file", path = ... }`` table."""
    if v is None or isinstance(v, DatasetFile):
        return v
    if isinstance(v, str):
        if v not in BUNDLED:
            raise ValueError(f"unknown data set '{v}'{did_you_mean(v, list(BUNDLED))}; "
                             f"bundled: {', '.join(BUNDLED)}, or {{ kind = \"file\", "
                             "path = ... }")  # fmt: skip
        return v
    if isinstance(v, dict):
        kind = v.get("kind", "file")
        if kind != "file":
            raise ValueError(f"kind: unknown data set kind {kind!r}"
                             f"{did_you_mean(str(kind), ['file'])}; allowed: file")  # fmt: skip
        return DatasetFile(**v)
    raise ValueError(f"must be a data set name or a file table, got {v!r}")


class IidPartition(_Section):
    """Samples shared out uniformly at random (the paper's i.i.d. workers)."""

    kind: Literal["iid"] = "iid"


class DirichletPartition(_Section):
    """Label skew: each class's samples split by p ~ Dir(α·1_m) (Hsu et al. 2019)."""

    kind: Literal["dirichlet"] = "dirichlet"
    alpha: float = Field(0.5, gt=0, allow_inf_nan=False, description="concentration α")


class QuantityPartition(_Section):
    """Quantity skew: local sizes n_j ∝ q_j, q ~ Dir(α·1_m)."""

    kind: Literal["quantity"] = "quantity"
    alpha: float = Field(1.0, gt=0, allow_inf_nan=False, description="concentration α")


class DriftPartition(_Section):
    """Heterogeneous optima (linear regression): worker j's θ*_j = θ* + δ_j, with
    δ_j ~ N(0, (scale²/d)·I_d) (so E‖δ_j‖² = scale²); θ* is their size-weighted mean."""

    kind: Literal["drift"] = "drift"
    scale: float = Field(0.1, ge=0, allow_inf_nan=False, description="drift size")


PARTITIONS: dict[str, type[_Section]] = {
    "iid": IidPartition,
    "dirichlet": DirichletPartition,
    "quantity": QuantityPartition,
    "drift": DriftPartition,
}
Partition = IidPartition | DirichletPartition | QuantityPartition | DriftPartition


def _partition(v: Any) -> Any:
    if isinstance(v, str):
        v = {"kind": v}
    if isinstance(v, dict):
        kind = v.get("kind")
        if kind not in PARTITIONS:
            raise ValueError(f"kind: unknown partition {kind!r}"
                             f"{did_you_mean(str(kind), list(PARTITIONS))}; "
                             f"allowed: {', '.join(PARTITIONS)}")  # fmt: skip
        return PARTITIONS[kind](**v)
    return v


class DataConfig(_Section):
    """``[data]``: how the training samples are shared out over the workers."""

    partition: Annotated[Partition, BeforeValidator(_partition)] = Field(
        default_factory=IidPartition,
        description="iid | dirichlet (alpha) | quantity (alpha) | drift (scale)",
    )


class WorkerConfig(_Section):
    """``[worker]``: what an honest worker sends (absent: its full local gradient)."""

    batch_size: int | None = Field(
        None, ge=1, description="mini-batch size b; absent: the full local gradient"
    )
    sampling: Literal["without_replacement", "with_replacement"] = Field(
        "without_replacement", description="how a mini-batch is drawn from the local samples"
    )
    momentum: float | None = Field(
        None, ge=0, lt=1, allow_inf_nan=False, description="β: send m_t = β m_{t−1} + (1−β) g_t"
    )
