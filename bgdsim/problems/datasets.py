"""Real data sets: scikit-learn's bundled ones and a user's own ``.npz`` / ``.csv`` file.

:func:`load` returns a :class:`Dataset` — features ``X`` ``(n, p)`` float64 and targets
``y`` ``(n,)`` (class indices 0..C−1 for classification, floats for regression) — read
once per process and cached. The bundled sets (``digits``, ``breast_cancer``, ``wine``:
classification; ``diabetes``: regression) ship inside scikit-learn and load offline. A
file is read with the project's input rules (:func:`bgdsim.paths.read_bounded`: a regular
file of at most :data:`MAX_DATA_BYTES`); a relative path is taken relative to the scenario
file (:func:`data_base_dir`).

:func:`split` holds out a seeded test fraction; :func:`standardise` centres and scales the
features (and a regression target) with the *training* set's mean and standard deviation
and appends an intercept column of ones.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bgdsim.paths import read_input

__all__ = [
    "BUNDLED",
    "MAX_CLASSES",
    "MAX_DATA_BYTES",
    "Dataset",
    "data_base_dir",
    "load",
    "resolve_data_path",
    "split",
    "standardise",
]

#: scikit-learn's bundled sets: name -> (loader in sklearn.datasets, task)
BUNDLED = {
    "digits": ("load_digits", "classification"),
    "breast_cancer": ("load_breast_cancer", "classification"),
    "wine": ("load_wine", "classification"),
    "diabetes": ("load_diabetes", "regression"),
}
#: the largest data file read: 256 MiB
MAX_DATA_BYTES = 256 << 20
#: the most distinct labels a classification data set may have
MAX_CLASSES = 1000

_BASE_DIR: ContextVar[Path | None] = ContextVar("bgdsim_data_base_dir", default=None)
_CACHE: dict[tuple[str, str], Dataset] = {}


@dataclass(frozen=True)
class Dataset:
    """A data set as read: features, targets, its task and a digest of its contents."""

    name: str
    X: np.ndarray  # (n, p) float64
    y: np.ndarray  # (n,): labels 0..C-1 (int64) or real targets (float64)
    task: str  # "classification" | "regression"
    digest: str  # BLAKE2b of X and y: a changed file is a different data set

    @property
    def classes(self) -> int:
        """C, the number of classes (1 for regression)."""
        return int(self.y.max()) + 1 if self.task == "classification" else 1


@contextmanager
def data_base_dir(path: str | os.PathLike[str] | None) -> Iterator[None]:
    """Resolve relative data-file paths against ``path`` (a directory) inside the ``with``."""
    token = _BASE_DIR.set(None if path is None else Path(path).expanduser().absolute())
    try:
        yield
    finally:
        _BASE_DIR.reset(token)


def resolve_data_path(path: str | os.PathLike[str]) -> Path:
    """The absolute path of a data file: ``~`` expanded, a relative path joined to the base."""
    p = Path(path).expanduser()
    if not p.is_absolute():
        base = _BASE_DIR.get()
        p = (base if base is not None else Path.cwd()) / p
    return p.resolve()


def load(source: str, *, path: Path | None = None, task: str | None = None) -> Dataset:
    """A bundled set by name, or the file ``source`` (``.npz`` or ``.csv``) at ``path``
    (default: ``source`` resolved by :func:`resolve_data_path`).

    ``task`` says how a file's last column (or ``y``) is read: ``classification`` maps its
    distinct values to 0..C−1 in sorted order; ``regression`` keeps them as floats.

    Raises:
        ValueError: an unknown name, or a file that is missing, unreadable or malformed
            (the message says which, without a traceback).
    """
    if source in BUNDLED:
        key = (source, "")
    else:
        key = (str(path or resolve_data_path(source)), task or "classification")
    cached = _CACHE.get(key)
    if cached is None:
        cached = _CACHE[key] = _bundled(source) if source in BUNDLED else _file(source, key)
    return cached


def _bundled(name: str) -> Dataset:
    import sklearn.datasets  # heavy: imported only when a bundled set is used

    loader, task = BUNDLED[name]
    X, y = getattr(sklearn.datasets, loader)(return_X_y=True)
    return _dataset(name, np.asarray(X, dtype=np.float64), np.asarray(y), task)


def _file(source: str, key: tuple[str, str]) -> Dataset:
    path, task = Path(key[0]), key[1]
    raw = read_input(path, MAX_DATA_BYTES, source=source, what="data file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        X, y = _npz(source, raw)
    elif suffix == ".csv":
        X, y = _csv(source, raw)
    else:
        raise ValueError(f"{source}: a data file must be .npz (arrays X, y) or .csv")
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"{source}: X must be a 2-D array of >= 2 rows, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"{source}: y has shape {y.shape}, expected ({X.shape[0]},)")
    if not np.isfinite(X).all():
        raise ValueError(f"{source}: X has values that are not finite")
    if task == "classification":
        labels, y = np.unique(y, return_inverse=True)
        if labels.size < 2 or labels.size > MAX_CLASSES:
            raise ValueError(f"{source}: {labels.size} distinct labels; a classification "
                             f"data set needs 2..{MAX_CLASSES}")  # fmt: skip
    else:
        try:
            y = y.astype(np.float64)
        except ValueError:
            raise ValueError(f"{source}: the targets are not numbers") from None
        if not np.isfinite(y).all():
            raise ValueError(f"{source}: the targets have values that are not finite")
    return _dataset(source, X, y, task)


def _npz(source: str, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            missing = [k for k in ("X", "y") if k not in npz.files]
            if missing:
                raise ValueError(f"{source}: no array {missing[0]!r} (an .npz needs X and y)")
            X, y = npz["X"], npz["y"]
    except ValueError as exc:
        if str(exc).startswith(source):
            raise
        raise ValueError(f"{source}: not a readable .npz file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise ValueError(f"{source}: not a readable .npz file ({exc})") from None
    if X.dtype.kind not in "iuf" or y.dtype.kind not in "iufUSb":
        raise ValueError(f"{source}: X must be numeric, y numbers or strings")
    return X.astype(np.float64), y


def _csv(source: str, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{source}: not a UTF-8 text file") from None
    rows = [line.split(",") for line in text.splitlines() if line.strip()]
    if rows and not _numeric(rows[0][0]):
        rows = rows[1:]  # a header line
    if not rows or any(len(r) != len(rows[0]) for r in rows) or len(rows[0]) < 2:
        raise ValueError(f"{source}: a .csv needs rows of equal length, >= 1 feature and "
                         "the label in the last column")  # fmt: skip
    try:
        X = np.array([[float(c) for c in r[:-1]] for r in rows], dtype=np.float64)
    except ValueError:
        raise ValueError(f"{source}: a feature is not a number") from None
    labels = [r[-1].strip() for r in rows]
    y: np.ndarray = (
        np.array([float(v) for v in labels]) if all(map(_numeric, labels)) else np.array(labels)
    )
    return X, y


def _numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _dataset(name: str, X: np.ndarray, y: np.ndarray, task: str) -> Dataset:
    y = y.astype(np.int64) if task == "classification" else y.astype(np.float64)
    h = hashlib.blake2b(digest_size=16)
    h.update(np.ascontiguousarray(X).tobytes())
    h.update(np.ascontiguousarray(y).tobytes())
    X.setflags(write=False)
    y.setflags(write=False)
    return Dataset(name, X, y, task, h.hexdigest())


def split(n: int, test_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and test sets: a seeded shuffle, the last ⌊f·n⌉ held out.

    >>> train, test = split(10, 0.2, np.random.default_rng(0))
    >>> len(train), len(test), sorted([*train, *test]) == list(range(10))
    (8, 2, True)
    """
    order = rng.permutation(n)
    n_test = round(test_fraction * n)
    return np.sort(order[: n - n_test]), np.sort(order[n - n_test :])


def standardise(X: np.ndarray, train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, ...]:
    """(X − μ)/σ with the training rows' μ, σ (σ = 1 for a constant feature), then a
    column of ones (the intercept): the training rows and the test rows.

    >>> tr, te = standardise(np.array([[1.0], [3.0], [5.0]]), np.array([0, 1]), np.array([2]))
    >>> tr.tolist(), te.tolist()
    ([[-1.0, 1.0], [1.0, 1.0]], [[3.0, 1.0]])
    """
    mu = X[train].mean(axis=0)
    sd = X[train].std(axis=0)
    sd[sd == 0] = 1.0
    return tuple(
        np.hstack([(X[rows] - mu) / sd, np.ones((rows.size, 1))]) for rows in (train, test)
    )
