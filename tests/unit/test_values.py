"""Values: the Python mapping, limits, ids, the total order and Convex JSON (§1.1–§1.6)."""

from __future__ import annotations

import itertools
import math
import struct

import pytest
from hypothesis import given, settings

from convex_sim.convex_json import from_json, to_json
from convex_sim.errors import InvalidValueError
from convex_sim.values import (
    INT64_MAX,
    INT64_MIN,
    MISSING,
    Id,
    check_document,
    check_value,
    compare,
    decode_id_string,
    make_id_string,
    value_size,
    values_equal,
)
from tests.strategies import convex_values


def test_python_scalars_are_convex_values() -> None:
    for value in [None, 0, -1, INT64_MAX, INT64_MIN, 1.5, math.nan, -0.0, True, "x", b"\x00"]:
        check_value(value)


@pytest.mark.parametrize("value", [INT64_MAX + 1, INT64_MIN - 1])
def test_ints_outside_int64_are_rejected_with_the_path(value: int) -> None:
    with pytest.raises(InvalidValueError, match=r"does not fit in an int64 at path \.a\[1\]$"):
        check_value({"a": [0, value]})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((1, 2), "Tuples are not Convex values"),
        ({1: "x"}, "field names must be strings"),
        ({"$x": 1}, "starts with a '\\$'"),
        ({"a\n": 1}, "printable ASCII"),
        ("\ud800", "lone surrogate"),
        ({1.5}, "set .*cannot be stored"),
        (MISSING, "undefined is not a Convex value"),
    ],
)
def test_non_values_are_rejected_naming_the_problem(value: object, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        check_value(value)


def test_array_length_field_count_and_depth_limits() -> None:
    check_value([0] * 8192)
    with pytest.raises(InvalidValueError, match="8193 elements; the limit is 8192"):
        check_value([0] * 8193)
    with pytest.raises(InvalidValueError, match="1025 fields; the limit is 1024"):
        check_value({f"f{i}": i for i in range(1025)})
    nested: object = 1
    for _ in range(64):
        nested = [nested]
    check_value(nested)
    with pytest.raises(InvalidValueError, match="nested too deeply"):
        check_value([nested])


def test_documents_are_limited_to_depth_16_and_one_mebibyte() -> None:
    nested: object = 1
    for _ in range(15):
        nested = {"a": nested}
    check_document({"x": nested}, table="t")  # the document plus 15 levels: 16
    deep: object = 1
    for _ in range(16):
        deep = {"a": deep}
    with pytest.raises(InvalidValueError, match="nested too deeply"):
        check_document({"x": deep}, table="t")
    with pytest.raises(InvalidValueError, match=r"is 1048.* bytes; the limit is 1048576"):
        check_document({"blob": b"x" * (1 << 20)}, table="t")


def test_top_level_field_rules() -> None:
    with pytest.raises(InvalidValueError, match="reserved for system fields"):
        check_document({"_secret": 1}, table="t")
    with pytest.raises(InvalidValueError, match="longer than 64"):
        check_document({"x" * 65: 1}, table="t")
    check_document({"_id": "x", "_creationTime": 1.0, "x" * 64: 1}, table="t")


def test_value_size_follows_the_convex_formula() -> None:
    assert value_size(None) == 1
    assert value_size(True) == 1
    assert value_size(7) == 9
    assert value_size(7.0) == 9
    assert value_size("é") == 2 + 2
    assert value_size(b"abc") == 5
    assert value_size([1, "a"]) == 2 + 9 + 3
    assert value_size({"ab": None}) == 2 + 2 + 1 + 1


def test_ids_encode_their_table_and_reject_typos() -> None:
    text = make_id_string(42, bytes(range(16)))
    assert decode_id_string(text) == 42
    typo = text[:-1] + ("a" if text[-1] != "a" else "b")
    assert decode_id_string(typo) is None
    assert decode_id_string("not an id") is None
    identifier = Id(text, "events")
    assert identifier == text
    assert hash(identifier) == hash(text)
    assert identifier.table == "events"


@pytest.mark.parametrize("table_number", [1, 127, 128, 300, 2**20])
def test_id_table_numbers_of_any_size_round_trip(table_number: int) -> None:
    assert decode_id_string(make_id_string(table_number, b"\xff" * 16)) == table_number


# -- the total order -------------------------------------------------------------


def test_type_order_is_missing_null_int_float_bool_string_bytes_array_object() -> None:
    ordered = [MISSING, None, -(2**63), 5, -math.inf, 0.0, False, True, "", b"", [], {}]
    for earlier, later in itertools.pairwise(ordered):
        assert compare(earlier, later) == -1, (earlier, later)
        assert compare(later, earlier) == 1


def test_int64_one_and_float64_one_are_different_values() -> None:
    assert not values_equal(1, 1.0)
    assert compare(1, 1.0) == -1
    assert compare(2**62, 1.0) == -1  # every int64 sorts before every float64


def test_negative_zero_sorts_before_positive_zero_and_is_not_equal() -> None:
    assert compare(-0.0, 0.0) == -1
    assert not values_equal(-0.0, 0.0)
    assert values_equal(-0.0, -0.0)


def test_nans_sort_by_sign_outside_the_infinities() -> None:
    negative_nan = struct.unpack(">d", struct.pack(">Q", 0xFFF8_0000_0000_0000))[0]
    positive_nan = struct.unpack(">d", struct.pack(">Q", 0x7FF8_0000_0000_0000))[0]
    assert compare(negative_nan, -math.inf) == -1
    assert compare(math.inf, positive_nan) == -1
    assert values_equal(positive_nan, positive_nan)


def test_strings_compare_by_utf8_bytes_not_utf16_units() -> None:
    below_ffff = "\uff61"  # UTF-16: FF61; UTF-8: EF BD A1
    astral = "\U0001f600"  # UTF-16: D83D DE00; UTF-8: F0 9F 98 80
    assert compare(below_ffff, astral) == -1
    assert compare("\uffff", "\U00010000") == -1


def test_arrays_compare_elementwise_and_prefix_first() -> None:
    assert compare([1, 2], [1, 2, 0]) == -1
    assert compare([1, 3], [1, 2, 0]) == 1


def test_objects_compare_as_sorted_field_value_pairs_shorter_first() -> None:
    assert compare({"a": 1}, {"a": 1, "b": 0}) == -1
    assert compare({"b": 0}, {"a": 1, "b": 0}) == 1
    assert compare({"b": 1, "a": 2}, {"a": 2, "b": 1}) == 0


@given(convex_values(), convex_values())
@settings(max_examples=500)
def test_compare_is_antisymmetric(a: object, b: object) -> None:
    assert compare(a, b) == -compare(b, a)


# -- Convex JSON -------------------------------------------------------------------


def test_json_uses_tagged_forms_for_int64_special_floats_and_bytes() -> None:
    assert to_json(1) == {"$integer": "AQAAAAAAAAA="}
    assert to_json(1.5) == 1.5
    assert "$float" in to_json(-0.0)
    assert "$float" in to_json(math.nan)
    assert to_json(b"\x01") == {"$bytes": "AQ=="}


@given(convex_values())
@settings(max_examples=500)
def test_json_round_trips_every_value_exactly(value: object) -> None:
    assert values_equal(from_json(to_json(value)), value)
