"""convex-semantics.md §3 (writes), end to end through ``Simulator`` and real functions."""

from __future__ import annotations

import re
from typing import Any

import pytest

from convex_sim import (
    MISSING,
    ConvexSimError,
    DocumentNotFoundError,
    Id,
    InvalidIdError,
    InvalidValueError,
    Simulator,
    ValidationError,
    api,
    internal,
)
from convex_sim.trace import Committed, ExecutionStarted
from tests.apps.s2_to_s5_app import insert, new_sim, read_all
from tests.apps.s4_probe import run_probe


@pytest.fixture
def sim() -> Simulator:
    return new_sim()


def _get(sim: Simulator, doc_id: str) -> dict[str, Any] | None:
    async def get(ctx: Any) -> dict[str, Any] | None:
        document: dict[str, Any] | None = await ctx.db.get(doc_id)
        return document

    return sim.run(get)  # type: ignore[no-any-return]


# -- §3.1 insert -----------------------------------------------------------------------------------


def test_3_1_insert_returns_the_new_id_of_that_table(sim: Simulator) -> None:
    async def add(ctx: Any) -> Id:
        doc_id: Id = await ctx.db.insert("items", {"name": "a", "n": 1.5})
        return doc_id

    doc_id = sim.run(add)
    assert isinstance(doc_id, Id)
    assert doc_id.table == "items"
    document = _get(sim, doc_id)
    assert document is not None
    assert document == {
        "_id": doc_id,
        "_creationTime": document["_creationTime"],
        "name": "a",
        "n": 1.5,
    }


def test_3_1_insert_into_an_unknown_table_creates_it_without_validation(sim: Simulator) -> None:
    async def index_scan(ctx: Any) -> list[dict[str, Any]]:
        return list(await ctx.db.query("scratch").with_index("by_creation_time").collect())

    with pytest.raises(ConvexSimError, match=re.escape("Index scratch.by_creation_time")):
        sim.run(index_scan)

    (doc_id,) = insert(sim, "scratch", [{"anything": [1, "two", None], "nested": {"x": b"\x00"}}])
    (row,) = sim.run(index_scan)
    assert row["_id"] == doc_id
    assert row["anything"] == [1, "two", None]
    assert row["nested"] == {"x": b"\x00"}


def test_3_1_tables_in_the_schema_are_validated(sim: Simulator) -> None:
    with pytest.raises(ValidationError, match="items"):
        insert(sim, "items", [{"name": "a", "n": "not a number"}])
    assert read_all(sim, "items") == []


@pytest.mark.parametrize("table", ["_secret", "_scheduled_functions"])
def test_3_1_table_names_starting_with_an_underscore_are_rejected(
    sim: Simulator, table: str
) -> None:
    before = sim.scheduled_functions()
    with pytest.raises(ConvexSimError, match=table):
        insert(sim, table, [{"x": 1}])
    assert sim.scheduled_functions() == before


# -- §3.2 patch, replace, delete -------------------------------------------------------------------


def test_3_2_patch_is_a_shallow_merge_and_missing_removes_a_field(sim: Simulator) -> None:
    (doc_id,) = insert(
        sim, "items", [{"name": "a", "n": 1, "tag": "t", "meta": {"keep": 1, "also": 2}}]
    )

    async def patch(ctx: Any) -> None:
        await ctx.db.patch(doc_id, {"n": 2, "tag": MISSING, "meta": {"only": 3}})

    sim.run(patch)
    document = _get(sim, doc_id)
    assert document is not None
    assert {k: value for k, value in document.items() if not k.startswith("_")} == {
        "name": "a",
        "n": 2.0,
        "meta": {"only": 3},
    }


def test_3_2_patch_with_null_stores_null(sim: Simulator) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 1, "tag": "t"}])

    async def patch(ctx: Any) -> None:
        await ctx.db.patch(doc_id, {"tag": None})

    sim.run(patch)
    document = _get(sim, doc_id)
    assert document is not None
    assert "tag" in document
    assert document["tag"] is None


