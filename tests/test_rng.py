"""Named random streams: reproducible, independent, order-free."""

from __future__ import annotations

import numpy as np

from bgdsim.rng import Streams, stream


def test_same_seed_and_name_give_the_same_stream() -> None:
    np.testing.assert_array_equal(stream(3, "data").random(5), stream(3, "data").random(5))


def test_names_and_seeds_give_different_streams() -> None:
    a = stream(3, "data").random(5)
    assert not np.array_equal(a, stream(3, "drop.up").random(5))
    assert not np.array_equal(a, stream(4, "data").random(5))


def test_a_stream_does_not_depend_on_which_others_were_used_first() -> None:
    s1, s2 = Streams(7), Streams(7)
    s1["drop.up"].random(1000)  # heavy use of one stream...
    np.testing.assert_array_equal(s1["data"].random(4), s2["data"].random(4))  # ...not the other
    assert s1["data"] is s1["data"]
