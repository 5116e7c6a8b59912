"""Document sizes kept beside documents count exactly the bytes that sizing them would.

The bytes-read limit counts ``value_size`` of every document a transaction
reads. Sizes are now computed once, when a document is written, carried in the
pending write and the committed version, and read back with the document, so
these tests pin the counted bytes against ``value_size`` of what was read: for
committed documents, for the transaction's own pending writes, for writes
staged without a size, for commit-timestamp placeholders, and for both stores.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convex_sim.checkpoint import drive
from convex_sim.database import Database
from convex_sim.db import CreationTimes, DatabaseWriter, DbSession
from convex_sim.seeds import ExecutionSeed
from convex_sim.store import DocumentWrite, MemoryStore, SqliteStore, Store
from convex_sim.store import memory as memory_module
from convex_sim.store import sqlite as sqlite_module
from convex_sim.transaction import Transaction
from convex_sim.values import COMMIT_TS, value_size
from tests.strategies import convex_values
from tests.unit.test_sqlite_store import Read, _Pair, operations

user_fields = st.dictionaries(
    st.text(alphabet="abcxyz", min_size=1, max_size=3), convex_values(max_leaves=6), max_size=4
)


class _Db:
    """``ctx.db`` over a chosen store, one transaction at a time."""

    def __init__(self, store: Store) -> None:
        self.database = Database(store)
        self.seed = itertools.count(1)

    def open(self) -> tuple[DatabaseWriter, Transaction]:
        transaction = self.database.begin()
        session = DbSession(
            database=self.database,
            transaction=transaction,
            namespace="",
            schema=None,
            seeds=ExecutionSeed(next(self.seed)),
            creation_times=CreationTimes(self.database, 1_000.0),
        )
        return DatabaseWriter(session), transaction


_examples = itertools.count()


def _stores(tmp_path: Path) -> Iterator[Store]:
    yield MemoryStore()
    sqlite = SqliteStore(tmp_path / f"sizes{next(_examples)}.db")
    try:
        yield sqlite
    finally:
        sqlite.close()


def _check_counted_bytes(store: Store, stored: list[dict[str, Any]], pending: list[Any]) -> None:
    db = _Db(store)
    writer, transaction = db.open()

    async def insert_all() -> list[Any]:
        return [await writer.insert("t", fields) for fields in stored]

    ids = drive(insert_all())
    db.database.commit(transaction, now_ms=1_000.0)

    writer, transaction = db.open()
    seen: list[dict[str, Any]] = []

    async def read_all() -> None:
        for doc_id in ids:
            document = await writer.get(doc_id)
            assert document is not None
            seen.append(document)
        seen.extend(await writer.query("t").collect())

    drive(read_all())
    assert transaction.bytes_read == sum(value_size(document) for document in seen)

    # The transaction's own writes: new documents, patched and replaced ones, a delete.
    # Patch, replace and delete read the document first (counted), so each is preceded
    # by a get of the same version and that version is counted twice.
    missing = 0

    async def read_twice(doc_id: Any) -> None:
        document = await writer.get(doc_id)
        assert document is not None
        seen.extend([document, document])

    async def write_and_read() -> None:
        nonlocal missing
        new_ids = [await writer.insert("t", fields) for fields in pending]
        for doc_id, fields in zip([*new_ids, *ids], pending, strict=False):
            await read_twice(doc_id)
            await writer.patch(doc_id, fields)
        if len(ids) > 1:
            await read_twice(ids[1])
            await writer.replace(ids[1], {"replaced": [1, "two", {"three": 3.0}]})
            await read_twice(ids[0])
            await writer.delete(ids[0])
        for doc_id in [*ids, *new_ids]:
            document = await writer.get(doc_id)
            if document is None:
                missing += 1
            else:
                seen.append(document)
        seen.extend(await writer.query("t").collect())
        seen.extend(await writer.query("t").order("desc").take(2))

    drive(write_and_read())
    assert transaction.bytes_read == sum(value_size(document) for document in seen)
    assert transaction.documents_scanned == len(seen) + missing
    db.database.release(transaction)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(user_fields, min_size=1, max_size=5), st.lists(user_fields, max_size=4))
def test_counted_bytes_are_the_size_of_what_was_read(
    tmp_path: Path, stored: list[dict[str, Any]], pending: list[dict[str, Any]]
) -> None:
    for store in _stores(tmp_path):
        _check_counted_bytes(store, stored, pending)


def test_a_write_staged_without_a_size_is_sized_for_reads_but_not_counted_written() -> None:
    # The scheduler stages job rows this way: no bytes-written charge, as before.
    database = Database()
    store = database.store
    number = store.table_number("", "t", create=True)
    assert number is not None
    document = {"_id": "a", "_creationTime": 1.0, "nested": {"list": [1, "x", b"\x00"]}}
    transaction = database.begin()
    transaction.write(number, "a", document)
    assert transaction.bytes_written == 0
    assert transaction.get(number, "a") is document
    assert transaction.bytes_read == value_size(document)
    database.commit(transaction, now_ms=1.0)

    reader = database.begin()
    assert reader.get(number, "a") == document
    assert reader.bytes_read == value_size(document)
    assert [row for _, row in reader.scan(number, "by_id", b"", b"\xff", reverse=False)] == [
        document
    ]
    assert reader.bytes_read == 2 * value_size(document)
    database.release(reader)


def test_a_commit_timestamp_placeholder_keeps_the_size_of_the_int_it_becomes() -> None:
    database = Database()
    store = database.store
    number = store.table_number("", "t", create=True)
    assert number is not None
    document = {"_id": "a", "_creationTime": 1.0, "at": COMMIT_TS, "deep": [{"at": COMMIT_TS}]}
    transaction = database.begin()
    transaction.write(number, "a", document, size=value_size(document))
    transaction.uses_commit_ts = True
    result = database.commit(transaction, now_ms=5.0)

    reader = database.begin()
    committed = reader.get(number, "a")
    assert committed is not None
    assert committed["at"] == result.ts
    assert reader.bytes_read == value_size(committed) == value_size(document)
    database.release(reader)


def test_documents_committed_with_and_without_sizes_read_back_the_same_size() -> None:
    store = MemoryStore()
    number = store.table_number("", "t", create=True)
    assert number is not None
    a = {"_id": "a", "_creationTime": 1.0, "s": "é" * 3}
    b = {"_id": "b", "_creationTime": 2.0, "x": [None, True, 1.5]}
    store.commit(
        1, [DocumentWrite(number, "a", a, size=value_size(a)), DocumentWrite(number, "b", b)]
    )
    assert store.get_sized("a", 1) == (a, value_size(a))
    assert store.get_sized("b", 1) == (b, value_size(b))
    assert store.get_sized("a", 0) is None
    assert store.get_sized("missing", 1) is None


# -- the sized reads against the plain ones, over random histories of both stores -----


class _SizedPair(_Pair):
    def read(self, read: Read) -> None:
        super().read(read)
        ts = self.memory.latest_ts - read.back
        for doc_id in self.ids:
            sized = self.both(lambda store, d=doc_id: _as_list(store.get_sized(d, ts)))
            plain = self.both(lambda store, d=doc_id: store.get(d, ts))
            if plain[0] == "ok":
                document = self.memory.get(doc_id, ts)
                expected = None if document is None else (document, value_size(document))
                assert self.memory.get_sized(doc_id, ts) == expected
            else:
                assert sized == plain
        for number in self.numbers:
            for index in self.memory.indexes(number):
                rows = self.both(
                    lambda store, n=number, i=index: _sized_rows(store, n, i, read.reverse, ts)
                )
                if rows[0] == "ok":
                    scanned = _sized_rows(self.memory, number, index, read.reverse, ts)
                    plain_rows = list(
                        self.memory.scan(number, index, b"", None, reverse=read.reverse, ts=ts)
                    )
                    assert scanned == [[k, d, value_size(d)] for k, d in plain_rows]


def _as_list(found: tuple[Any, ...] | None) -> list[Any] | None:
    """As a list, which the differential comparison canonicalises (NaN fields included)."""
    return None if found is None else list(found)


def _sized_rows(store: Store, number: int, index: str, reverse: bool, ts: int) -> list[Any]:
    rows = store.scan_sized(number, index, b"", None, reverse=reverse, ts=ts)
    return [list(row) for row in rows]


@pytest.fixture(scope="module")
def sized_pair_paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Iterator[Path]]:
    directory = tmp_path_factory.mktemp("sized")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(memory_module, "_SCAN_CHUNK", 2)
        patch.setattr(sqlite_module, "_SCAN_CHUNK", 2)
        yield (directory / f"example{count}.db" for count in itertools.count())


@settings(max_examples=60, deadline=None)
@given(st.lists(operations, min_size=1, max_size=25))
def test_sized_reads_agree_with_sizing_what_plain_reads_return(
    sized_pair_paths: Iterator[Path], history: list[Any]
) -> None:
    pair = _SizedPair(next(sized_pair_paths))
    try:
        for operation in history:
            pair.apply(operation)
        pair.read(Read(0, None, None, False))
    finally:
        pair.sqlite.close()


def test_index_changes_keep_the_frozen_dataclass_behaviour() -> None:
    # IndexChange sets its slots directly rather than through the generated __init__.
    import dataclasses

    from convex_sim.store import IndexChange

    change = IndexChange(1, "by_id", b"old", None, "doc")
    assert change == IndexChange(1, "by_id", b"old", None, "doc")
    assert hash(change) == hash(IndexChange(1, "by_id", b"old", None, "doc"))
    assert change != IndexChange(1, "by_id", b"old", None)
    assert IndexChange(2, "i", None, b"k").doc_id == ""
    assert dataclasses.astuple(change) == (1, "by_id", b"old", None, "doc")
    assert repr(change) == (
        "IndexChange(table_number=1, index='by_id', old_key=b'old', new_key=None, doc_id='doc')"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.index = "other"  # type: ignore[misc]
