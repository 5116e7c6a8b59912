"""The insert and commit fast paths agree with the general paths they shortcut.

The memory store keeps each index's keys in a dict and sorts them only once a
scan asks (then keeps the sorted list up to date); commits build their log
entries only when another transaction could still conflict with them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim.database import CommitResult, CommittedChange, Database
from convex_sim.index_keys import KEY_MAX, KEY_MIN
from convex_sim.schema import BY_CREATION_TIME, BY_ID
from convex_sim.store import DocumentWrite, MemoryStore
from convex_sim.store.base import document_keys
from convex_sim.values import Id, make_id_string

# One step: commit a put or delete of a slot, prune, or scan an index.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(0, 11), st.integers(0, 3)),
        st.tuples(st.just("delete"), st.integers(0, 11), st.just(0)),
        st.tuples(st.just("prune"), st.integers(0, 3), st.just(0)),
        st.tuples(st.just("scan"), st.sampled_from([BY_ID, BY_CREATION_TIME]), st.booleans()),
    ),
    max_size=40,
)


def _id(number: int, slot: int) -> Id:
    return Id(make_id_string(number, bytes([slot]) * 16), "t")


@settings(max_examples=150, deadline=None)
@given(steps)
def test_sorted_keys_built_on_first_scan_stay_equal_to_the_sorted_entries(
    script: list[tuple[str, Any, Any]],
) -> None:
    store = MemoryStore()
    number = store.table_number("", "t", create=True)
    assert number is not None
    ts = 0
    live: dict[int, dict[str, Any]] = {}
    for kind, first, second in script:
        if kind in ("put", "delete"):
            ts += 1
            doc_id = _id(number, first)
            if kind == "put":
                document = {"_id": doc_id, "_creationTime": float(first + 100 * second)}
                live[first] = document
                store.commit(ts, [DocumentWrite(number, doc_id, document)])
            elif first in live:
                del live[first]
                store.commit(ts, [DocumentWrite(number, doc_id, None)])
        elif kind == "prune":
            store.prune(max(0, ts - first))
        else:
            rows = list(
                store.scan(number, first, KEY_MIN, KEY_MAX, reverse=second, ts=store.latest_ts)
            )
            expected = sorted(
                (document_keys(doc, store.indexes(number))[first], doc) for doc in live.values()
            )
            if second:
                expected.reverse()
            assert [key for key, _ in rows] == [key for key, _ in expected]
        for index in store._indexes[number].values():
            if index.sorted_keys is not None:
                assert list(index.sorted_keys) == sorted(index.entries)


def test_the_fast_commit_records_keep_the_frozen_dataclass_behaviour() -> None:
    for make, fields in (
        (CommitResult, (5, [], 2)),
        (CommittedChange, (5, [], "label")),
        (DocumentWrite, (1, "doc", {"a": 1.0}, {"by_id": b"k"}, 9)),
    ):
        record: Any = make(*fields)
        again: Any = make(*fields)
        assert record == again
        assert [getattr(record, f.name) for f in dataclasses.fields(record)] == list(fields)
        try:
            record.__setattr__(dataclasses.fields(record)[0].name, 0)
        except dataclasses.FrozenInstanceError:
            pass
        else:
            raise AssertionError(f"{make.__name__} is no longer frozen")
    assert CommitResult(1, []).writes == 0
    assert DocumentWrite(1, "d", None).keys is None
    assert DocumentWrite(1, "d", None).size is None


def test_a_commit_alone_leaves_the_same_log_as_one_among_others() -> None:
    database = Database()
    number = database.store.table_number("", "t", create=True)
    assert number is not None
    older = database.begin()  # a live snapshot: commits after it must be logged
    for slot in range(3):
        transaction = database.begin()
        doc_id = _id(number, slot)
        transaction.write(number, doc_id, {"_id": doc_id, "_creationTime": float(slot)})
        database.commit(transaction, now_ms=1.0 + slot)
    assert database.log_length == 3
    database.release(older)
    assert database.log_length == 0
    transaction = database.begin()
    doc_id = _id(number, 9)
    transaction.write(number, doc_id, {"_id": doc_id, "_creationTime": 9.0})
    result = database.commit(transaction, now_ms=10.0)
    assert database.log_length == 0
    assert [change.new_key is not None for change in result.changes] == [True, True]
