"""convex-semantics.md §2 (queries), end to end through ``Simulator`` and real functions.

Each test pins one rule; its name starts with the rule's number.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from convex_sim import (
    MISSING,
    ConvexSimError,
    Id,
    IndexNotFoundError,
    InvalidIdError,
    InvalidIndexRangeError,
    InvalidQueryError,
    MultiplePaginatedQueriesError,
    Simulator,
    SystemTableError,
    UniqueQueryError,
    api,
    internal,
)
from convex_sim.trace import DocumentRead, ExecutionStarted, Finished
from convex_sim.values import make_id_string
from tests.apps.s2_to_s5_app import insert, new_sim, read_all
from tests.apps.s4_probe import run_probe


@pytest.fixture
def sim() -> Simulator:
    return new_sim()


def _items(sim: Simulator, rows: list[tuple[str, float]]) -> list[Id]:
    return insert(sim, "items", [{"name": name, "n": n} for name, n in rows])


def _run_query(sim: Simulator, build: Any) -> list[tuple[str, float]]:
    """``build(ctx.db)`` consumed by ``collect()``, as ``(name, n)`` pairs."""

    async def run(ctx: Any) -> list[dict[str, Any]]:
        return list(await build(ctx.db).collect())

    return [(row["name"], row["n"]) for row in sim.run(run)]


# -- §2.1 get --------------------------------------------------------------------------------------


def test_2_1_get_returns_the_document_and_null_once_it_is_deleted(sim: Simulator) -> None:
    (doc_id,) = _items(sim, [("a", 1)])
    found = sim.query(api.s2_reads.get_doc, {"id": doc_id})
    assert found["_id"] == doc_id
    assert (found["name"], found["n"]) == ("a", 1.0)

    async def delete(ctx: Any) -> None:
        await ctx.db.delete(doc_id)

    sim.run(delete)
    assert sim.query(api.s2_reads.get_doc, {"id": doc_id}) is None


def test_2_1_get_with_wrong_table_names_both_tables(sim: Simulator) -> None:
    (counter_id,) = insert(sim, "counters", [{"name": "c", "value": 0}])
    with pytest.raises(InvalidIdError) as caught:
        sim.query(api.s2_reads.get_doc, {"table": "items", "id": counter_id})
    assert re.search(
        r"expected to be an Id<[\"']items[\"']>, got Id<[\"']counters[\"']>", str(caught.value)
    )
    # The right table name works.
    found = sim.query(api.s2_reads.get_doc, {"table": "counters", "id": counter_id})
    assert found["name"] == "c"


def test_2_1_get_of_an_id_whose_table_does_not_exist_returns_null(sim: Simulator) -> None:
    ghost = make_id_string(4_000, bytes(range(16)))
    assert sim.query(api.s2_reads.get_doc, {"id": ghost}) is None


def test_2_1_system_ids_need_db_system_and_user_ids_need_db(sim: Simulator) -> None:
    (item_id,) = _items(sim, [("a", 1)])

    async def schedule(ctx: Any) -> Id:
        job: Id = await ctx.scheduler.run_after(1_000, internal.s5_calls.noop, {})
        return job

    job_id = sim.run(schedule)

    with pytest.raises(
        SystemTableError, match=re.escape("System tables can only be accessed with db.system.")
    ):
        sim.query(api.s2_reads.get_doc, {"id": job_id})

    async def system_get(ctx: Any) -> Any:
        return await ctx.db.system.get(job_id)

    assert sim.run(system_get)["_id"] == job_id

    async def system_get_user_id(ctx: Any) -> Any:
        return await ctx.db.system.get(item_id)

    with pytest.raises(SystemTableError):
        sim.run(system_get_user_id)


# -- §2.2 withIndex --------------------------------------------------------------------------------


@pytest.fixture
def grid(sim: Simulator) -> Simulator:
    _items(sim, [(name, n) for name in ("a", "b", "c") for n in (1, 2, 2, 3, 4)])
    return sim


def test_2_2_eqs_on_leading_fields_then_one_lower_and_one_upper_bound(grid: Simulator) -> None:
    rows = _run_query(
        grid,
        lambda db: db.query("items").with_index(
            "by_name_n", lambda q: q.eq("name", "b").gt("n", 1.0).lte("n", 3.0)
        ),
    )
    assert rows == [("b", 2.0), ("b", 2.0), ("b", 3.0)]
    only_bounds = _run_query(
        grid, lambda db: db.query("items").with_index("by_name", lambda q: q.gte("name", "b"))
    )
    assert sorted({name for name, _ in only_bounds}) == ["b", "c"]


def test_2_2_eqs_in_any_order_are_accepted_if_they_form_a_prefix(grid: Simulator) -> None:
    rows = _run_query(
        grid,
        lambda db: db.query("items").with_index(
            "by_name_n", lambda q: q.eq("n", 3.0).eq("name", "c")
        ),
    )
    assert rows == [("c", 3.0)]

    async def not_a_prefix(ctx: Any) -> Any:
        return (
            await ctx.db.query("items").with_index("by_name_n", lambda q: q.eq("n", 3.0)).collect()
        )

    with pytest.raises(InvalidIndexRangeError, match="prefix"):
        grid.run(not_a_prefix)


def test_2_2_the_range_may_continue_into_the_appended_creation_time(grid: Simulator) -> None:
    def pairs(db: Any) -> Any:
        return db.query("items").with_index("by_name_n", lambda q: q.eq("name", "a").eq("n", 2.0))

    async def both(ctx: Any) -> list[dict[str, Any]]:
        return list(await pairs(ctx.db).collect())

    first, second = grid.run(both)
    assert first["_creationTime"] < second["_creationTime"]

    async def after_first(ctx: Any) -> list[dict[str, Any]]:
        return list(
            await ctx.db.query("items")
            .with_index(
                "by_name_n",
                lambda q: (
                    q.eq("name", "a").eq("n", 2.0).gt("_creationTime", first["_creationTime"])
                ),
            )
            .collect()
        )

    assert [row["_id"] for row in grid.run(after_first)] == [second["_id"]]


@pytest.mark.parametrize(
    ("label", "expression"),
    [
        ("two lower bounds", lambda q: q.eq("name", "a").gt("n", 1.0).gte("n", 2.0)),
        ("two upper bounds", lambda q: q.eq("name", "a").lt("n", 3.0).lte("n", 4.0)),
        ("bounds on two fields", lambda q: q.gt("name", "a").lt("n", 3.0)),
        ("eq and a bound on one field", lambda q: q.eq("name", "a").gt("name", "0")),
        ("bound past the next field", lambda q: q.gt("n", 1.0)),
    ],
)
def test_2_2_illegal_index_ranges_are_errors(grid: Simulator, label: str, expression: Any) -> None:
    async def run(ctx: Any) -> Any:
        return await ctx.db.query("items").with_index("by_name_n", expression).collect()

    with pytest.raises(InvalidIndexRangeError):
        grid.run(run)


def test_2_2_gt_and_lt_exclude_every_key_equal_to_the_bound(grid: Simulator) -> None:
    def ns(expression: Any) -> list[float]:
        rows = _run_query(grid, lambda db: db.query("items").with_index("by_name_n", expression))
        return [n for _, n in rows]

    assert ns(lambda q: q.eq("name", "a").gt("n", 2.0)) == [3.0, 4.0]
    assert ns(lambda q: q.eq("name", "a").gte("n", 2.0)) == [2.0, 2.0, 3.0, 4.0]
    assert ns(lambda q: q.eq("name", "a").lt("n", 2.0)) == [1.0]
    assert ns(lambda q: q.eq("name", "a").lte("n", 2.0)) == [1.0, 2.0, 2.0]


def test_2_2_eq_undefined_matches_only_documents_lacking_the_field(sim: Simulator) -> None:
    insert(
        sim,
        "items",
        [
            {"name": "lacking", "n": 1},
            {"name": "null", "n": 2, "tag": None},
            {"name": "tagged", "n": 3, "tag": "t"},
        ],
    )

    def names(value: Any) -> list[str]:
        rows = _run_query(
            sim, lambda db: db.query("items").with_index("by_tag", lambda q: q.eq("tag", value))
        )
        return [name for name, _ in rows]

    assert names(MISSING) == ["lacking"]
    assert names(None) == ["null"]


# -- §2.3 order, filter, take, first, unique, collect ----------------------------------------------


def test_2_3_order_defaults_to_ascending_index_order_and_desc_reverses_it(sim: Simulator) -> None:
    _items(sim, [("m", 3), ("m", 1), ("m", 2)])
    ascending = _run_query(sim, lambda db: db.query("items").with_index("by_n"))
    descending = _run_query(sim, lambda db: db.query("items").with_index("by_n").order("desc"))
    assert [n for _, n in ascending] == [1.0, 2.0, 3.0]
    assert [n for _, n in descending] == [3.0, 2.0, 1.0]


def test_2_3_order_may_be_set_only_once(sim: Simulator) -> None:
    async def run(ctx: Any) -> Any:
        return await ctx.db.query("items").order("desc").order("asc").collect()

    with pytest.raises(InvalidQueryError):
        sim.run(run)


def test_2_3_take_limits_after_filtering_and_first_is_take_one(sim: Simulator) -> None:
    insert(
        sim,
        "items",
        [{"name": f"r{n}", "n": n, "tag": "keep" if n % 3 == 0 else "drop"} for n in range(10)],
    )

    async def run(ctx: Any) -> dict[str, Any]:
        def kept() -> Any:
            return (
                ctx.db.query("items")
                .with_index("by_n")
                .filter(lambda q: q.eq(q.field("tag"), "keep"))
            )

        return {
            "take2": [row["n"] for row in await kept().take(2)],
            "first": (await kept().first())["n"],
            "none": await ctx.db.query("items")
            .filter(lambda q: q.eq(q.field("tag"), "absent"))
            .first(),
        }

    assert sim.run(run) == {"take2": [0.0, 3.0], "first": 0.0, "none": None}


@pytest.mark.parametrize("count", [-1, 1.5, True])
def test_2_3_take_needs_a_non_negative_integer(sim: Simulator, count: Any) -> None:
    _items(sim, [("a", 1)])

    async def run(ctx: Any) -> Any:
        return await ctx.db.query("items").take(count)

    with pytest.raises(InvalidQueryError):
        sim.run(run)


def test_2_3_take_zero_returns_nothing(sim: Simulator) -> None:
    _items(sim, [("a", 1)])

    async def run(ctx: Any) -> Any:
        return await ctx.db.query("items").take(0)

    assert sim.run(run) == []


def test_2_3_unique_fails_on_two_results_naming_the_table(sim: Simulator) -> None:
    _items(sim, [("twin", 1), ("twin", 2), ("single", 3)])

    async def unique(ctx: Any, name: str) -> Any:
        return (
            await ctx.db.query("items").with_index("by_name", lambda q: q.eq("name", name)).unique()
        )

    async def twin(ctx: Any) -> Any:
        return await unique(ctx, "twin")

    async def single_and_none(ctx: Any) -> Any:
        return [(await unique(ctx, "single"))["n"], await unique(ctx, "nobody")]

    with pytest.raises(
        UniqueQueryError, match="unique\\(\\) query returned more than one result from table items"
    ):
        sim.run(twin)
    assert sim.run(single_and_none) == [3.0, None]


def test_2_3_collect_drains_the_whole_range(sim: Simulator) -> None:
    _items(sim, [(f"x{i}", i) for i in range(40)])
    rows = _run_query(sim, lambda db: db.query("items"))
    assert sorted(n for _, n in rows) == [float(i) for i in range(40)]


# -- §2.4 paginate ---------------------------------------------------------------------------------


def test_2_4_paginate_returns_page_is_done_continue_split_cursor_and_page_status(
    sim: Simulator,
) -> None:
    _items(sim, [("a", 1), ("b", 2), ("c", 3)])
    result = sim.query(api.s2_reads.page_items, {"numItems": 2, "cursor": None})
    assert set(result) == {"page", "isDone", "continueCursor", "splitCursor", "pageStatus"}
    assert [row["n"] for row in result["page"]] == [1.0, 2.0]
    assert result["isDone"] is False


def test_2_4_paginate_walks_the_range_with_continue_cursors(sim: Simulator) -> None:
    _items(sim, [(f"p{i}", i) for i in range(7)])
    seen: list[float] = []
    cursor = None
    for _ in range(10):
        result = sim.query(api.s2_reads.page_items, {"numItems": 3, "cursor": cursor})
        seen.extend(row["n"] for row in result["page"])
        cursor = result["continueCursor"]
        if result["isDone"]:
            break
    assert seen == [float(i) for i in range(7)]
    assert result["isDone"] is True


def test_2_4_only_one_paginated_query_per_execution(sim: Simulator) -> None:
    _items(sim, [("a", 1)])
    with pytest.raises(MultiplePaginatedQueriesError, match="MultiplePaginatedDatabaseQueries"):
        sim.query(api.s2_reads.two_pages, {})


# -- §2.5 missing tables and indexes ---------------------------------------------------------------


def test_2_5_full_scan_of_a_table_never_created_is_empty(sim: Simulator) -> None:
    assert _run_query(sim, lambda db: db.query("never_created")) == []


@pytest.mark.parametrize(
    ("table", "index"),
    [("items", "by_nothing"), ("never_created", "by_creation_time"), ("never_created", "by_x")],
)
def test_2_5_with_index_on_an_unknown_index_or_missing_table_is_not_found(
    sim: Simulator, table: str, index: str
) -> None:
    async def run(ctx: Any) -> Any:
        return await ctx.db.query(table).with_index(index).collect()

    with pytest.raises(IndexNotFoundError) as caught:
        sim.run(run)
    assert str(caught.value) == f"Index {table}.{index} not found."


def test_2_5_a_table_declared_in_the_schema_exists_even_when_empty(sim: Simulator) -> None:
    assert _run_query(sim, lambda db: db.query("empty_box").with_index("by_x")) == []
    assert _run_query(sim, lambda db: db.query("empty_box").with_index("by_creation_time")) == []


# -- §2.6 system tables ----------------------------------------------------------------------------


def _schedule_noop(sim: Simulator, delay_ms: float = 1_000) -> Id:
    async def schedule(ctx: Any) -> Id:
        job: Id = await ctx.scheduler.run_after(delay_ms, internal.s5_calls.noop, {})
        return job

    job_id: Id = sim.run(schedule)
    return job_id


def test_2_6_db_system_reads_scheduled_functions_by_id_and_creation_time(sim: Simulator) -> None:
    first = _schedule_noop(sim, 1_000)
    second = _schedule_noop(sim, 2_000)

    async def read(ctx: Any) -> dict[str, Any]:
        by_time = (
            await ctx.db.system.query("_scheduled_functions")
            .with_index("by_creation_time")
            .order("desc")
            .collect()
        )
        one = await ctx.db.system.get(first)
        return {"order": [row["_id"] for row in by_time], "scheduledTime": one["scheduledTime"]}

    result = sim.run(read)
    assert result["order"] == [second, first]
    assert result["scheduledTime"] == sim.now + 1_000


@pytest.mark.parametrize("operation", ["patch", "replace", "delete"])
def test_2_6_system_tables_are_read_only(sim: Simulator, operation: str) -> None:
    job_id = _schedule_noop(sim)
    before = sim.scheduled_functions()

    async def write(ctx: Any) -> None:
        if operation == "patch":
            await ctx.db.system.patch(job_id, {"state": {"kind": "canceled"}})
        elif operation == "replace":
            row = await ctx.db.system.get(job_id)
            body = {k: value for k, value in row.items() if not k.startswith("_")}
            await ctx.db.system.replace(job_id, {**body, "state": {"kind": "canceled"}})
        else:
            await ctx.db.system.delete(job_id)

    async def through_db(ctx: Any) -> None:
        await ctx.db.patch(job_id, {"state": {"kind": "canceled"}})

    with pytest.raises(SystemTableError):
        sim.run(through_db)
    with pytest.raises((AttributeError, ConvexSimError)):
        sim.run(write)
    assert sim.scheduled_functions() == before


def test_2_6_reads_of_system_tables_take_read_dependencies(sim: Simulator) -> None:
    job_id = _schedule_noop(sim)

    async def body(ctx: Any, attempt: int) -> Any:
        row = await ctx.db.system.get(job_id)
        if attempt == 1:

            async def cancel(other: Any) -> None:
                await other.scheduler.cancel(job_id)

            sim.run(cancel)  # another client cancels the job before this commit
        return row["state"]["kind"]

    outcome = run_probe(sim, body)
    assert outcome.attempts == 2
    assert [(c.table, c.index) for c in outcome.conflicts] == [("_scheduled_functions", "by_id")]
    assert outcome.result == "canceled"


# -- §2.7 one operation at a time ------------------------------------------------------------------


def test_2_7_operations_run_one_at_a_time_in_issue_order_nested_calls_inline(
    sim: Simulator,
) -> None:
    a, b, c = _items(sim, [("a", 1), ("b", 2), ("c", 3)])
    start = len(sim.trace)

    async def caller(ctx: Any) -> None:
        await ctx.db.get(a)
        await ctx.run_query(api.s5_calls.get_item, {"id": b})
        await ctx.db.get(c)

    sim.run(caller)
    events = sim.trace[start:]
    (top,) = [e for e in events if isinstance(e, ExecutionStarted) and e.function == "caller"]
    (nested,) = [e for e in events if isinstance(e, ExecutionStarted) and e.parent is not None]
    assert nested.parent == top.execution
    reads = [(e.execution, e.detail) for e in events if isinstance(e, DocumentRead)]
    assert reads == [(top.execution, a), (nested.execution, b), (top.execution, c)]
    nested_finish = next(
        e.seq for e in events if isinstance(e, Finished) and e.execution == nested.execution
    )
    last_read = next(e.seq for e in events if isinstance(e, DocumentRead) and e.detail == c)
    assert nested_finish < last_read
    assert read_all(sim, "items")[0]["_id"] == a