def test_3_2_replace_swaps_the_whole_body_and_keeps_id_and_creation_time(sim: Simulator) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 1, "tag": "t"}])
    before = _get(sim, doc_id)
    assert before is not None
    sim.advance(5_000)

    async def replace(ctx: Any) -> None:
        await ctx.db.replace(doc_id, {"name": "b", "n": 9})

    sim.run(replace)
    assert _get(sim, doc_id) == {
        "_id": doc_id,
        "_creationTime": before["_creationTime"],
        "name": "b",
        "n": 9.0,
    }


@pytest.mark.parametrize("operation", ["patch", "replace"])
@pytest.mark.parametrize("field", ["_id", "_creationTime"])
def test_3_2_supplying_a_different_system_field_is_an_error(
    sim: Simulator, operation: str, field: str
) -> None:
    first, other = insert(sim, "items", [{"name": "a", "n": 1}, {"name": "b", "n": 2}])
    other_doc = _get(sim, other)
    assert other_doc is not None

    async def write(ctx: Any) -> None:
        body = {"name": "changed", "n": 5, field: other_doc[field]}
        await getattr(ctx.db, operation)(first, body)

    with pytest.raises(InvalidValueError, match=field):
        sim.run(write)
    unchanged = _get(sim, first)
    assert unchanged is not None
    assert unchanged["name"] == "a"


@pytest.mark.parametrize("operation", ["patch", "replace"])
def test_3_2_supplying_the_same_system_fields_is_allowed(sim: Simulator, operation: str) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 1}])
    current = _get(sim, doc_id)
    assert current is not None

    async def write(ctx: Any) -> None:
        body = {**current, "name": "same system fields"}
        await getattr(ctx.db, operation)(doc_id, body)

    sim.run(write)
    updated = _get(sim, doc_id)
    assert updated is not None
    assert updated["name"] == "same system fields"


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ("patch", "Update on nonexistent document ID"),
        ("replace", "Replace on nonexistent document ID"),
        ("delete", "Delete on nonexistent document ID"),
    ],
)
def test_3_2_writes_to_a_missing_document_fail(
    sim: Simulator, operation: str, message: str
) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "gone", "n": 1}])

    async def delete(ctx: Any) -> None:
        await ctx.db.delete(doc_id)

    sim.run(delete)

    async def write(ctx: Any) -> None:
        await ctx.db.insert("items", {"name": "written before the failure", "n": 2})
        if operation == "delete":
            await ctx.db.delete(doc_id)
        else:
            await getattr(ctx.db, operation)(doc_id, {"name": "x", "n": 3})

    with pytest.raises(DocumentNotFoundError) as caught:
        sim.run(write)
    assert str(caught.value).startswith(message)
    assert doc_id in str(caught.value)
    assert read_all(sim, "items") == []


@pytest.mark.parametrize(
    ("change", "conflicts"),
    [
        ({"n": 1}, 0),  # the same value: no write is recorded
        ({"n": 2}, 1),
    ],
)
def test_3_2_a_patch_that_leaves_the_document_identical_records_no_write(
    sim: Simulator, change: dict[str, Any], conflicts: int
) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 1}])

    async def other_client_patches(ctx: Any) -> None:
        await ctx.db.patch(doc_id, change)

    async def body(ctx: Any, attempt: int) -> Any:
        document = await ctx.db.get(doc_id)
        if attempt == 1:
            sim.run(other_client_patches)
        return document["n"]

    outcome = run_probe(sim, body)
    assert len(outcome.conflicts) == conflicts
    assert outcome.attempts == 1 + conflicts
    (patcher,) = [
        e.execution for e in sim.trace.of(ExecutionStarted) if e.function == "other_client_patches"
    ]
    (commit,) = [e for e in sim.trace.of(Committed) if e.execution == patcher]
    assert commit.writes == conflicts


def test_3_2_an_identical_replace_records_no_write(sim: Simulator) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 1, "tag": "t"}])

    async def replace_identically(ctx: Any) -> None:
        await ctx.db.replace(doc_id, {"name": "a", "n": 1, "tag": "t"})

    async def body(ctx: Any, attempt: int) -> Any:
        document = await ctx.db.get(doc_id)
        if attempt == 1:
            sim.run(replace_identically)
        return document["tag"]

    outcome = run_probe(sim, body)
    assert outcome.conflicts == []
    assert outcome.attempts == 1


