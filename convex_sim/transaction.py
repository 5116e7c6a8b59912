"""A transaction: a snapshot, the writes made on top of it, and what it read.

Implements convex-semantics.md §3.4 (a transaction reads its own writes),
§4.2 (the read set as key intervals per index) and the write layering that
§5.2 needs for nested mutations. It knows nothing about validation, names or
ids: that is ``db.py``. It knows nothing about commit order or conflicts
either: that is ``database.py``, which compares :class:`ReadSet` intervals
against the index changes of later commits.

How reads are recorded (§4.2):

* ``get`` and the point read of patch/replace/delete: ``[key, succ(key))`` on
  ``by_id``, recorded whether or not the document exists;
* a scan: from the range start (the range end, when descending) up to and
  including the key of the last document handed out, grown as documents are
  handed out; once the scan is exhausted, the whole range. Rows a filter
  rejects were handed out, so they count.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from convex_sim.errors import TransactionClosedError
from convex_sim.index_keys import encode_value, key_successor
from convex_sim.limits import (
    MAX_BYTES_READ,
    MAX_BYTES_WRITTEN,
    MAX_DOCUMENTS_SCANNED,
    MAX_DOCUMENTS_WRITTEN,
    MAX_READ_INTERVALS,
    LimitExceededError,
)
from convex_sim.schema import BY_ID
from convex_sim.store.base import DocumentWrite, IndexChange, Store, document_keys
from convex_sim.values import value_size

IndexRef = tuple[int, str]
"""(table number, index name)."""


@dataclass(slots=True)
class Interval:
    """A half-open key interval ``[start, end)``, mutable so a scan can grow it in place."""

    start: bytes
    end: bytes

    def contains(self, key: bytes) -> bool:
        return self.start <= key < self.end

    @property
    def is_empty(self) -> bool:
        return self.start >= self.end


@dataclass
class ReadSet:
    """Every key interval a transaction read, per index (§4.2)."""

    intervals: dict[IndexRef, list[Interval]] = field(default_factory=dict)

    def add(self, table_number: int, index: str, start: bytes, end: bytes) -> Interval:
        interval = Interval(start, end)
        self.intervals.setdefault((table_number, index), []).append(interval)
        return interval

    def add_point(self, table_number: int, index: str, key: bytes) -> None:
        self.add(table_number, index, key, key_successor(key))

    def covers(self, table_number: int, index: str, key: bytes) -> bool:
        intervals = self.intervals.get((table_number, index))
        return intervals is not None and any(item.contains(key) for item in intervals)

    def first_conflict(self, changes: list[IndexChange]) -> tuple[IndexChange, Interval] | None:
        """The first committed index change whose old or new key lies in a read interval (§4.4)."""
        for change in changes:
            intervals = self.intervals.get((change.table_number, change.index))
            if not intervals:
                continue
            for interval in intervals:
                for key in (change.old_key, change.new_key):
                    if key is not None and interval.contains(key):
                        return change, interval
        return None


@dataclass(slots=True)
class PendingWrite:
    """A document's state as this transaction left it (``document=None``: deleted)."""

    table_number: int
    document: dict[str, Any] | None
    keys: dict[str, bytes]
    size: int = 0
    """``document``'s Convex size (``values.value_size``); 0 for a delete."""


