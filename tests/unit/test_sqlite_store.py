"""The SQLite store: durable across restarts, and indistinguishable from the memory store.

The differential test is the main guarantee: the transaction layer's
behaviour is pinned against the memory store, so the SQLite store is correct
exactly when every read, every ``IndexChange`` list and every statistic
matches the memory store's for the same history, restarts included.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim.errors import SnapshotTooOldError
from convex_sim.index_keys import KEY_MAX, encode_value, prefix_end
from convex_sim.schema import IndexDefinition, user_index
from convex_sim.store import (
    DocumentWrite,
    IndexChange,
    MemoryStore,
    SqliteStore,
    Store,
    StoreStatistics,
)
from convex_sim.store import memory as memory_module
from convex_sim.store import sqlite as sqlite_module
from convex_sim.values import Id, make_id_string
from tests.strategies import convex_values, scalars

BY_X = user_index("by_x", ["x"], table="t")
BY_XY = user_index("by_xy", ["x", "y"], table="t")
BY_NESTED = user_index("by_nested", ["n.a"], table="t")
LATE_INDEXES = (BY_XY, BY_NESTED)

# Values that the Convex order tells apart though Python's == does not, or
# that stress the key and JSON encodings.
TRICKY = [0, 0.0, -0.0, 1, 1.0, True, float("nan"), "", "a", "\U0001f600", b"", b"\x00", None]


def _canon(value: Any) -> Any:
    """A form of a value that ``==`` compares exactly: types, float bits, Id tables, key order."""
    kind = type(value)
    if kind is Id:
        return ("id", str(value), value.table)
    if kind is float:
        return ("float", struct.pack(">d", value))
    if kind is list:
        return ("list", [_canon(item) for item in value])
    if kind is dict:
        return ("dict", [(_canon(key), _canon(item)) for key, item in value.items()])
    return (kind.__name__, value)


def _outcome(read: Callable[[], Any]) -> Any:
    """What a read answered, or which error it raised (so failures compare too)."""
    try:
        return ("ok", _canon(read()))
    except (SnapshotTooOldError, KeyError) as error:
        return ("error", type(error).__name__, str(error))


def _scan(
    store: Store,
    number: int,
    index: str,
    start: bytes,
    end: bytes | None,
    *,
    reverse: bool,
    ts: int,
) -> list[tuple[bytes, Any]]:
    return [
        (key, _canon(document))
        for key, document in store.scan(number, index, start, end, reverse=reverse, ts=ts)
    ]


def _doc_id(table_number: int, n: int, table: str = "t") -> Id:
    return Id(make_id_string(table_number, n.to_bytes(16, "big")), table)


# -- restarts -------------------------------------------------------------------


def _build_history(store: Store) -> list[Id]:
    """Tables in two namespaces, late indexes, updates, deletes, a re-insert and a prune."""
    app = store.table_number("", "t", create=True)
    worker = store.table_number("worker", "t", create=True)
    assert app is not None
    assert worker is not None
    store.declare_table(app)
    store.define_index(app, BY_X)
    ids = [_doc_id(app, n) for n in range(6)] + [_doc_id(worker, n) for n in range(2)]
    tables = [app] * 6 + [worker] * 2
    ts = 0
    for step, x in enumerate([3, -0.0, "\U0001f600", b"\x00\xff", float("nan"), 2**63 - 1]):
        ts += 2
        doc_id = ids[step]
        document = {"_id": doc_id, "_creationTime": float(step), "x": x, "n": {"a": step}}
        if step % 2:
            document["ref"] = ids[step - 1]
            document["by"] = {ids[step - 1]: [x]}
        store.commit(ts, [DocumentWrite(tables[step], doc_id, document)])
    store.define_index(app, BY_XY)  # back-fills
    for doc_id, number in zip(ids[6:], tables[6:], strict=True):
        ts += 1
        store.commit(ts, [DocumentWrite(number, doc_id, {"_id": doc_id, "_creationTime": 9.0})])
    ts += 1
    store.commit(ts, [DocumentWrite(app, ids[0], {"_id": ids[0], "_creationTime": 0.0, "x": 1.0})])
    ts += 1
    store.commit(ts, [DocumentWrite(app, ids[1], None), DocumentWrite(app, ids[2], None)])
    ts += 1
    store.commit(ts, [DocumentWrite(app, ids[1], {"_id": ids[1], "_creationTime": 1.0, "y": 1})])
    store.prune(6)
    ts += 1
    store.commit(ts, [DocumentWrite(app, ids[3], {"_id": ids[3], "_creationTime": 3.0, "x": 0})])
    return ids


def _everything(store: Store, ids: list[Id]) -> dict[str, Any]:
    """Every answer the store gives about its history, at every timestamp."""
    answers: dict[str, Any] = {
        "latest": store.latest_ts,
        "floor": store.oldest_readable_ts,
        "statistics": store.statistics(),
        "numbers": [store.table_number(ns, "t", create=False) for ns in ("", "worker", "x")],
    }
    for number in (1, 2, 3):
        answers[f"info {number}"] = store.table_info(number)
        if store.table_info(number) is not None:
            answers[f"indexes {number}"] = dict(store.indexes(number))
    for ts in range(store.latest_ts + 2):
        answers[f"exists {ts}"] = [store.table_exists(number, ts) for number in (1, 2, 3)]
        answers[f"get {ts}"] = [_outcome(lambda i=i, ts=ts: store.get(i, ts)) for i in ids]
        for number in (1, 2):
            for index in store.indexes(number):
                for reverse in (False, True):
                    answers[f"scan {ts} {number} {index} {reverse}"] = _outcome(
                        lambda n=number, i=index, r=reverse, t=ts: _scan(
                            store, n, i, b"", KEY_MAX, reverse=r, ts=t
                        )
                    )
    return answers


def test_a_reopened_store_answers_exactly_as_before_it_was_closed(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    ids = _build_history(store)
    before = _everything(store, ids)
    store.close()
    reopened = SqliteStore(path)
    try:
        assert _everything(reopened, ids) == before
        # And the memory store agrees with both.
        memory = MemoryStore()
        _build_history(memory)
        assert _everything(memory, ids) == before
        # Numbering, commits and pruning carry on where they left off.
        assert reopened.table_number("other", "t", create=True) == 3
        latest = reopened.latest_ts
        reopened.commit(latest + 1, [DocumentWrite(1, ids[0], None)])
        reopened.prune(latest + 1)
        assert reopened.get(ids[0], latest + 1) is None
        with pytest.raises(SnapshotTooOldError):
            reopened.get(ids[0], latest)
    finally:
        reopened.close()


def test_the_oldest_readable_timestamp_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    ids = _build_history(store)
    store.close()
    reopened = SqliteStore(path)
    try:
        assert reopened.oldest_readable_ts == 6
        with pytest.raises(SnapshotTooOldError, match="older than the oldest retained"):
            reopened.get(ids[0], 5)
    finally:
        reopened.close()


def test_an_in_memory_database_works_but_keeps_nothing() -> None:
    store = SqliteStore(":memory:")
    try:
        ids = _build_history(store)
        memory = MemoryStore()
        _build_history(memory)
        assert _everything(store, ids) == _everything(memory, ids)
    finally:
        store.close()


def test_a_failed_commit_leaves_no_trace(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    try:
        number = store.table_number("", "t", create=True)
        assert number is not None
        a, b = _doc_id(number, 1), _doc_id(number, 2)
        before = store.statistics()
        with pytest.raises(KeyError):
            store.commit(
                1,
                [
                    DocumentWrite(number, a, {"_id": a, "_creationTime": 1.0}),
                    DocumentWrite(99, b, {"_id": b, "_creationTime": 2.0}),  # no such table
                ],
            )
        assert store.latest_ts == 0
        assert store.statistics() == before
        assert store.get(a, 1) is None
        assert not store.table_exists(number, 1)
        store.commit(1, [DocumentWrite(number, a, {"_id": a, "_creationTime": 1.0})])
        assert store.get(a, 1) == {"_id": a, "_creationTime": 1.0}
    finally:
        store.close()


def test_pruning_forgets_exactly_what_the_memory_store_forgets(tmp_path: Path) -> None:
    """A death exactly at the floor leaves the garbage queue as the memory store's does.

    The memory store forgets a document's old versions only when a death of
    it is queued at or below the floor, so a delete/re-insert pruned at the
    delete keeps its tombstone through later prunes; the counts must agree.
    """
    sqlite = SqliteStore(tmp_path / "s.db")
    try:
        for store in (MemoryStore(), sqlite):
            number = store.table_number("", "t", create=True)
            assert number is not None
            a = _doc_id(number, 1)
            live = {"_id": a, "_creationTime": 1.0}
            store.commit(1, [DocumentWrite(number, a, live)])
            store.commit(2, [DocumentWrite(number, a, None)])
            store.commit(3, [DocumentWrite(number, a, live)])
            store.prune(2)
            store.commit(4, [DocumentWrite(number, _doc_id(number, 2), None)])
            store.prune(4)
            assert store.statistics() == StoreStatistics(
                documents=2, versions=3, index_entries=4
            ), type(store)
    finally:
        sqlite.close()


# -- differential: the same random history applied to both stores ---------------------

indexed_values = st.one_of(st.sampled_from(TRICKY), scalars, convex_values(max_leaves=3))
fields = st.fixed_dictionaries(
    {},
    optional={
        "x": indexed_values,
        "y": indexed_values,
        "n": st.fixed_dictionaries({}, optional={"a": indexed_values}),
        "ref": st.integers(0, 6),
    },
)
SLOTS = 7  # documents 0-4 live in the app's table, 5-6 in the component's


@dataclass(frozen=True)
class Put:
    slot: int
    fields: dict[str, Any]


@dataclass(frozen=True)
class Touch:
    """Rewrite the document changing only a field no index covers."""

    slot: int


@dataclass(frozen=True)
class Delete:
    slot: int


@dataclass(frozen=True)
class Commit:
    gap: int
    writes: list[Put | Touch | Delete]


@dataclass(frozen=True)
class Prune:
    back: int
    """How far below the latest commit the floor goes."""


@dataclass(frozen=True)
class Read:
    back: int
    """How far below the latest commit the snapshot is (−1: one past it)."""
    start: Any
    end: Any
    reverse: bool


@dataclass(frozen=True)
class Define:
    table: int
    index: int


@dataclass(frozen=True)
class Reopen:
    pass


slots = st.integers(0, SLOTS - 1)
writes = st.one_of(st.builds(Put, slots, fields), st.builds(Touch, slots), st.builds(Delete, slots))
bounds = st.one_of(st.none(), indexed_values)
operations = st.one_of(
    st.builds(Commit, st.integers(1, 3), st.lists(writes, min_size=1, max_size=4)),
    st.builds(Prune, st.integers(0, 6)),
    st.builds(Read, st.integers(-1, 8), bounds, bounds, st.booleans()),
    st.builds(Define, st.integers(1, 2), st.integers(0, len(LATE_INDEXES) - 1)),
    st.just(Reopen()),
)


class _Pair:
    """The memory store and the SQLite store, driven in lockstep and compared after each step."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.memory = MemoryStore()
        self.sqlite = SqliteStore(path)
        self.stores: tuple[Store, Store] = (self.memory, self.sqlite)
        numbers = [self._setup(store) for store in self.stores]
        assert numbers[0] == numbers[1]
        self.numbers = numbers[0]
        self.ids = [
            _doc_id(self.numbers[0] if slot < 5 else self.numbers[1], slot) for slot in range(SLOTS)
        ]
        self.current: dict[int, dict[str, Any]] = {}
        self.touches = 0

    @staticmethod
    def _setup(store: Store) -> tuple[int, int]:
        app = store.table_number("", "t", create=True)
        worker = store.table_number("worker", "t", create=True)
        assert app is not None
        assert worker is not None
        store.declare_table(app)
        store.define_index(app, BY_X)
        return app, worker

    def both(self, action: Callable[[Store], Any]) -> Any:
        memory, sqlite = (_outcome(lambda s=store: action(s)) for store in self.stores)
        assert sqlite == memory
        return memory

    def document(self, write: Put | Touch | Delete) -> dict[str, Any] | None:
        doc_id = self.ids[write.slot]
        old = self.current.get(write.slot)
        if isinstance(write, Delete):
            self.current.pop(write.slot, None)
            return None
        if isinstance(write, Touch):
            self.touches += 1
            base = old or {"_id": doc_id, "_creationTime": float(write.slot)}
            document = {**base, "z": self.touches}
        else:
            document = {"_id": doc_id, "_creationTime": float(write.slot), **write.fields}
            if "ref" in document:
                target = self.ids[document["ref"]]
                document["ref"] = target
                document["refs"] = {target: [target]}
        self.current[write.slot] = document
        return document

    def apply(self, operation: Any) -> None:
        latest = self.memory.latest_ts
        if isinstance(operation, Commit):
            batch = [
                DocumentWrite(
                    self.numbers[write.slot >= 5], self.ids[write.slot], self.document(write)
                )
                for write in operation.writes
            ]
            changes = [store.commit(latest + operation.gap, batch) for store in self.stores]
            assert changes[1] == changes[0]
            assert all(isinstance(change, IndexChange) for change in changes[1])
        elif isinstance(operation, Prune):
            for store in self.stores:
                store.prune(latest - operation.back)
        elif isinstance(operation, Define):
            number = self.numbers[operation.table - 1]
            index: IndexDefinition = LATE_INDEXES[operation.index]
            self.both(lambda store: store.define_index(number, index))
        elif isinstance(operation, Reopen):
            self.sqlite.close()
            self.sqlite = SqliteStore(self.path)
            self.stores = (self.memory, self.sqlite)
        else:
            self.read(operation)
        self.compare_state()

    def read(self, read: Read) -> None:
        ts = self.memory.latest_ts - read.back
        unknown = _doc_id(self.numbers[0], 999)
        for doc_id in [*self.ids, unknown]:
            self.both(lambda store, d=doc_id: store.get(d, ts))
        start = b"" if read.start is None else encode_value(read.start)
        end = KEY_MAX if read.end is None else prefix_end(encode_value(read.end))
        for number in self.numbers:
            for index in self.memory.indexes(number):
                for low, high in ((b"", None), (start, end), (start, None)):
                    self.both(
                        lambda store, n=number, i=index, lo=low, hi=high: _scan(
                            store, n, i, lo, hi, reverse=read.reverse, ts=ts
                        )
                    )

    def compare_state(self) -> None:
        self.both(lambda store: (store.latest_ts, store.oldest_readable_ts))
        self.both(lambda store: store.statistics())
        self.both(lambda store: [dict(store.indexes(number)) for number in self.numbers])
        latest = self.memory.latest_ts
        self.both(
            lambda store: [
                store.table_exists(number, ts)
                for number in self.numbers
                for ts in range(latest + 2)
            ]
        )


@pytest.fixture(scope="module")
def pair_paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Iterator[Path]]:
    """Fresh database paths, one per example, and tiny scan chunks in both stores.

    Module-scoped because hypothesis reruns the test body in one fixture
    instance; the tiny chunks make scans over a handful of documents cross
    chunk boundaries, in both directions, with dead keys among them.
    """
    directory = tmp_path_factory.mktemp("differential")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(memory_module, "_SCAN_CHUNK", 2)
        patch.setattr(sqlite_module, "_SCAN_CHUNK", 2)
        yield (directory / f"example{count}.db" for count in itertools.count())


@settings(max_examples=200)
@given(st.lists(operations, min_size=1, max_size=30))
def test_sqlite_store_matches_memory_store(pair_paths: Iterator[Path], history: list[Any]) -> None:
    pair = _Pair(next(pair_paths))
    try:
        for operation in history:
            pair.apply(operation)
        pair.read(Read(0, None, None, False))
        pair.read(Read(0, None, None, True))
    finally:
        pair.sqlite.close()
