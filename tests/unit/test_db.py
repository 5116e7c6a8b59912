"""``ctx.db`` writes and gets: §2.1, §2.6, §3.1–§3.4, §1.7, and schema validation on write."""

from __future__ import annotations

from typing import Any

import pytest

from convex_sim import (
    MISSING,
    DocumentNotFoundError,
    Id,
    InvalidIdError,
    InvalidValueError,
    SystemTableError,
    ValidationError,
    define_schema,
    define_table,
    v,
)
from convex_sim.db import DatabaseWriter
from convex_sim.errors import TableNameError
from convex_sim.values import make_id_string
from tests.support import Harness

SCHEMA = define_schema(
    {
        "events": define_table({"value": v.number(), "tag": v.optional(v.string())}).index(
            "by_value", ["value"]
        ),
        "links": define_table({"event": v.id("events")}),
    }
)


@pytest.fixture
def harness() -> Harness:
    return Harness(SCHEMA)


def _insert(harness: Harness, table: str, document: dict[str, Any]) -> Id:
    async def insert(db: DatabaseWriter) -> Id:
        return await db.insert(table, document)

    return harness.run(insert)


def _get(harness: Harness, *args: Any) -> dict[str, Any] | None:
    async def get(db: DatabaseWriter) -> dict[str, Any] | None:
        return await db.get(*args)

    return harness.run(get)


def _all(harness: Harness, table: str) -> list[dict[str, Any]]:
    async def collect(db: DatabaseWriter) -> list[dict[str, Any]]:
        return await db.query(table).collect()

    return harness.run(collect)


def test_insert_returns_an_id_that_knows_its_table_and_get_finds_the_document(
    harness: Harness,
) -> None:
    doc_id = _insert(harness, "events", {"value": 2.5})
    assert isinstance(doc_id, Id)
    assert doc_id.table == "events"
    document = _get(harness, doc_id)
    assert document == {"_id": doc_id, "_creationTime": document["_creationTime"], "value": 2.5}  # type: ignore[index]


def test_an_int_given_to_a_number_field_is_stored_as_a_float(harness: Harness) -> None:
    doc_id = _insert(harness, "events", {"value": 5})
    stored = _get(harness, doc_id)
    assert stored is not None
    assert type(stored["value"]) is float
    assert stored["value"] == 5.0


def test_without_a_schema_an_int_stays_an_int64(harness: Harness) -> None:
    doc_id = _insert(harness, "loose", {"value": 5})
    stored = _get(harness, doc_id)
    assert stored is not None
    assert type(stored["value"]) is int


def test_documents_handed_out_are_copies(harness: Harness) -> None:
    doc_id = _insert(harness, "loose", {"items": [1, 2]})

    async def mutate_what_was_read(db: DatabaseWriter) -> None:
        document = await db.get(doc_id)
        assert document is not None
        document["items"].append(3)

    harness.run(mutate_what_was_read)
    assert _get(harness, doc_id) == {**_get(harness, doc_id), "items": [1, 2]}  # type: ignore[dict-item]


def test_creation_times_start_at_the_transaction_and_rise_within_it(harness: Harness) -> None:
    harness.now_ms = 5_000.0

    async def insert_three(db: DatabaseWriter) -> list[float]:
        ids = [await db.insert("events", {"value": float(n)}) for n in range(3)]
        return [(await db.get(i))["_creationTime"] for i in ids]  # type: ignore[index]

    times = harness.run(insert_three)
    assert times[0] == 5_000.0
    assert times[0] < times[1] < times[2]
    assert times[2] - times[0] < 1e-9


def test_get_with_a_table_checks_the_id_belongs_to_it(harness: Harness) -> None:
    doc_id = _insert(harness, "events", {"value": 1})
    assert _get(harness, "events", doc_id) is not None
    with pytest.raises(InvalidIdError, match="expected to be an Id<'links'>, got Id<'events'>"):
        _get(harness, "links", doc_id)


def test_get_of_a_malformed_id_fails_and_of_an_unknown_table_is_null(harness: Harness) -> None:
    with pytest.raises(InvalidIdError, match="Unable to decode ID: 'nope'"):
        _get(harness, "nope")
    assert _get(harness, make_id_string(999, bytes(16))) is None


def test_system_tables_need_db_system_and_user_tables_need_db(harness: Harness) -> None:
    async def query_system_through_db(db: DatabaseWriter) -> object:
        return await db.query("_scheduled_functions").collect()

    async def query_user_through_system(db: DatabaseWriter) -> object:
        return await db.system.query("events").collect()

    with pytest.raises(SystemTableError, match=r"System tables can only be accessed with db\."):
        harness.run(query_system_through_db)
    with pytest.raises(SystemTableError, match="not a system table"):
        harness.run(query_user_through_system)


def test_user_tables_cannot_start_with_an_underscore(harness: Harness) -> None:
    with pytest.raises(TableNameError, match="reserved for system tables"):
        _insert(harness, "_mine", {})
    with pytest.raises(InvalidValueError, match="reserved for system fields"):
        _insert(harness, "events", {"_id": "x", "value": 1})


def test_a_write_that_breaks_the_schema_names_the_table_path_and_validator(
    harness: Harness,
) -> None:
    with pytest.raises(ValidationError) as caught:
        _insert(harness, "events", {"value": "high"})
    error = caught.value
    assert error.path == ".value"
    assert error.value == "high"
    assert "v.float64()" in error.validator or "v.number()" in error.validator
    assert "table 'events'" in str(error)
    assert _all(harness, "events") == []


def test_schema_validation_can_be_switched_off() -> None:
    loose = Harness(
        define_schema({"events": define_table({"value": v.number()})}, schema_validation=False)
    )
    doc_id = _insert(loose, "events", {"value": "anything"})
    assert _get(loose, doc_id)["value"] == "anything"  # type: ignore[index]