class Transaction:
    """Reads at ``snapshot_ts`` plus this transaction's own writes; records its read set.

    ``read_only`` transactions (queries, snapshot reads) refuse writes.
    """

    def __init__(self, store: Store, snapshot_ts: int, *, read_only: bool = False) -> None:
        self.store = store
        self.snapshot_ts = snapshot_ts
        self.read_only = read_only
        self.read_set = ReadSet()
        self.writes: dict[str, PendingWrite] = {}
        self._undo: list[tuple[str, PendingWrite | None]] = []
        self.closed = False
        self._points_read: set[tuple[int, str]] = set()
        self.uses_commit_ts = False
        """Set when a write holds ``COMMIT_TS``: the commit must resolve it (§4.8)."""
        self.documents_scanned = 0
        self.bytes_read = 0
        self.documents_written = 0
        self.bytes_written = 0
        self.read_intervals = 0

    def _count_interval(self) -> None:
        self.read_intervals += 1
        if self.read_intervals > MAX_READ_INTERVALS:
            raise LimitExceededError(
                "TooManyReads",
                f"this transaction read more than {MAX_READ_INTERVALS} index ranges",
            )

    def _count_read(self, size: int) -> None:
        """One document read (of ``size`` bytes, as the store or the write kept it)."""
        self.documents_scanned += 1
        self.bytes_read += size
        if self.bytes_read > MAX_BYTES_READ:
            raise LimitExceededError(
                "TooManyBytesRead", f"this transaction read more than {MAX_BYTES_READ} bytes"
            )
        if self.documents_scanned > MAX_DOCUMENTS_SCANNED:
            raise LimitExceededError(
                "TooManyDocumentsRead",
                f"this transaction read more than {MAX_DOCUMENTS_SCANNED} documents; "
                "use an index to narrow the range, or paginate",
            )

    # -- reads --------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise TransactionClosedError(
                "this transaction has already finished; a handler kept a reference "
                "to ctx.db (or a query) past its own execution"
            )

    def get(self, table_number: int, doc_id: str, *, record: bool = True) -> dict[str, Any] | None:
        """The document as this transaction sees it; records a point read on ``by_id``."""
        self._check_open()
        if record:
            point = (table_number, doc_id)
            if point not in self._points_read:
                # Intervals count after merging: re-reading a point adds nothing (§10).
                self._points_read.add(point)
                self._count_interval()
                self.read_set.add_point(table_number, BY_ID, encode_value(doc_id))
        pending = self.writes.get(doc_id)
        if pending is not None:
            document, size = pending.document, pending.size
        else:
            found = self.store.get_sized(doc_id, self.snapshot_ts)
            document, size = (None, 0) if found is None else found
        if record:
            self._count_read(size)
        return document

    def scan(
        self,
        table_number: int,
        index: str,
        start: bytes,
        end: bytes,
        *,
        reverse: bool,
    ) -> Iterator[tuple[bytes, dict[str, Any]]]:
        """Documents in ``[start, end)`` of an index, merged with pending writes, in order.

        The read interval is registered now (empty) and grows as rows are handed out.
        """
        self._check_open()
        self._count_interval()
        interval = (
            self.read_set.add(table_number, index, end, end)
            if reverse
            else self.read_set.add(table_number, index, start, start)
        )
        return self._scan(table_number, index, start, end, reverse, interval)

    def _scan(
        self,
        table_number: int,
        index: str,
        start: bytes,
        end: bytes,
        reverse: bool,
        interval: Interval,
    ) -> Iterator[tuple[bytes, dict[str, Any]]]:
        writes = self.writes
        stored = self.store.scan_sized(
            table_number, index, start, end, reverse=reverse, ts=self.snapshot_ts
        )
        # Pending writes are taken as of the first row; a stored row is skipped if the
        # transaction has written its document by the time the row comes up.
        pending = _pending_rows(writes, table_number, index, start, end, reverse)
        rows = _merge(_unwritten(stored, writes), pending, reverse) if pending else stored
        skip_written = not pending  # else _unwritten does it
        for key, document, size in rows:
            if skip_written and document["_id"] in writes:
                continue
            self._check_open()
            self._count_read(size)
            if reverse:
                interval.start = key
            else:
                interval.end = key_successor(key)
            yield key, document
        interval.start, interval.end = start, end

    # -- writes -------------------------------------------------------------

    def write(
        self,
        table_number: int,
        doc_id: str,
        document: dict[str, Any] | None,
        *,
        size: int = 0,
    ) -> None:
        """Stage ``document`` (None: delete) as the new state of ``doc_id``.

        ``size`` is the document's Convex size, counted against the bytes-written limit
        and kept with the write so reads count it without sizing the document again
        (when not given, the document is sized for that, and nothing is counted written).
        """
        self._check_open()
        if self.read_only:
            raise TransactionClosedError("a read-only transaction cannot write")
        self.documents_written += 1
        self.bytes_written += size
        if self.documents_written > MAX_DOCUMENTS_WRITTEN:
            raise LimitExceededError(
                "TooManyWrites",
                f"this transaction wrote more than {MAX_DOCUMENTS_WRITTEN} documents",
            )
        if self.bytes_written > MAX_BYTES_WRITTEN:
            raise LimitExceededError(
                "TooManyBytesWritten",
                f"this transaction wrote more than {MAX_BYTES_WRITTEN} bytes",
            )
        if document is None:
            keys: dict[str, bytes] = {}
            size = 0
        else:
            keys = document_keys(document, self.store.indexes(table_number))
            if not size:
                size = value_size(document)
        self._undo.append((doc_id, self.writes.get(doc_id)))
        self.writes[doc_id] = PendingWrite(table_number, document, keys, size)

    def savepoint(self) -> int:
        """A mark to roll back to: nested mutations are sub-transactions (§5.2)."""
        return len(self._undo)

    def rollback_to(self, mark: int) -> None:
        """Undo every write staged since ``mark``; reads stay recorded (§5.3)."""
        while len(self._undo) > mark:
            doc_id, previous = self._undo.pop()
            if previous is None:
                del self.writes[doc_id]
            else:
                self.writes[doc_id] = previous

    def document_writes(self) -> list[DocumentWrite]:
        """What this transaction would commit, skipping writes that change nothing."""
        result = []
        for doc_id, pending in self.writes.items():
            # Only a delete can be a no-op here (inserted then deleted): the store is
            # asked only then.
            if pending.document is None and self.store.get(doc_id, self.snapshot_ts) is None:
                continue
            result.append(
                DocumentWrite(
                    pending.table_number, doc_id, pending.document, pending.keys, pending.size
                )
            )
        return result

    def close(self) -> None:
        self.closed = True


