"""A ``server.pre`` chain: parsing, order, supplied f and per-step random bits."""

from __future__ import annotations

import numpy as np
import pytest

from bgdsim.aggregators import PreconditionError
from bgdsim.aggregators.pre import Chain, parse_chain
from bgdsim.aggregators.pre.bucketing import bucketing
from bgdsim.aggregators.pre.chain import step_rng
from bgdsim.aggregators.pre.mixing import nnm


def test_parse_fills_defaults_and_accepts_bare_names() -> None:
    chain = parse_chain(["nnm", {"kind": "bucketing"}, {"kind": "clipping", "tau": 2.0}])
    assert [c.to_table() for c in chain] == [
        {"kind": "nnm"}, {"kind": "bucketing", "s": 2}, {"kind": "clipping", "tau": 2.0}
    ]  # fmt: skip
    assert Chain(chain, f=1).describe() == "nnm → bucketing(s=2) → clipping(tau=2)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nnm", r"^server\.pre: must be a list"),
        ([{"kind": "nmm"}], r"^server\.pre\[0\]\.kind: unknown pre-aggregator 'nmm' \(did you"),
        (["nnm", {"s": 2}], r"^server\.pre\[1\]: a component table needs a 'kind'"),
        ([{"kind": "nnm", "f": 1}], r"^server\.pre\[0\]\.f: unknown parameter"),
        ([{"kind": "bucketing", "s": 1.5}], r"^server\.pre\[0\]\.s: "),
    ],
)
def test_parse_errors_name_the_entry(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_chain(value)


def test_steps_apply_in_order_with_f_and_their_own_bits() -> None:
    x = np.random.default_rng(0).standard_normal((9, 3))
    chain = Chain(parse_chain([{"kind": "nnm"}, {"kind": "bucketing", "s": 4}]), f=2)
    want = bucketing(nnm(x, f=2), s=4, rng=step_rng(77, 1))
    np.testing.assert_array_equal(chain(x, 77), want)
    assert chain(x, 77).shape == (3, 3)
    # step 1's bits are not the aggregator's default_rng(seed), nor step 0's
    first = step_rng(77, 1).permutation(9)
    assert not np.array_equal(first, np.random.default_rng(77).permutation(9))
    assert not np.array_equal(first, step_rng(77, 0).permutation(9))
    # no seed: no shuffle
    np.testing.assert_array_equal(chain(x), bucketing(nnm(x, f=2), s=4))


def test_a_precondition_propagates_and_a_bad_shape_is_named() -> None:
    with pytest.raises(PreconditionError):
        Chain(parse_chain(["nnm"]), f=3)(np.zeros((3, 2)), 0)
    # bucketing turns 4 reports into 2; nnm with f = 2 then has n <= f
    with pytest.raises(PreconditionError, match="n > f"):
        Chain(parse_chain([{"kind": "bucketing", "s": 2}, "nnm"]), f=2)(np.zeros((4, 2)), 0)
