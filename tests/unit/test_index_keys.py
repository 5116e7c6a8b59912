"""The order-preserving key encoding (§1.2, §1.3) and what the intervals rely on."""

from __future__ import annotations

import math
import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim.index_keys import (
    KEY_MAX,
    document_key,
    encode_key,
    encode_value,
    field_value,
    key_successor,
    prefix_end,
)
from convex_sim.values import MISSING, compare
from tests.strategies import convex_values

values_or_missing = st.one_of(st.just(MISSING), convex_values())


def _sign(number: int) -> int:
    return (number > 0) - (number < 0)


@given(values_or_missing, values_or_missing)
@settings(max_examples=1_000)
def test_encoding_preserves_the_total_order(a: object, b: object) -> None:
    encoded_a, encoded_b = encode_value(a), encode_value(b)
    assert _sign((encoded_a > encoded_b) - (encoded_a < encoded_b)) == compare(a, b)


@given(st.lists(values_or_missing, max_size=3), st.lists(values_or_missing, max_size=3))
@settings(max_examples=500)
def test_tuple_keys_sort_like_their_elements_compared_in_turn(
    a: list[object], b: list[object]
) -> None:
    expected = 0
    for item_a, item_b in zip(a, b, strict=False):
        expected = compare(item_a, item_b)
        if expected:
            break
    else:
        expected = _sign(len(a) - len(b))
    key_a, key_b = encode_key(a), encode_key(b)
    assert _sign((key_a > key_b) - (key_a < key_b)) == expected


@given(st.lists(values_or_missing, min_size=1, max_size=3), values_or_missing)
@settings(max_examples=500)
def test_a_prefix_bounds_exactly_the_keys_that_extend_it(
    prefix: list[object], tail: object
) -> None:
    encoded_prefix = encode_key(prefix)
    key = encode_key([*prefix, tail])
    assert encoded_prefix <= key < prefix_end(encoded_prefix)
    assert key < KEY_MAX


def test_successor_is_the_next_byte_string() -> None:
    key = encode_key([1, "a"])
    assert key < key_successor(key)
    assert not key < encode_key([1, "a"]) < key_successor(key)


def test_missing_field_sorts_below_null_in_a_document_key() -> None:
    missing = document_key({"_id": "b", "_creationTime": 1.0}, ("x", "_creationTime", "_id"))
    null = document_key(
        {"x": None, "_id": "a", "_creationTime": 2.0}, ("x", "_creationTime", "_id")
    )
    assert missing < null


def test_nested_field_paths_reach_into_objects() -> None:
    assert field_value({"a": {"b": 3}}, "a.b") == 3
    assert field_value({"a": {"c": 3}}, "a.b") is MISSING
    assert field_value({"a": [1]}, "a.b") is MISSING


@given(st.lists(convex_values(), min_size=2, max_size=12))
@settings(max_examples=200)
def test_sqlite_blob_order_agrees_with_the_encoding(values: list[object]) -> None:
    """The same bytes, compared by SQLite, sort the same way: one encoding serves both stores."""
    connection = sqlite3.connect(":memory:")
    connection.execute("create table k (i integer, key blob)")
    connection.executemany(
        "insert into k values (?, ?)", [(i, encode_value(v)) for i, v in enumerate(values)]
    )
    by_sqlite = [row[0] for row in connection.execute("select i from k order by key, i")]
    by_python = sorted(range(len(values)), key=lambda i: (encode_value(values[i]), i))
    assert by_sqlite == by_python


def test_negative_zero_and_nan_have_distinct_keys() -> None:
    assert encode_value(-0.0) < encode_value(0.0)
    assert encode_value(math.inf) < encode_value(math.nan)
