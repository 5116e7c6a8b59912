"""The in-memory store: multi-version documents and sorted indexes (§1.8, §4.1).

Each document keeps its list of ``(ts, version)`` (``None`` = deleted). Each
index is a dict from encoded key to that key's history of
``(ts, doc_id or None)``: when a document's key changes at ts, its old key gets
a ``None`` entry at ts and its new key a live one. A scan as of ts walks the
keys in the interval and, for each, takes the newest entry at or before ts.

The keys' sorted order is only needed by scans, and many indexes are never
scanned (``by_id`` almost never: reads by id go to the documents): each index
builds a ``SortedList`` of its keys on its first scan and keeps it up to date
from then on, so a commit to an index nobody scanned costs one dict insert.

Superseded versions and dead keys are queued as garbage with the timestamp at
which they died; :meth:`MemoryStore.prune` drops those that no reader at or
above the floor can see, so scans do not wade through tombstones.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from types import MappingProxyType
from typing import Any

from sortedcontainers import SortedList

from convex_sim.errors import SnapshotTooOldError
from convex_sim.index_keys import document_key
from convex_sim.schema import (
    BY_CREATION_TIME,
    BY_CREATION_TIME_INDEX,
    BY_ID,
    BY_ID_INDEX,
    IndexDefinition,
)
from convex_sim.store.base import (
    DocumentWrite,
    IndexChange,
    Store,
    StoreStatistics,
    TableInfo,
    document_keys,
)
from convex_sim.values import value_size

_SCAN_CHUNK = 64

# One key's history: [(ts, doc_id)] with doc_id None where the key died.
_KeyHistory = list[tuple[int, str | None]]
# One version of a document: (ts, document, size, keys), document None where it was
# deleted. ``size`` is the document's ``value_size`` (0 for a deletion), kept so reads
# count bytes without sizing it again; ``keys`` its index keys by index name (None for
# a deletion), kept so the commit that supersedes it need not encode them again.
_Version = tuple[int, dict[str, Any] | None, int, Mapping[str, bytes] | None]
# One document's history, oldest first.
_DocHistory = list[_Version]


def _visible(history: Sequence[tuple[Any, ...]], ts: int) -> Any:
    """The payload of the newest entry at or before ``ts`` (None if there is none)."""
    entry = history[-1]
    if entry[0] <= ts:
        return entry[1]
    position = bisect_right(history, ts, key=_entry_ts)
    return history[position - 1][1] if position else None


def _visible_entry(history: _DocHistory, ts: int) -> _Version | None:
    """The newest version at or before ``ts`` (None if there is none)."""
    position = bisect_right(history, ts, key=_entry_ts)
    return history[position - 1] if position else None


def _entry_ts(entry: tuple[Any, ...]) -> int:
    ts: int = entry[0]
    return ts


class _Index:
    """One index: key -> key history, and (once scanned) the keys in sorted order."""

    __slots__ = ("definition", "entries", "sorted_keys")

    def __init__(self, definition: IndexDefinition) -> None:
        self.definition = definition
        self.entries: dict[bytes, _KeyHistory] = {}
        self.sorted_keys: SortedList | None = None
        """Every key of ``entries``, sorted; None until the first scan asks for it."""

    def keys_in_order(self) -> SortedList:
        keys = self.sorted_keys
        if keys is None:
            keys = self.sorted_keys = SortedList(self.entries)
        return keys

    def add_key(self, key: bytes, history: _KeyHistory) -> None:
        """A key not in ``entries`` yet."""
        self.entries[key] = history
        if self.sorted_keys is not None:
            self.sorted_keys.add(key)

    def remove_key(self, key: bytes) -> None:
        del self.entries[key]
        if self.sorted_keys is not None:
            self.sorted_keys.remove(key)


class MemoryStore(Store):
    """All history in Python dicts and sorted dicts; nothing survives the process."""

    def __init__(self) -> None:
        self._latest_ts = 0
        self._floor_ts = 0
        self._tables: dict[int, TableInfo] = {}
        self._table_numbers: dict[tuple[str, str], int] = {}
        self._table_created: dict[int, int] = {}
        self._indexes: dict[int, dict[str, _Index]] = {}
        # What ``indexes`` returns, built once per change: read on every write and query.
        self._definitions: dict[int, Mapping[str, IndexDefinition]] = {}
        self._documents: dict[str, _DocHistory] = {}
        self._doc_tables: dict[str, int] = {}
        self._dead_versions: deque[tuple[int, str]] = deque()
        self._dead_keys: deque[tuple[int, _Index, bytes]] = deque()

    # -- tables and indexes -------------------------------------------------

    @property
    def latest_ts(self) -> int:
        return self._latest_ts

    @property
    def oldest_readable_ts(self) -> int:
        return self._floor_ts

    def table_number(self, namespace: str, name: str, *, create: bool) -> int | None:
        number = self._table_numbers.get((namespace, name))
        if number is None and create:
            number = len(self._tables) + 1
            self._tables[number] = TableInfo(number, namespace, name)
            self._table_numbers[(namespace, name)] = number
            self._indexes[number] = {
                BY_ID: _Index(BY_ID_INDEX),
                BY_CREATION_TIME: _Index(BY_CREATION_TIME_INDEX),
            }
            self._refresh_definitions(number)
        return number

    def _refresh_definitions(self, number: int) -> None:
        """A new read-only mapping (never changed in place, so callers may iterate it)."""
        self._definitions[number] = MappingProxyType(
            {name: index.definition for name, index in self._indexes[number].items()}
        )

    def table_info(self, number: int) -> TableInfo | None:
        return self._tables.get(number)

    def table_exists(self, number: int, ts: int) -> bool:
        created = self._table_created.get(number)
        return created is not None and created <= ts

    def declare_table(self, number: int) -> None:
        self._table_created[number] = 0

    def define_index(self, table_number: int, index: IndexDefinition) -> None:
        indexes = self._indexes[table_number]
        existing = indexes.get(index.name)
        if existing is not None:
            if existing.definition != index:
                raise ValueError(f"index {index.name!r} is already defined differently")
            return
        built = _Index(index)
        for doc_id, history in self._documents.items():
            document = history[-1][1]
            if document is not None and self._table_of(doc_id) == table_number:
                key = document_key(document, index.key_fields)
                built.add_key(key, [(history[-1][0], doc_id)])
        indexes[index.name] = built
        self._refresh_definitions(table_number)

    def drop_index(self, table_number: int, name: str) -> None:
        # Garbage entries still naming the index are harmless: pruning them touches
        # only the dropped index object.
        if self._indexes[table_number].pop(name, None) is not None:
            self._refresh_definitions(table_number)

    def indexes(self, table_number: int) -> Mapping[str, IndexDefinition]:
        return self._definitions[table_number]

    def _table_of(self, doc_id: str) -> int | None:
        return self._doc_tables.get(doc_id)

    # -- reads --------------------------------------------------------------

    def _check_ts(self, ts: int) -> None:
        if ts < self._floor_ts:
            raise SnapshotTooOldError(
                f"timestamp {ts} is older than the oldest retained version ({self._floor_ts})"
            )

    def get(self, doc_id: str, ts: int) -> dict[str, Any] | None:
        self._check_ts(ts)
        history = self._documents.get(doc_id)
        if history is None:
            return None
        document: dict[str, Any] | None = _visible(history, ts)
        return document

    def get_sized(self, doc_id: str, ts: int) -> tuple[dict[str, Any], int] | None:
        if ts < self._floor_ts:
            self._check_ts(ts)
        history = self._documents.get(doc_id)
        if history is None:
            return None
        entry = history[-1]
        if entry[0] > ts:
            visible = _visible_entry(history, ts)
            if visible is None:
                return None
            entry = visible
        document = entry[1]
        return None if document is None else (document, entry[2])

    def scan(
        self,
        table_number: int,
        index: str,
        start: bytes,
        end: bytes | None,
        *,
        reverse: bool,
        ts: int,
    ) -> Iterator[tuple[bytes, dict[str, Any]]]:
        for key, document, _ in self.scan_sized(
            table_number, index, start, end, reverse=reverse, ts=ts
        ):
            yield key, document

    def scan_sized(
        self,
        table_number: int,
        index: str,
        start: bytes,
        end: bytes | None,
        *,
        reverse: bool,
        ts: int,
    ) -> Iterator[tuple[bytes, dict[str, Any], int]]:
        self._check_ts(ts)
        chosen = self._indexes[table_number][index]
        entries = chosen.entries
        ordered = chosen.keys_in_order()
        low, high = start, end
        while True:
            # Copy a chunk of keys, then re-seek after it: the sorted keys may
            # change between our steps (other transactions commit).
            keys = list(
                islice(
                    ordered.irange(low, high, inclusive=(True, False), reverse=reverse),
                    _SCAN_CHUNK,
                )
            )
            for key in keys:
                history = entries.get(key)
                if history is None:
                    continue
                doc_id = _visible(history, ts)
                if doc_id is None:
                    continue
                found = self.get_sized(doc_id, ts)
                if found is not None:
                    yield key, found[0], found[1]
            if len(keys) < _SCAN_CHUNK:
                return
            if reverse:
                high = keys[-1]
            else:
                low = keys[-1] + b"\x00"

    # -- writes -------------------------------------------------------------

    def commit(
        self,
        ts: int,
        writes: Sequence[DocumentWrite],
        *,
        state: Mapping[str, Any] | None = None,
    ) -> list[IndexChange]:
        if ts <= self._latest_ts:
            raise ValueError(f"commit timestamp {ts} is not after {self._latest_ts}")
        changes: list[IndexChange] = []
        documents = self._documents
        dead_versions = self._dead_versions
        dead_keys = self._dead_keys
        for write in writes:
            doc_id = write.doc_id
            number = write.table_number
            new = write.document
            definitions = self._definitions[number]
            history = documents.get(doc_id)
            old_keys: Mapping[str, bytes] | None = None
            if history is None:
                history = documents[doc_id] = []
                self._doc_tables[doc_id] = number
            else:
                _, old, _, old_keys = history[-1]
                if old is not None:
                    dead_versions.append((ts, doc_id))
                    if old_keys is None or old_keys.keys() != definitions.keys():
                        # An index was defined since this version was committed.
                        old_keys = document_keys(old, definitions)
            new_keys: Mapping[str, bytes] | None = None
            if new is None:
                history.append((ts, None, 0, None))
            else:
                new_keys = write.keys
                if new_keys is None or new_keys.keys() != definitions.keys():
                    # Not given, or an index was defined since the writer computed them.
                    new_keys = document_keys(new, definitions)
                size = write.size
                history.append((ts, new, value_size(new) if size is None else size, new_keys))
                if number not in self._table_created:
                    self._table_created[number] = ts
            for name, index in self._indexes[number].items():
                old_key = None if old_keys is None else old_keys[name]
                new_key = None if new_keys is None else new_keys[name]
                if old_key != new_key:
                    if old_key is not None:
                        index.entries[old_key].append((ts, None))
                        dead_keys.append((ts, index, old_key))
                    if new_key is not None:
                        key_history = index.entries.get(new_key)
                        if key_history is None:
                            index.add_key(new_key, [(ts, doc_id)])
                        else:
                            key_history.append((ts, doc_id))
                changes.append(IndexChange(number, name, old_key, new_key, doc_id))
        self._latest_ts = ts
        if state is not None:
            self.save_state(state)
        return changes

    def prune(self, floor_ts: int) -> None:
        floor_ts = min(floor_ts, self._latest_ts)
        if floor_ts <= self._floor_ts:
            return
        self._floor_ts = floor_ts
        dead_versions = self._dead_versions
        documents = self._documents
        while dead_versions and dead_versions[0][0] <= floor_ts:
            _, doc_id = dead_versions.popleft()
            history = documents.get(doc_id)
            if history is not None:
                _drop_invisible(history, floor_ts)
                if len(history) == 1 and history[0][1] is None:
                    del documents[doc_id]
                    del self._doc_tables[doc_id]
        dead_keys = self._dead_keys
        while dead_keys and dead_keys[0][0] <= floor_ts:
            _, index, key = dead_keys.popleft()
            entries = index.entries
            key_history = entries.get(key)
            if key_history is not None:
                _drop_invisible(key_history, floor_ts)
                if len(key_history) == 1 and key_history[0][1] is None:
                    index.remove_key(key)

    def statistics(self) -> StoreStatistics:
        return StoreStatistics(
            documents=len(self._documents),
            versions=sum(len(history) for history in self._documents.values()),
            index_entries=sum(
                len(history)
                for indexes in self._indexes.values()
                for index in indexes.values()
                for history in index.entries.values()
            ),
        )


def _drop_invisible(history: list[Any], floor_ts: int) -> None:
    """Drop entries older than the newest one at or before ``floor_ts``."""
    if history[-1][0] <= floor_ts:
        # The usual case: nothing was written after the floor, so only the newest stays.
        if len(history) > 1:
            del history[:-1]
        return
    position = bisect_right(history, floor_ts, key=_entry_ts)
    if position > 1:
        del history[: position - 1]
