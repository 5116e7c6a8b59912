"""Both stores: versions by timestamp, index scans as of a snapshot, pruning.

Every test runs against the memory store, the SQLite store, and a SQLite
store that is closed and reopened before every call (through ``make_store``),
since all three must answer every read identically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from convex_sim.errors import SnapshotTooOldError
from convex_sim.index_keys import KEY_MAX, encode_key
from convex_sim.schema import user_index
from convex_sim.store import DocumentWrite, MemoryStore, SqliteStore, Store
from convex_sim.values import Id, make_id_string

BY_X = user_index("by_x", ["x"], table="t")

StoreFactory = Callable[[], Store]


class ReopeningStore:
    """A SQLite store that is closed and opened again from its file before every call.

    Whatever a store keeps only in Python would be lost at each step, so any
    answer that depends on it differs from the other stores'. A scan's rows
    are read at once: the file it was reading is closed by the next call.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = SqliteStore(path)

    def __getattr__(self, name: str) -> Any:
        self.store.close()
        self.store = SqliteStore(self.path)
        attribute = getattr(self.store, name)
        if name == "scan":
            return lambda *args, **kwargs: iter(list(attribute(*args, **kwargs)))
        return attribute

    def close(self) -> None:
        self.store.close()


@pytest.fixture(params=["memory", "sqlite", "sqlite reopened at every call"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory for fresh, empty stores of one kind; SQLite stores are closed afterwards."""
    opened: list[Any] = []

    def make() -> Store:
        if request.param == "memory":
            return MemoryStore()
        path = tmp_path / f"s{len(opened)}.db"
        store = SqliteStore(path) if request.param == "sqlite" else ReopeningStore(path)
        opened.append(store)
        return store  # type: ignore[no-any-return]

    yield make
    for store in opened:
        store.close()


def _store(make_store: StoreFactory) -> tuple[Store, int]:
    store = make_store()
    number = store.table_number("", "t", create=True)
    assert number is not None
    store.declare_table(number)
    store.define_index(number, BY_X)
    return store, number


def _doc(n: int, x: Any, table_number: int = 1) -> dict[str, Any]:
    doc_id = Id(make_id_string(table_number, n.to_bytes(16, "big")), "t")
    return {"_id": doc_id, "_creationTime": float(n), "x": x}


def _xs(store: Store, number: int, ts: int, *, reverse: bool = False) -> list[Any]:
    return [doc["x"] for _, doc in store.scan(number, "by_x", b"", KEY_MAX, reverse=reverse, ts=ts)]


def test_reads_see_exactly_the_commits_at_or_before_their_timestamp(
    make_store: StoreFactory,
) -> None:
    store, number = _store(make_store)
    doc = _doc(1, 10)
    store.commit(10, [DocumentWrite(number, doc["_id"], doc)])
    store.commit(20, [DocumentWrite(number, doc["_id"], {**doc, "x": 20})])
    store.commit(30, [DocumentWrite(number, doc["_id"], None)])
    assert store.get(doc["_id"], 5) is None
    assert store.get(doc["_id"], 10)["x"] == 10  # type: ignore[index]
    assert store.get(doc["_id"], 29)["x"] == 20  # type: ignore[index]
    assert store.get(doc["_id"], 30) is None
    assert [_xs(store, number, ts) for ts in (5, 10, 25, 30)] == [[], [10], [20], []]


def test_a_key_change_moves_the_document_in_the_index_at_that_timestamp(
    make_store: StoreFactory,
) -> None:
    store, number = _store(make_store)
    a, b = _doc(1, 1), _doc(2, 2)
    store.commit(1, [DocumentWrite(number, a["_id"], a), DocumentWrite(number, b["_id"], b)])
    store.commit(2, [DocumentWrite(number, a["_id"], {**a, "x": 3})])
    assert _xs(store, number, 1) == [1, 2]
    assert _xs(store, number, 2) == [2, 3]
    assert _xs(store, number, 2, reverse=True) == [3, 2]


def test_commits_report_old_and_new_keys_for_every_index(make_store: StoreFactory) -> None:
    store, number = _store(make_store)
    a = _doc(1, 1)
    store.commit(1, [DocumentWrite(number, a["_id"], a)])
    changes = store.commit(2, [DocumentWrite(number, a["_id"], {**a, "x": 5})])
    by_index = {change.index: change for change in changes}
    assert set(by_index) == {"by_id", "by_creation_time", "by_x"}
    assert by_index["by_x"].old_key == encode_key([1, 1.0, a["_id"]])
    assert by_index["by_x"].new_key == encode_key([5, 1.0, a["_id"]])
    # The key did not change on by_id, and the change is still reported (§4.4).
    assert by_index["by_id"].old_key == by_index["by_id"].new_key is not None


def test_commit_timestamps_must_increase(make_store: StoreFactory) -> None:
    store, number = _store(make_store)
    a = _doc(1, 1)
    store.commit(5, [DocumentWrite(number, a["_id"], a)])
    with pytest.raises(ValueError, match="not after 5"):
        store.commit(5, [DocumentWrite(number, a["_id"], None)])


def test_a_scan_in_progress_is_unaffected_by_later_commits(make_store: StoreFactory) -> None:
    store, number = _store(make_store)
    docs = [_doc(n, n) for n in range(200)]
    store.commit(1, [DocumentWrite(number, d["_id"], d) for d in docs])
    seen = []
    for step, (_, document) in enumerate(
        store.scan(number, "by_x", b"", KEY_MAX, reverse=False, ts=1)
    ):
        seen.append(document["x"])
        if step == 70:  # past the first chunk: the scan must re-seek correctly
            extra = _doc(1000, 70.5)
            store.commit(2, [DocumentWrite(number, extra["_id"], extra)])
            store.commit(3, [DocumentWrite(number, docs[150]["_id"], None)])
    assert seen == list(range(200))


def test_define_index_back_fills_existing_documents(make_store: StoreFactory) -> None:
    store = make_store()
    number = store.table_number("", "t", create=True)
    assert number is not None
    docs = [_doc(n, 10 - n) for n in range(3)]
    store.commit(1, [DocumentWrite(number, d["_id"], d) for d in docs])
    store.define_index(number, BY_X)
    assert _xs(store, number, 1) == [8, 9, 10]


def test_tables_are_numbered_per_namespace_and_exist_once_written(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    app = store.table_number("", "t", create=True)
    component = store.table_number("worker", "t", create=True)
    assert app != component
    assert store.table_number("", "t", create=False) == app
    assert store.table_number("", "other", create=False) is None
    assert app is not None
    assert not store.table_exists(app, 10)
    doc = _doc(1, 1, table_number=app)
    store.commit(3, [DocumentWrite(app, doc["_id"], doc)])
    assert not store.table_exists(app, 2)
    assert store.table_exists(app, 3)


def test_prune_forgets_what_no_reader_at_or_above_the_floor_can_see(
    make_store: StoreFactory,
) -> None:
    store, number = _store(make_store)
    docs = [_doc(n, n) for n in range(10)]
    store.commit(1, [DocumentWrite(number, d["_id"], d) for d in docs])
    store.commit(2, [DocumentWrite(number, d["_id"], None) for d in docs[:9]])
    store.commit(3, [DocumentWrite(number, docs[9]["_id"], {**docs[9], "x": 99})])
    before = store.statistics()
    store.prune(3)
    after = store.statistics()
    assert after.documents == 1
    assert after.versions == 1
    # by_id, by_creation_time and by_x each keep one live entry.
    assert after.index_entries == 3
    assert before.index_entries > after.index_entries
    assert _xs(store, number, 3) == [99]
    with pytest.raises(SnapshotTooOldError, match="older than the oldest retained"):
        store.get(docs[0]["_id"], 2)


def test_prune_keeps_versions_a_live_snapshot_can_still_see(make_store: StoreFactory) -> None:
    store, number = _store(make_store)
    a = _doc(1, 1)
    store.commit(1, [DocumentWrite(number, a["_id"], a)])
    store.commit(2, [DocumentWrite(number, a["_id"], {**a, "x": 2})])
    store.commit(3, [DocumentWrite(number, a["_id"], {**a, "x": 3})])
    store.prune(2)
    assert store.get(a["_id"], 2)["x"] == 2  # type: ignore[index]
    assert _xs(store, number, 2) == [2]
    assert _xs(store, number, 3) == [3]