# -- §3.3 two-argument forms -----------------------------------------------------------------------


def test_3_3_table_first_forms_behave_like_the_one_argument_forms(sim: Simulator) -> None:
    keep, gone = insert(sim, "items", [{"name": "a", "n": 1}, {"name": "b", "n": 2}])

    async def run(ctx: Any) -> Any:
        await ctx.db.patch("items", keep, {"n": 10})
        patched = await ctx.db.get("items", keep)
        await ctx.db.replace("items", keep, {"name": "r", "n": 11})
        await ctx.db.delete("items", gone)
        return [patched["n"], await ctx.db.get("items", gone)]

    assert sim.run(run) == [10.0, None]
    assert [(row["name"], row["n"]) for row in read_all(sim, "items")] == [("r", 11.0)]


@pytest.mark.parametrize("operation", ["get", "patch", "replace", "delete"])
def test_3_3_table_first_forms_check_the_table(sim: Simulator, operation: str) -> None:
    (counter_id,) = insert(sim, "counters", [{"name": "c", "value": 1}])

    async def run(ctx: Any) -> Any:
        if operation in ("get", "delete"):
            return await getattr(ctx.db, operation)("items", counter_id)
        return await getattr(ctx.db, operation)("items", counter_id, {"name": "x", "n": 1})

    with pytest.raises(InvalidIdError) as caught:
        sim.run(run)
    assert re.search(r"Id<[\"']items[\"']>, got Id<[\"']counters[\"']>", str(caught.value))
    assert [(row["name"], row["value"]) for row in read_all(sim, "counters")] == [("c", 1.0)]


# -- §3.4 a transaction reads its own writes -------------------------------------------------------


def test_3_4_gets_and_index_queries_see_pending_writes(sim: Simulator) -> None:
    (old,) = insert(sim, "items", [{"name": "old", "n": 1}])

    async def run(ctx: Any) -> dict[str, Any]:
        new = await ctx.db.insert("items", {"name": "new", "n": 2})
        await ctx.db.patch(old, {"name": "renamed"})
        by_name = await ctx.db.query("items").with_index("by_name").collect()
        after_insert = (await ctx.db.get(new))["name"]
        await ctx.db.delete(new)
        return {
            "get": after_insert,
            "names": [row["name"] for row in by_name],
            "afterDelete": await ctx.db.get(new),
            "scan": [row["name"] for row in await ctx.db.query("items").collect()],
        }

    assert sim.run(run) == {
        "get": "new",
        "names": ["new", "renamed"],
        "afterDelete": None,
        "scan": ["renamed"],
    }


def test_3_4_nested_query_sees_pending_writes(sim: Simulator) -> None:
    insert(sim, "items", [{"name": "committed", "n": 1}])

    async def run(ctx: Any) -> Any:
        doc_id = await ctx.db.insert("items", {"name": "pending", "n": 2})
        return {
            "names": await ctx.run_query(api.s5_calls.all_names, {}),
            "get": (await ctx.run_query(api.s5_calls.get_item, {"id": doc_id}))["name"],
        }

    assert sim.run(run) == {"names": ["committed", "pending"], "get": "pending"}


def test_3_4_nested_mutation_sees_pending_writes_and_the_caller_sees_its_writes(
    sim: Simulator,
) -> None:
    async def run(ctx: Any) -> Any:
        await ctx.db.insert("items", {"name": "caller", "n": 1})
        nested_saw = await ctx.run_mutation(
            internal.s5_calls.add_then_read_names, {"name": "nested"}
        )
        caller_sees = sorted(row["name"] for row in await ctx.db.query("items").collect())
        return {"nested": nested_saw, "caller": caller_sees}

    assert sim.run(run) == {"nested": ["caller", "nested"], "caller": ["caller", "nested"]}
    assert sorted(row["name"] for row in read_all(sim, "items")) == ["caller", "nested"]
