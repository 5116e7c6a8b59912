"""The query path's shortcuts agree with the general paths they skip.

Eq-only index ranges written in index order are compiled directly; the range
builder accepts plainly valid values without ``check_value``. Each is checked
against what it stands in for.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim import InvalidIndexRangeError, InvalidValueError
from convex_sim.filters import (
    IndexRangeBuilder,
    _compile_general,
    compile_index_range,
)
from convex_sim.index_keys import encode_value
from convex_sim.schema import IndexDefinition
from convex_sim.values import check_value

INDEX = IndexDefinition("by_ab", ("a", "b"), ("a", "b", "_creationTime", "_id"))
OTHER = IndexDefinition("by_ab", ("a", "b"), ("a", "b", "_creationTime", "_id"))
values = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=4),
    st.sampled_from([1, 1.0, True, "1", 0, 0.0, -0.0, False, None, ""]),
)


def _positions(index: IndexDefinition) -> dict[str, int]:
    return {field: position for position, field in enumerate(index.key_fields)}


def _general(table: str, index: IndexDefinition, builder: IndexRangeBuilder) -> Any:
    key_range = _compile_general(f"{table}.{index.name}", index, _positions(index), builder)
    return (key_range.start, key_range.end, key_range.description)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), values), max_size=2), st.booleans())
def test_eq_ranges_are_what_the_general_compiler_makes(
    eqs: list[tuple[str, Any]], other_index: bool
) -> None:
    index = OTHER if other_index else INDEX
    for _ in range(2):  # compiling again gives the same
        builder = IndexRangeBuilder()
        for field, value in eqs:
            builder.eq(field, value)
        try:
            expected = _general("t", index, builder)
        except InvalidIndexRangeError as error:
            with pytest.raises(type(error), match=re.escape(str(error))):
                compile_index_range("t", index, builder)
            continue
        key_range = compile_index_range("t", index, builder)
        assert (key_range.start, key_range.end, key_range.description) == expected


def test_equal_values_of_different_types_get_different_ranges() -> None:
    ranges = []
    for value in [1, True, 1.0, "1", 1]:
        builder = IndexRangeBuilder().eq("a", value)
        ranges.append(compile_index_range("t", INDEX, builder))
        assert (
            ranges[-1].start == _compile_general("t.by_ab", INDEX, _positions(INDEX), builder).start
        )
    assert len({key_range.start for key_range in ranges}) == 4
    assert ranges[0] == ranges[4]
    # Two equal definitions compile alike.
    assert compile_index_range("t", OTHER, IndexRangeBuilder().eq("a", 1)) == ranges[0]


@given(st.one_of(st.text(max_size=4), st.floats(), st.none(), st.integers(), st.booleans()))
def test_the_range_builder_accepts_exactly_what_check_value_accepts(value: Any) -> None:
    try:
        check_value(value)
    except InvalidValueError:
        with pytest.raises(InvalidValueError):
            IndexRangeBuilder().eq("a", value)
        return
    assert IndexRangeBuilder().eq("a", value).eqs == [("a", value)]


def test_the_range_builder_rejects_a_lone_surrogate() -> None:
    with pytest.raises(InvalidValueError, match="with_index eq"):
        IndexRangeBuilder().eq("a", "\ud800")


def test_a_point_read_records_what_read_set_add_point_records() -> None:
    from convex_sim.database import Database
    from convex_sim.transaction import ReadSet

    database = Database()
    number = database.store.table_number("", "t", create=True)
    assert number is not None
    transaction = database.begin()
    expected = ReadSet()
    for doc_id in ["a", "b\x00c", "a", "é"]:
        transaction.get(number, doc_id)
        if doc_id != "a" or not expected.intervals:
            expected.add_point(number, "by_id", encode_value(doc_id))
    assert transaction.read_set == expected
    assert transaction.read_intervals == 3
    assert transaction.documents_scanned == 4
    database.release(transaction)
