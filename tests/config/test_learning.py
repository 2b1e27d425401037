"""Config of real data and partitions: names, "did you mean", exit 2 on bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bgdsim.cli import main
from bgdsim.config import ScenarioError, load_scenario


def load(path: Path | None = None, **overrides: Any) -> Any:
    return load_scenario(
        path, overrides={"cluster.byzantine": 0, "server.aggregator.batches": 2, **overrides}
    )


def bad(**overrides: Any) -> str:
    with pytest.raises(ScenarioError) as info:
        load(**overrides)
    return str(info.value)


def test_a_data_set_fixes_dim_and_samples() -> None:
    sc = load(**{"problem.kind": "softmax_regression", "problem.dataset": "digits",
                 "problem.test_fraction": 0.2, "cluster.workers": 20})  # fmt: skip
    assert (sc.problem.dim, sc.problem.samples) == (65 * 10, 1797 - 359)
    assert load(**{"problem.dataset": "diabetes", "cluster.workers": 4}).problem.dim == 11


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"problem.dataset": "digit"}, "unknown data set 'digit' (did you mean 'digits'?)"),
        ({"problem.kind": "softmax_regression"}, "softmax_regression needs a data set"),
        ({"problem.test_fraction": 0.2}, "test_fraction: needs problem.dataset"),
        ({"problem.dataset": "digits"}, "'digits' is a classification data set"),
        ({"problem.kind": "logistic_regression", "problem.dataset": "wine"}, "has 3 classes"),
        ({"problem.kind": "softmax_regression", "problem.dataset": "wine", "problem.dim": 3},
         "dim: is 3 but the data set gives 42"),
        ({"problem.kind": "softmax_regression", "problem.dataset": "wine", "problem.l2": 0.0},
         "l2: must be > 0 for classification"),
        ({"problem.kind": "softmax_regression", "problem.dataset": "wine",
          "problem.test_fraction": 0.99, "cluster.workers": 4},
         "test_fraction: leaves 2 training samples for 4 workers"),
        ({"problem.dataset": {"kind": "fil", "path": "x.npz"}}, "did you mean 'file'"),
        ({"data.partition": "dirichlet"}, "dirichlet shares out a data set"),
        ({"data.partition": {"kind": "dirichlett"}}, "did you mean 'dirichlet'"),
        ({"data.partition": {"kind": "dirichlet", "alpha": 0}}, "alpha"),
        ({"data.partition": {"kind": "quantity", "alfa": 1}}, "alfa: unknown key (did you mean"),
    ],
)  # fmt: skip
def test_bad_learning_keys_are_named(overrides: dict[str, Any], message: str) -> None:
    assert message in bad(**overrides)


def test_a_data_file_is_relative_to_the_scenario(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mine.npz", X=rng.standard_normal((40, 3)), y=rng.integers(0, 3, 40))
    toml = tmp_path / "s.toml"
    toml.write_text(
        '[problem]\nkind = "softmax_regression"\ndataset = { kind = "file", path = "mine.npz" }'
        "\n[cluster]\nworkers = 4\nbyzantine = 0\n[server]\n"
        'aggregator = { kind = "gmom", batches = 2 }\n',
        encoding="utf-8",
    )
    sc = load_scenario(toml)
    assert (sc.problem.dim, sc.problem.samples) == (4 * 3, 40)


def test_a_missing_data_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = tmp_path / "s.toml"
    text = '[problem]\nkind = "softmax_regression"\ndataset = { kind = "file", path = "gone.csv" }'
    toml.write_text(text + "\n", encoding="utf-8")
    assert main(["validate", str(toml)]) == 2
    err = capsys.readouterr().err.strip()
    assert "problem.dataset" in err and "gone.csv: no such data file" in err and "\n" not in err
