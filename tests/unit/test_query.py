"""The query builder: index ranges (§2.2), order, filter and limits (§2.3), paginate (§2.4),
missing tables and indexes (§2.5), and the read set each one records (§4.2, §4.3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from convex_sim import (
    MISSING,
    IndexNotFoundError,
    InvalidIndexRangeError,
    InvalidQueryError,
    MultiplePaginatedQueriesError,
    UniqueQueryError,
    define_schema,
    define_table,
)
from convex_sim.db import DatabaseReader
from convex_sim.index_keys import KEY_MAX, encode_key, key_successor, prefix_end
from convex_sim.transaction import Transaction
from tests.support import Harness

SCHEMA = define_schema(
    {
        "items": define_table().index("by_ab", ["a", "b"]).index("by_x", ["x"]),
        "empty": define_table().index("by_a", ["a"]),
    }
)


@pytest.fixture
def harness() -> Harness:
    h = Harness(SCHEMA)
    h.insert_many("items", [{"a": a, "b": b, "x": a * 10 + b} for a in range(3) for b in range(3)])
    return h


def _read(harness: Harness, handler: Callable[[DatabaseReader], Awaitable[Any]]) -> Any:
    return harness.read(handler)[0]


def _pairs(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(r["a"], r["b"]) for r in rows]


def _ab(
    harness: Harness, build: Callable[[Any], Any], *, order: str = "asc"
) -> list[tuple[int, int]]:
    async def run(db: DatabaseReader) -> list[dict[str, Any]]:
        return await db.query("items").with_index("by_ab", build).order(order).collect()

    return _pairs(_read(harness, run))


# -- index ranges (§2.2) -------------------------------------------------------------


def test_eq_then_bounds_select_the_range(harness: Harness) -> None:
    assert _ab(harness, lambda q: q.eq("a", 1)) == [(1, 0), (1, 1), (1, 2)]
    assert _ab(harness, lambda q: q.eq("a", 1).gt("b", 0)) == [(1, 1), (1, 2)]
    assert _ab(harness, lambda q: q.eq("a", 1).gte("b", 1).lt("b", 2)) == [(1, 1)]
    assert _ab(harness, lambda q: q.gt("a", 0).lte("a", 1)) == [(1, 0), (1, 1), (1, 2)]
    assert _ab(harness, lambda q: q.eq("a", 2), order="desc") == [(2, 2), (2, 1), (2, 0)]


def test_eqs_may_come_in_any_order_if_they_form_a_prefix(harness: Harness) -> None:
    assert _ab(harness, lambda q: q.eq("b", 2).eq("a", 0)) == [(0, 2)]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda q: q.eq("b", 1), "must be a prefix .* 'a' is skipped"),
        (lambda q: q.gt("b", 1), "must be on the field right after the eq fields, 'a'"),
        (lambda q: q.gt("a", 1).gte("a", 0), "second lower bound"),
        (lambda q: q.lt("a", 1).lte("a", 0), "second upper bound"),
        (lambda q: q.gt("a", 1).lt("b", 0), "bounds on two fields"),
        (lambda q: q.eq("a", 1).gt("a", 0), "'a' has both eq and gt"),
        (lambda q: q.eq("zzz", 1), "'zzz' is not in index items.by_ab"),
        (lambda q: q.eq("a", 1).eq("a", 2), r"eq\('a'\) appears twice"),
    ],
)
def test_illegal_ranges_name_the_broken_rule(
    harness: Harness, build: Callable[[Any], Any], message: str
) -> None:
    with pytest.raises(InvalidIndexRangeError, match=message):
        _ab(harness, build)


def test_eq_after_a_bound_is_rejected_while_building(harness: Harness) -> None:
    with pytest.raises(InvalidIndexRangeError, match="must come before"):
        _ab(harness, lambda q: q.gt("a", 0).eq("b", 1))


def test_the_appended_system_fields_can_be_ranged_over(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> list[dict[str, Any]]:
        first = await db.query("items").with_index("by_x", lambda q: q.eq("x", 11)).unique()
        assert first is not None
        return (
            await db.query("items")
            .with_index("by_x", lambda q: q.eq("x", 11).eq("_creationTime", first["_creationTime"]))
            .collect()
        )

    assert _pairs(_read(harness, run)) == [(1, 1)]


def test_missing_field_and_null_are_different_keys_and_missing_sorts_first() -> None:
    h = Harness(SCHEMA)
    h.insert_many("items", [{"a": None, "b": 1}, {"b": 2}, {"a": 0, "b": 3}])

    async def run(db: DatabaseReader) -> tuple[list[Any], list[Any], list[Any]]:
        everything = await db.query("items").with_index("by_ab").collect()
        missing = (
            await db.query("items").with_index("by_ab", lambda q: q.eq("a", MISSING)).collect()
        )
        null = await db.query("items").with_index("by_ab", lambda q: q.eq("a", None)).collect()
        return ([r["b"] for r in everything], [r["b"] for r in missing], [r["b"] for r in null])

    assert _read(h, run) == ([2, 1, 3], [2], [1])


# -- order, filter, limits (§2.3) ------------------------------------------------------


def test_order_may_be_set_once(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> object:
        return db.query("items").order("desc").order("asc")

    with pytest.raises(InvalidQueryError, match="order\\(\\) was already called"):
        _read(harness, run)


def test_filter_compares_in_the_convex_order_not_pythons() -> None:
    h = Harness(SCHEMA)
    h.insert_many("items", [{"x": 5}, {"x": 0.5}, {"x": "s"}, {"x": None}, {"b": 1}])

    async def below_one_and_a_half(db: DatabaseReader) -> list[Any]:
        rows = await db.query("items").filter(lambda q: q.lt(q.field("x"), 1.5)).collect()
        return [r.get("x", "missing") for r in rows]

    # every int64 sorts before every float64; null and missing sort lower still
    assert sorted(map(repr, _read(h, below_one_and_a_half))) == sorted(
        map(repr, [5, 0.5, None, "missing"])
    )


def test_filter_combinators_and_arithmetic(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> list[dict[str, Any]]:
        return (
            await db.query("items")
            .filter(
                lambda q: q.and_(
                    q.or_(q.eq(q.field("a"), 0), q.eq(q.field("a"), 2)),
                    q.not_(q.eq(q.mod(q.field("x"), 2), 1)),
                )
            )
            .collect()
        )

    assert sorted(_pairs(_read(harness, run))) == [(0, 0), (0, 2), (2, 0), (2, 2)]


def test_take_limits_after_filtering_and_rejects_bad_counts(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> list[dict[str, Any]]:
        return (
            await db.query("items")
            .with_index("by_ab")
            .filter(lambda q: q.eq(q.field("b"), 2))
            .take(2)
        )

    assert _pairs(_read(harness, run)) == [(0, 2), (1, 2)]

    async def negative(db: DatabaseReader) -> object:
        return await db.query("items").take(-1)

    with pytest.raises(InvalidQueryError, match="non-negative integer, got -1"):
        _read(harness, negative)


def test_unique_with_two_matches_names_the_table(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> object:
        return await db.query("items").with_index("by_ab", lambda q: q.eq("a", 1)).unique()

    with pytest.raises(
        UniqueQueryError, match=r"^unique\(\) query returned more than one result from table items"
    ):
        _read(harness, run)


def test_first_and_unique_on_an_empty_range_return_none(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> tuple[object, object]:
        q = db.query("items")
        return (
            await q.with_index("by_ab", lambda r: r.eq("a", 7)).first(),
            await db.query("items").with_index("by_ab", lambda r: r.eq("a", 7)).unique(),
        )

    assert _read(harness, run) == (None, None)


def test_async_iteration_yields_every_row_in_order(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> list[dict[str, Any]]:
        return [row async for row in db.query("items").with_index("by_x").order("desc")]

    assert [r["x"] for r in _read(harness, run)] == sorted(
        (a * 10 + b for a in range(3) for b in range(3)), reverse=True
    )


def test_a_query_is_consumed_once(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> object:
        query = db.query("items")
        await query.collect()
        return await query.collect()

    with pytest.raises(InvalidQueryError, match="already consumed"):
        _read(harness, run)


# -- paginate (§2.4) ------------------------------------------------------------------


def test_paginate_walks_the_range_page_by_page(harness: Harness) -> None:
    seen: list[tuple[int, int]] = []
    cursor = None
    pages = 0
    while True:

        async def page(db: DatabaseReader, cursor: Any = cursor) -> dict[str, Any]:
            return (
                await db.query("items")
                .with_index("by_ab")
                .paginate({"numItems": 4, "cursor": cursor})
            )

        result = _read(harness, page)
        pages += 1
        seen += _pairs(result["page"])
        cursor = result["continueCursor"]
        if result["isDone"]:
            break
    assert seen == [(a, b) for a in range(3) for b in range(3)]
    assert pages == 3


def test_only_one_paginated_query_per_execution(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> object:
        await db.query("items").paginate({"numItems": 1, "cursor": None})
        return await db.query("items").paginate({"numItems": 1, "cursor": None})

    with pytest.raises(MultiplePaginatedQueriesError, match="MultiplePaginatedDatabaseQueries"):
        _read(harness, run)


# -- missing tables and indexes (§2.5) ------------------------------------------------------


def test_a_table_never_created_scans_empty_but_has_no_indexes(harness: Harness) -> None:
    async def scan(db: DatabaseReader) -> object:
        return await db.query("nothing").collect()

    assert _read(harness, scan) == []

    async def indexed(db: DatabaseReader) -> object:
        return await db.query("nothing").with_index("by_creation_time").collect()

    with pytest.raises(IndexNotFoundError, match=r"^Index nothing\.by_creation_time not found\.$"):
        _read(harness, indexed)


def test_an_unknown_index_is_not_found_and_a_declared_empty_table_exists(harness: Harness) -> None:
    async def unknown(db: DatabaseReader) -> object:
        return await db.query("items").with_index("by_nothing").collect()

    with pytest.raises(IndexNotFoundError, match=r"^Index items\.by_nothing not found\.$"):
        _read(harness, unknown)

    async def declared(db: DatabaseReader) -> object:
        return await db.query("empty").with_index("by_a", lambda q: q.eq("a", 1)).collect()

    assert _read(harness, declared) == []


# -- read sets (§4.2, §4.3) -------------------------------------------------------------------


def _intervals(
    transaction: Transaction, table: str, index: str, harness: Harness
) -> list[tuple[bytes, bytes]]:
    number = harness.database.store.table_number("", table, create=False)
    assert number is not None
    return [(i.start, i.end) for i in transaction.read_set.intervals.get((number, index), [])]


def _key(row: dict[str, Any]) -> bytes:
    return encode_key([row["a"], row["b"], row["_creationTime"], row["_id"]])


def test_first_on_an_empty_range_reads_the_whole_range(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> object:
        return await db.query("items").with_index("by_ab", lambda q: q.eq("a", 7)).first()

    _, transaction = harness.read(run)
    prefix = encode_key([7])
    assert _intervals(transaction, "items", "by_ab", harness) == [(prefix, prefix_end(prefix))]


def test_take_one_reads_only_up_to_the_row_it_returned(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> dict[str, Any] | None:
        return await db.query("items").with_index("by_ab").first()

    row, transaction = harness.read(run)
    assert row is not None
    assert _intervals(transaction, "items", "by_ab", harness) == [(b"", key_successor(_key(row)))]


def test_descending_reads_from_the_range_end_down_to_the_last_row(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> list[dict[str, Any]]:
        return await db.query("items").with_index("by_ab").order("desc").take(2)

    rows, transaction = harness.read(run)
    assert _intervals(transaction, "items", "by_ab", harness) == [(_key(rows[-1]), KEY_MAX)]


def test_unique_with_one_match_reads_the_whole_range(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> object:
        return (
            await db.query("items").with_index("by_ab", lambda q: q.eq("a", 1).eq("b", 1)).unique()
        )

    _, transaction = harness.read(run)
    prefix = encode_key([1, 1])
    assert _intervals(transaction, "items", "by_ab", harness) == [(prefix, prefix_end(prefix))]


def test_rows_a_filter_rejects_are_still_read(harness: Harness) -> None:
    async def run(db: DatabaseReader) -> list[dict[str, Any]]:
        return (
            await db.query("items")
            .with_index("by_ab")
            .filter(lambda q: q.eq(q.field("b"), 1))
            .take(1)
        )

    rows, transaction = harness.read(run)
    assert _pairs(rows) == [(0, 1)]
    ((start, end),) = _intervals(transaction, "items", "by_ab", harness)
    assert start == b""
    assert end == key_successor(_key(rows[0]))


def test_get_reads_a_point_even_when_the_document_is_missing(harness: Harness) -> None:
    async def insert_and_delete(db: Any) -> str:
        doc_id: str = await db.insert("items", {"a": 9})
        return doc_id

    doc_id = harness.run(insert_and_delete)

    async def delete(db: Any) -> None:
        await db.delete(doc_id)

    harness.run(delete)

    async def get(db: DatabaseReader) -> object:
        return await db.get(doc_id)

    result, transaction = harness.read(get)
    assert result is None
    point = encode_key([doc_id])
    assert _intervals(transaction, "items", "by_id", harness) == [(point, key_successor(point))]


def test_writes_read_their_target_and_inserts_read_nothing(harness: Harness) -> None:
    async def first_id(db: DatabaseReader) -> str:
        row = await db.query("items").first()
        assert row is not None
        return str(row["_id"])

    target = _read(harness, first_id)
    db, transaction = harness.open()
    from convex_sim.checkpoint import drive

    drive(db.insert("items", {"a": 5}))
    assert transaction.read_set.intervals == {}
    drive(db.patch(target, {"a": 6}))
    point = encode_key([target])
    assert _intervals(transaction, "items", "by_id", harness) == [(point, key_successor(point))]
    harness.database.release(transaction)
