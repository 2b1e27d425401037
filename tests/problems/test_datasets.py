"""Real data sets: bundled ones, a user's file, the split and the standardisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bgdsim.problems import datasets
from bgdsim.problems.datasets import load, split, standardise


def test_a_bundled_set_loads_offline_with_its_task() -> None:
    wine = load("wine")
    assert (wine.X.shape, wine.task, wine.classes) == ((178, 13), "classification", 3)
    assert load("diabetes").task == "regression"
    assert load("wine") is wine  # read once per process


def test_an_npz_file_maps_labels_to_sorted_classes(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(8.0).reshape(4, 2), y=np.array(["b", "a", "b", "c"]))
    data = load("d.npz", path=path, task="classification")
    assert data.y.tolist() == [1, 0, 1, 2]
    assert data.classes == 3
    assert data.X.tolist() == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_a_csv_file_has_its_label_last_and_may_have_a_header(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,target\n1,2,0.5\n3,4,1.5\n5,6,2.5\n", encoding="utf-8")
    data = load("d.csv", path=path, task="regression")
    assert data.X.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert data.y.tolist() == [0.5, 1.5, 2.5]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.txt", b"1,2\n", "must be .npz"),
        ("x.csv", b"1,2\n3\n", "rows of equal length"),
        ("x.csv", b"1,a,0\n2,b,1\n", "a feature is not a number"),
        ("x.csv", b"1,0\n2,0\n", "1 distinct labels"),
        ("x.npz", b"not a zip", "not a readable .npz"),
    ],
)
def test_a_bad_file_is_refused_by_name(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load(name, path=path, task="classification")


def test_a_file_must_exist_be_regular_and_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="no such data file"):
        load("gone.npz", path=tmp_path / "gone.npz")
    with pytest.raises(ValueError, match="a directory"):
        load("dir.npz", path=tmp_path)
    big = tmp_path / "big.csv"
    big.write_text("1,0\n2,1\n" * 10, encoding="utf-8")
    monkeypatch.setattr(datasets, "MAX_DATA_BYTES", 16)
    with pytest.raises(ValueError, match="too large"):
        load("big.csv", path=big)


def test_npz_needs_x_and_y(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((3, 2)))
    with pytest.raises(ValueError, match="no array 'y'"):
        load("d.npz", path=path)


def test_split_holds_out_a_seeded_fraction() -> None:
    train, test = split(10, 0.3, np.random.default_rng(5))
    again = split(10, 0.3, np.random.default_rng(5))
    assert (train.size, test.size) == (7, 3)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    assert sorted([*train, *test]) == list(range(10))
    assert split(10, 0.0, np.random.default_rng(5))[1].size == 0


def test_standardise_uses_the_training_statistics_and_adds_an_intercept() -> None:
    X = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0], [9.0, 0.0]])
    tr, te = standardise(X, np.array([0, 1, 2]), np.array([3]))
    # feature 0: μ = 3, σ = √(8/3); feature 1 is constant in training: σ taken as 1
    s = np.sqrt(8 / 3)
    assert np.allclose(tr, [[-2 / s, 0, 1], [0, 0, 1], [2 / s, 0, 1]])
    assert np.allclose(te, [[6 / s, -7, 1]])
