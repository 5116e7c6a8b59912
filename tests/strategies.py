"""Hypothesis strategies for Convex values, shared by the property tests."""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import strategies as st

from convex_sim.values import INT64_MAX, INT64_MIN

field_names = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=6
).filter(lambda name: not name.startswith("$"))

# Every NaN payload and sign, not just float("nan"): the order must place them all.
nan_bits = st.integers(min_value=1, max_value=(1 << 52) - 1).flatmap(
    lambda mantissa: st.sampled_from([0, 1]).map(
        lambda sign: struct.unpack(
            ">d", struct.pack(">Q", (sign << 63) | (0x7FF << 52) | mantissa)
        )[0]
    )
)
floats = st.one_of(
    st.floats(allow_nan=False),
    st.sampled_from([0.0, -0.0, float("inf"), float("-inf"), 1.0, -1.0]),
    nan_bits,
)
int64s = st.one_of(
    st.integers(min_value=INT64_MIN, max_value=INT64_MAX),
    st.sampled_from([0, 1, -1, INT64_MIN, INT64_MAX]),
)
strings = st.text(max_size=8)

scalars = st.one_of(st.none(), int64s, floats, st.booleans(), strings, st.binary(max_size=6))


def convex_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(field_names, children, max_size=4),
        ),
        max_leaves=max_leaves,
    )