def _pending_rows(
    writes: dict[str, PendingWrite],
    table_number: int,
    index: str,
    start: bytes,
    end: bytes,
    reverse: bool,
) -> list[tuple[bytes, dict[str, Any], int]]:
    """This transaction's live documents in ``[start, end)`` of an index, in scan order."""
    rows = []
    for write in writes.values():
        if write.table_number == table_number and write.document is not None:
            key = write.keys[index]
            if start <= key < end:
                rows.append((key, write.document, write.size))
    if len(rows) > 1:
        rows.sort(key=lambda item: item[0], reverse=reverse)
    return rows


def _unwritten(
    stored: Iterator[tuple[bytes, dict[str, Any], int]], writes: dict[str, PendingWrite]
) -> Iterator[tuple[bytes, dict[str, Any], int]]:
    """Stored rows whose document this transaction has not written (checked as each comes)."""
    for row in stored:
        if row[1]["_id"] not in writes:
            yield row


def _merge(
    stored: Iterator[tuple[bytes, dict[str, Any], int]],
    pending: list[tuple[bytes, dict[str, Any], int]],
    reverse: bool,
) -> Iterator[tuple[bytes, dict[str, Any], int]]:
    """Two key-ordered streams as one (keys are unique: they end with the document id)."""
    position = 0
    for row in stored:
        key = row[0]
        while position < len(pending) and (
            pending[position][0] > key if reverse else pending[position][0] < key
        ):
            yield pending[position]
            position += 1
        yield row
    yield from pending[position:]


__all__ = ["IndexRef", "Interval", "PendingWrite", "ReadSet", "Transaction"]