def test_id_fields_are_checked_against_their_table(harness: Harness) -> None:
    event = _insert(harness, "events", {"value": 1})
    link = _insert(harness, "links", {"event": event})
    with pytest.raises(ValidationError, match=r"Path: \.event"):
        _insert(harness, "links", {"event": link})


def test_patch_merges_top_level_fields_and_missing_removes_one(harness: Harness) -> None:
    doc_id = _insert(harness, "loose", {"a": 1, "b": {"c": 2}, "d": 3})

    async def patch(db: DatabaseWriter) -> None:
        await db.patch(doc_id, {"b": {"e": 4}, "d": MISSING, "f": None})

    harness.run(patch)
    stored = _get(harness, doc_id)
    assert stored is not None
    assert {k: item for k, item in stored.items() if not k.startswith("_")} == {
        "a": 1,
        "b": {"e": 4},
        "f": None,
    }


def test_patch_replace_and_delete_accept_the_table_as_first_argument(harness: Harness) -> None:
    doc_id = _insert(harness, "events", {"value": 1})

    async def steps(db: DatabaseWriter) -> None:
        await db.patch("events", doc_id, {"value": 2})
        await db.replace("events", doc_id, {"value": 3, "tag": "t"})

    harness.run(steps)
    assert _get(harness, doc_id)["tag"] == "t"  # type: ignore[index]

    async def wrong_table(db: DatabaseWriter) -> None:
        await db.delete("links", doc_id)

    with pytest.raises(InvalidIdError, match="expected to be an Id<'links'>"):
        harness.run(wrong_table)

    async def delete(db: DatabaseWriter) -> None:
        await db.delete("events", doc_id)

    harness.run(delete)
    assert _get(harness, doc_id) is None


def test_replace_swaps_the_body_and_keeps_the_system_fields(harness: Harness) -> None:
    doc_id = _insert(harness, "events", {"value": 1, "tag": "old"})
    before = _get(harness, doc_id)

    async def replace(db: DatabaseWriter) -> None:
        await db.replace(doc_id, {"value": 2})

    harness.run(replace)
    after = _get(harness, doc_id)
    assert after is not None
    assert before is not None
    assert after == {"_id": doc_id, "_creationTime": before["_creationTime"], "value": 2.0}


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ("patch", "Update on nonexistent document ID"),
        ("replace", "Replace on nonexistent document ID"),
        ("delete", "Delete on nonexistent document ID"),
    ],
)
def test_writes_to_a_missing_document_fail_and_write_nothing(
    harness: Harness, operation: str, message: str
) -> None:
    doc_id = _insert(harness, "events", {"value": 1})
    survivor = _insert(harness, "events", {"value": 9})

    async def delete_then(db: DatabaseWriter) -> None:
        await db.delete(doc_id)
        await db.patch(survivor, {"value": 10})
        method = getattr(db, operation)
        await (method(doc_id) if operation == "delete" else method(doc_id, {"value": 2}))

    with pytest.raises(DocumentNotFoundError, match=message):
        harness.run(delete_then)
    assert _get(harness, doc_id) is not None
    assert _get(harness, survivor)["value"] == 9  # type: ignore[index]


def test_changing_a_system_field_is_an_error(harness: Harness) -> None:
    doc_id = _insert(harness, "events", {"value": 1})

    async def patch(db: DatabaseWriter) -> None:
        await db.patch(doc_id, {"_creationTime": 1.0})

    with pytest.raises(InvalidValueError, match=r"_creationTime .* cannot be changed"):
        harness.run(patch)

    async def same_id(db: DatabaseWriter) -> None:
        await db.patch(doc_id, {"_id": doc_id, "value": 4})

    harness.run(same_id)
    assert _get(harness, doc_id)["value"] == 4.0  # type: ignore[index]


def test_a_patch_that_changes_nothing_records_no_write(harness: Harness) -> None:
    doc_id = _insert(harness, "events", {"value": 1})
    db, transaction = harness.open()

    from convex_sim.checkpoint import drive

    drive(db.patch(doc_id, {"value": 1.0}))
    assert transaction.document_writes() == []
    drive(db.patch(doc_id, {"value": 1.5}))
    assert len(transaction.document_writes()) == 1


def test_a_transaction_reads_its_own_writes(harness: Harness) -> None:
    existing = _insert(harness, "events", {"value": 1})

    async def steps(db: DatabaseWriter) -> list[float]:
        new = await db.insert("events", {"value": 0})
        await db.patch(existing, {"value": 7})
        assert (await db.get(new)) is not None
        rows = await db.query("events").with_index("by_value").collect()
        await db.delete(new)
        after = await db.query("events").with_index("by_value").collect()
        return [r["value"] for r in rows] + [-1.0] + [r["value"] for r in after]

    assert harness.run(steps) == [0.0, 7.0, -1.0, 7.0]


def test_a_failed_transaction_writes_nothing(harness: Harness) -> None:
    async def insert_then_fail(db: DatabaseWriter) -> None:
        await db.insert("events", {"value": 1})
        await db.insert("events", {"value": "bad"})

    before = harness.database.store.latest_ts
    with pytest.raises(ValidationError):
        harness.run(insert_then_fail)
    assert harness.database.store.latest_ts == before
    assert _all(harness, "events") == []


def test_normalize_id_accepts_only_ids_of_that_table(harness: Harness) -> None:
    doc_id = _insert(harness, "events", {"value": 1})
    db, _ = harness.open()
    assert db.normalize_id("events", str(doc_id)) == doc_id
    assert db.normalize_id("links", str(doc_id)) is None
    assert db.normalize_id("events", "garbage") is None
