"""The insert and commit fast paths agree with the general paths they shortcut.

The memory store keeps each index's keys in a dict and sorts them only once a
scan asks (then keeps the sorted list up to date); plain-scalar bodies are
copied without a check per field; ids are encoded without a step per character.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim import ids
from convex_sim.database import CommitResult, CommittedChange, Database
from convex_sim.db import DatabaseWriter, _drop_missing
from convex_sim.errors import InvalidValueError
from convex_sim.index_keys import KEY_MAX, KEY_MIN
from convex_sim.schema import (
    BY_CREATION_TIME,
    BY_ID,
)
from convex_sim.store import DocumentWrite, MemoryStore
from convex_sim.store.base import document_keys
from convex_sim.values import (
    COMMIT_TS,
    ID_RANDOM_BYTES,
    MAX_DOCUMENT_NESTING,
    MAX_DOCUMENT_SIZE,
    MISSING,
    Id,
    check_document,
    check_document_fields,
    check_value,
    decode_id_string,
    make_id_string,
    value_size,
)
from tests.strategies import convex_values, field_names, scalars

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


# -- the insert path's shortcuts ------------------------------------------------

odd_values = st.one_of(
    scalars,
    convex_values(max_leaves=4),
    st.sampled_from([MISSING, COMMIT_TS, 2**63, -(2**63) - 1, "\ud800", "é", (1,), object()]),
    st.builds(lambda table: Id(make_id_string(3, b"\x01" * 16), table), st.just("t")),
)
odd_names = st.one_of(
    field_names,
    st.sampled_from(["_id", "_creationTime", "_x", "$x", "a" * 65, "é", "", 1]),
)
documents = st.dictionaries(odd_names, odd_values, max_size=6)


def _general_check_document(doc: dict[Any, Any], table: str) -> int:
    """``check_document`` without its flat shortcut."""
    check_document_fields(doc, table=table, allow_system=True)
    check_value(doc, max_depth=MAX_DOCUMENT_NESTING)
    size = value_size(doc)
    if size > MAX_DOCUMENT_SIZE:
        raise InvalidValueError(f"too big: {size}")
    return size


def _outcome(action: Any) -> Any:
    try:
        return ("ok", action())
    except Exception as error:  # the outcome, error or not, is compared
        return ("error", type(error), str(error))


@settings(max_examples=400, deadline=None)
@given(documents)
def test_check_document_agrees_with_the_general_check(doc: dict[Any, Any]) -> None:
    general = _outcome(lambda: _general_check_document(doc, "t"))
    # The same size, or the same error.
    if general[0] == "ok":
        assert check_document(doc, table="t") == general[1]
    else:
        assert _outcome(lambda: check_document(doc, table="t"))[:2] == general[:2]


@settings(max_examples=400, deadline=None)
@given(documents)
def test_the_flat_body_shortcut_agrees_with_dropping_missing_and_checking_each_field(
    doc: dict[Any, Any],
) -> None:
    def general() -> dict[Any, Any]:
        body = _drop_missing(doc)
        for name, item in body.items():
            if item is not MISSING:
                check_value(item, path=f".{name}" if isinstance(name, str) else "")
        return dict(body)

    writer = DatabaseWriter.__new__(DatabaseWriter)
    expected = _outcome(general)
    got = _outcome(lambda: writer._document_body(doc, "t", operation="insert"))
    assert got[:2] == expected[:2]
    if expected[0] == "ok":
        assert got[1] is not doc
        assert [(k, type(v), v) for k, v in got[1].items()] == [
            (k, type(v), v) for k, v in expected[1].items()
        ]


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(st.integers(0, 200), st.integers(0, 2**40)),
    st.binary(min_size=ID_RANDOM_BYTES, max_size=ID_RANDOM_BYTES),
)
def test_id_encoding_matches_the_pairwise_base32(number: int, internal: bytes) -> None:
    payload = internal + ids._varint(number)
    expected = ids._base32_pairs(payload + ids._fletcher16(payload))
    assert make_id_string(number, internal) == expected
    ids._decoded.clear()
    assert decode_id_string(expected) == number
