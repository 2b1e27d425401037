"""malformed: messages the server must refuse (or, ``huge``, survive)."""

from __future__ import annotations

import numpy as np
import pytest

import bgdsim
from bgdsim import attacks
from bgdsim._params import check_params
from bgdsim.attacks import AdversaryView
from bgdsim.attacks.malformed import malformed as attack
from tests.conftest import ScenarioFactory


def test_it_is_registered() -> None:
    assert attacks.get("malformed") is attack


def view() -> AdversaryView:
    honest = np.arange(12, dtype=float).reshape(4, 3)
    return AdversaryView(1, np.zeros(3), honest, np.array([0, 2]), 2, "gmom", 2)


@pytest.mark.parametrize(("kind", "bad"), [("nan", np.nan), ("inf", np.inf)])
def test_non_finite_kinds_spoil_one_entry_of_the_honest_gradient(kind: str, bad: float) -> None:
    v = view()
    out = attack(v, np.random.default_rng(0), defect=kind)
    col = int(np.random.default_rng(0).integers(3))
    expected = v.honest[[0, 2]].copy()
    expected[:, col] = bad
    np.testing.assert_array_equal(out, expected)


def test_shape_sends_one_entry_too_many() -> None:
    v = view()
    out = attack(v, np.random.default_rng(0), defect="shape")
    assert isinstance(out, list)
    assert [m.shape for m in out] == [(4,), (4,)]
    np.testing.assert_array_equal(out[1], [6.0, 7.0, 8.0, 0.0])


def test_huge_sends_finite_1e300_entries() -> None:
    out = attack(view(), np.random.default_rng(0), defect="huge")
    np.testing.assert_array_equal(out, np.full((2, 3), 1e300))


def test_default_kind_is_nan_and_unknown_kinds_are_refused() -> None:
    assert check_params(attack, {}, where="adversary.params") == {"defect": "nan"}
    with pytest.raises(ValueError, match=r"adversary\.attack\.defect"):
        check_params(attack, {"defect": "negative"}, where="adversary.attack")


@pytest.mark.parametrize("kind", ["nan", "inf", "shape"])
def test_the_server_rejects_every_malformed_report(scenario: ScenarioFactory, kind: str) -> None:
    result = bgdsim.run(
        scenario(adversary__attack={"kind": "malformed", "defect": kind}), log_path=None
    )
    assert result.counts["up_rejected"] == 5 * 2
    assert result.status == "completed"
    assert np.isfinite(result.final_error)
