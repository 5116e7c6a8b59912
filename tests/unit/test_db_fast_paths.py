"""The database layer's shortcuts agree with the general paths they skip.

Each shortcut (compiling in-order eq ranges directly, encoding shared key
fields once, deciding "plainly different" without the full comparison,
scanning without the pending-write merge, tracking the oldest snapshot,
remembering resolved ids) is checked against what it stands in for.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim import MISSING, InvalidIndexRangeError, define_schema, define_table
from convex_sim.checkpoint import drive
from convex_sim.database import Database
from convex_sim.db import DatabaseReader, DatabaseWriter
from convex_sim.filters import (
    IndexRangeBuilder,
    _compile_general,
    compile_index_range,
)
from convex_sim.index_keys import document_key
from convex_sim.schema import BY_CREATION_TIME_INDEX, BY_ID_INDEX, IndexDefinition
from convex_sim.store.base import document_keys
from convex_sim.values import Id, _plainly_differ, compare, make_id_string, values_equal
from tests.strategies import convex_values, field_names, scalars
from tests.support import Harness

INDEX = IndexDefinition("by_abc", ("a", "b", "c"), ("a", "b", "c", "_creationTime", "_id"))
POOL = [MISSING, None, -1, 0, 1, 0.5, -0.0, 0.0, False, True, "", "x", b"\x00", [1], {"k": 1}]


def _compiled(builder: IndexRangeBuilder, compile: Any) -> Any:
    try:
        key_range = compile(builder)
    except InvalidIndexRangeError as error:
        return ("error", str(error))
    return (key_range.start, key_range.end, key_range.description)


@given(
    st.lists(
        st.tuples(st.sampled_from([*INDEX.key_fields, "zz"]), st.sampled_from(POOL)), max_size=6
    )
)
@settings(max_examples=300)
def test_eq_only_ranges_compile_as_the_general_compiler_does(
    eqs: list[tuple[str, Any]],
) -> None:
    builder = IndexRangeBuilder()
    for field, value in eqs:
        builder.eq(field, value)
    fast = _compiled(builder, lambda b: compile_index_range("t", INDEX, b))
    general = _compiled(
        builder,
        lambda b: _compile_general(
            "t.by_abc", INDEX, {f: p for p, f in enumerate(INDEX.key_fields)}, b
        ),
    )
    assert fast == general


def test_a_range_over_a_key_that_repeats_a_field_takes_the_general_path() -> None:
    odd = IndexDefinition("odd", ("a", "a"), ("a", "a", "_creationTime", "_id"))
    builder = IndexRangeBuilder().eq("a", 1).eq("a", 2)
    with pytest.raises(InvalidIndexRangeError, match="appears twice"):
        compile_index_range("t", odd, builder)


def test_descriptions_name_the_range_as_written() -> None:
    builder = IndexRangeBuilder().eq("a", 1).gt("b", "x")
    assert compile_index_range("t", INDEX, builder).description == "t.by_abc (a == 1, b > 'x')"
    assert compile_index_range("t", INDEX, None).description == "t.by_abc (all)"


documents = st.dictionaries(st.sampled_from(["a", "b", "c", "d.e", "d"]), convex_values(6))


@given(documents, st.floats(allow_nan=False), st.text(min_size=1, max_size=5))
@settings(max_examples=200)
def test_document_keys_are_the_per_index_keys(
    fields: dict[str, Any], creation: float, doc_id: str
) -> None:
    document = {**fields, "_creationTime": creation, "_id": doc_id}
    indexes = {
        "by_id": BY_ID_INDEX,
        "by_creation_time": BY_CREATION_TIME_INDEX,
        "by_abc": INDEX,
        "by_de": IndexDefinition("by_de", ("d.e",), ("d.e", "_creationTime", "_id")),
    }
    expected = {name: document_key(document, d.key_fields) for name, d in indexes.items()}
    assert document_keys(document, indexes) == expected


pair_values = st.one_of(scalars, convex_values(4), st.sampled_from([0.0, -0.0, float("nan"), 1]))


@st.composite
def document_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    first = draw(st.dictionaries(field_names, pair_values, max_size=4))
    second = dict(first)
    for name in draw(st.lists(st.sampled_from([*first, "new"]), max_size=3)):
        if draw(st.booleans()):
            second[name] = draw(pair_values)
        else:
            second.pop(name, None)
    if draw(st.booleans()):
        second = {
            name: (Id(item, "t") if type(item) is str else item) for name, item in second.items()
        }
    return first, second


@given(document_pairs())
@settings(max_examples=500)
def test_plainly_different_documents_are_never_equal(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    first, second = pair
    if _plainly_differ(first, second):
        assert compare(first, second) != 0  # the full comparison, which values_equal skips
    assert values_equal(first, second) == (compare(first, second) == 0)


def test_plainly_differ_leaves_the_subtle_cases_to_the_full_comparison() -> None:
    nan = float("nan")
    assert not _plainly_differ({"x": 0.0}, {"x": -0.0})  # equal in Python, not in Convex
    assert not _plainly_differ({"x": nan}, {"x": nan})
    assert not _plainly_differ({"x": "s"}, {"x": Id("s", "t")})
    assert _plainly_differ({"x": 1}, {"x": 2})
    assert _plainly_differ({"x": 1}, {"y": 1})


# -- scans with and without pending writes ------------------------------------------

SCHEMA = define_schema({"docs": define_table().index("by_a", ["a"])})
small = st.sampled_from([None, 0, 1, 2, "x", 1.5])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), small),
        st.tuples(st.just("patch"), st.integers(0, 30), small),
        st.tuples(st.just("delete"), st.integers(0, 30)),
    ),
    max_size=12,
)


@given(
    st.lists(small, max_size=10),
    operations,
    st.sampled_from([None, 0, 1, "x"]),
    st.booleans(),
    st.none() | st.integers(1, 5),
)
@settings(max_examples=200, deadline=None)
def test_a_scan_over_own_writes_sees_what_it_sees_once_they_are_committed(
    stored: list[Any],
    steps: list[tuple[Any, ...]],
    eq: Any,
    descending: bool,
    limit: int | None,
) -> None:
    """Reading your own writes (the merge) agrees with reading them committed (no merge)."""
    harness = Harness(SCHEMA)
    ids: list[str] = list(harness.insert_many("docs", [{"a": a} for a in stored]))
    live = set(ids)

    async def query(db: DatabaseReader) -> list[dict[str, Any]]:
        q = db.query("docs")
        if eq is not None:
            built = q.with_index("by_a", lambda r: r.eq("a", eq))
        else:
            built = q.with_index("by_a")
        built = built.order("desc" if descending else "asc")
        return await (built.collect() if limit is None else built.take(limit))

    async def write_then_query(db: DatabaseWriter) -> list[dict[str, Any]]:
        for step in steps:
            if step[0] == "insert":
                new = await db.insert("docs", {"a": step[1]})
                ids.append(new)
                live.add(new)
            elif ids and ids[step[1] % len(ids)] in live:
                target = ids[step[1] % len(ids)]
                if step[0] == "patch":
                    await db.patch(target, {"a": step[2]})
                else:
                    await db.delete(target)
                    live.discard(target)
        return await query(db)

    own = harness.run(write_then_query)
    committed, _ = harness.read(query)
    assert own == committed


# -- the oldest live snapshot --------------------------------------------------------


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), max_size=40))
def test_the_oldest_live_snapshot_is_the_minimum_of_the_live_ones(
    steps: list[tuple[bool, int]],
) -> None:
    database = Database()
    open_transactions = []
    for begin, choice in steps:
        if begin:
            open_transactions.append(database.begin_at(choice))
        elif open_transactions:
            database.release(open_transactions.pop(choice % len(open_transactions)))
        assert database._oldest_live == min(database._live_snapshots, default=None)


# -- remembered ids ------------------------------------------------------------------


def test_an_id_of_a_table_created_later_resolves_once_it_exists() -> None:
    harness = Harness()
    db, _ = harness.open()
    store = harness.database.store
    known = store.table_number("", "first", create=True)
    assert known is not None
    later = make_id_string(known + 1, random.Random(0).randbytes(16))
    session = db._session
    assert session.locate_id(later, operation="get") is None
    drive(db.insert("second", {"x": 1}))
    assert session.locate_id(later, operation="get") == (known + 1, "second")
    assert session.locate_id(later, operation="get") == (known + 1, "second")
