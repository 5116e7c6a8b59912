"""The committer: hands out snapshots, orders commits, and checks them for conflicts.

Implements convex-semantics.md §4.1 (serializable commits checked against every
write committed after the snapshot), §4.4 (the conflict rule), §4.5
(read-only transactions never conflict) and the timestamp rules of §1.7 and
§4.8 (commit timestamps are int64 nanoseconds that strictly increase and never
fall behind the clock).

It keeps a log of the index changes of recent commits, pruned to what the
oldest live transaction can still conflict with, so a commit costs the same
after a thousand transactions as after a million.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from convex_sim.errors import ConvexSimError
from convex_sim.schema import Schema
from convex_sim.store.base import DocumentWrite, IndexChange, Store
from convex_sim.store.memory import MemoryStore
from convex_sim.transaction import Interval, Transaction
from convex_sim.values import resolve_commit_ts

NANOS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class CommittedChange:
    ts: int
    changes: list[IndexChange]
    label: str


class ConflictError(ConvexSimError):
    """A transaction read something that a later commit changed (OCC, §4.1)."""

    def __init__(
        self, *, change: IndexChange, interval: Interval, conflicting_ts: int, label: str
    ) -> None:
        self.change = change
        self.interval = interval
        self.conflicting_ts = conflicting_ts
        self.conflicting_label = label
        super().__init__(
            f"read of index {change.index} on table #{change.table_number} conflicts "
            f"with the commit at ts {conflicting_ts} ({label or 'unnamed'})"
        )


@dataclass(frozen=True, slots=True)
class CommitResult:
    ts: int
    changes: list[IndexChange]
    writes: int = 0
    """How many documents the commit wrote."""


class Database:
    """The one place commits are ordered. Owned by the simulator; one per deployment."""

    def __init__(self, store: Store | None = None, *, keep_history: bool = False) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self.keep_history = keep_history
        self._log: deque[CommittedChange] = deque()
        self._live_snapshots: Counter[int] = Counter()
        self._oldest_live: int | None = None
        """``min(_live_snapshots)``, kept up to date so releasing is not a scan."""
        self._last_ns = self.store.latest_ts
        self._last_creation_time = -math.inf
        self.state_source: Callable[[], Mapping[str, Any]] | None = None
        """The deployment's own state, kept with every commit by a store that needs it."""

    # -- snapshots ----------------------------------------------------------

    def begin(self, *, read_only: bool = False) -> Transaction:
        """A transaction reading the newest committed state."""
        return self.begin_at(self.store.latest_ts, read_only=read_only)

    def begin_at(self, snapshot_ts: int, *, read_only: bool = False) -> Transaction:
        transaction = Transaction(self.store, snapshot_ts, read_only=read_only)
        self._live_snapshots[snapshot_ts] += 1
        if self._oldest_live is None or snapshot_ts < self._oldest_live:
            self._oldest_live = snapshot_ts
        return transaction

    def creation_time_base(self, now_ms: float) -> float:
        """Where a new transaction's creation times start: its begin time, after all before it."""
        return max(now_ms, math.nextafter(self._last_creation_time, math.inf))

    def note_creation_time(self, value: float) -> None:
        self._last_creation_time = max(self._last_creation_time, value)

    @property
    def last_creation_time(self) -> float:
        """The latest ``_creationTime`` handed out (−inf before any)."""
        return self._last_creation_time

    def release(self, transaction: Transaction) -> None:
        """Forget a transaction that is over (committed, aborted or read-only)."""
        if transaction.closed:
            return
        transaction.close()
        ts = transaction.snapshot_ts
        live = self._live_snapshots
        live[ts] -= 1
        if not live[ts]:
            del live[ts]
            if ts == self._oldest_live:
                # Only the oldest snapshot going away moves the floor.
                self._oldest_live = min(live, default=None)
        self._collect_garbage()

    # -- commits ------------------------------------------------------------

    def check(self, transaction: Transaction) -> ConflictError | None:
        """The conflict this transaction would hit if it committed now, if any."""
        for entry in reversed(self._log):
            if entry.ts <= transaction.snapshot_ts:
                break
            found = transaction.read_set.first_conflict(entry.changes)
            if found is not None:
                change, interval = found
                return ConflictError(
                    change=change, interval=interval, conflicting_ts=entry.ts, label=entry.label
                )
        return None

    def commit(self, transaction: Transaction, *, now_ms: float, label: str = "") -> CommitResult:
        """Commit, or raise :class:`ConflictError` and leave the store untouched."""
        writes = transaction.document_writes()
        if not writes:
            # Read-only (in effect): it commits at its snapshot and cannot conflict (§4.5).
            self.release(transaction)
            return CommitResult(transaction.snapshot_ts, [])
        conflict = self.check(transaction)
        if conflict is not None:
            self.release(transaction)
            raise conflict
        ts = max(self.store.latest_ts + 1, int(now_ms * NANOS_PER_MS), self._last_ns + 1)
        if transaction.uses_commit_ts:
            writes = [
                # Each placeholder becomes an int64: the same size (9), so it is kept.
                DocumentWrite(
                    w.table_number, w.doc_id, resolve_commit_ts(w.document, ts), size=w.size
                )
                for w in writes
            ]
        store = self.store
        source = self.state_source
        if source is not None and store.keeps_state_per_commit:
            changes = store.commit(ts, writes, state=source())
        else:
            changes = store.commit(ts, writes)
        self._last_ns = ts
        self._log.append(CommittedChange(ts, changes, label))
        self.release(transaction)
        return CommitResult(ts, changes, len(writes))

    def _collect_garbage(self) -> None:
        floor = self._oldest_live
        if floor is None:
            floor = self.store.latest_ts
        while self._log and self._log[0].ts <= floor:
            self._log.popleft()
        if not self.keep_history:
            self.store.prune(floor)

    @property
    def log_length(self) -> int:
        """How many commits the conflict check may still have to look at."""
        return len(self._log)

    # -- schemas ------------------------------------------------------------

    def install_schema(self, namespace: str, schema: Schema) -> None:
        """Create the schema's tables (they exist even when empty, §2.5) and their indexes.

        On a store that already holds them this is a push: indexes the schema
        added are back-filled, indexes it changed are rebuilt and indexes it
        dropped are forgotten. Documents are checked against the schema
        before this, by whoever opens the store (``resume.check_documents``).
        """
        store = self.store
        for name, table in schema.tables.items():
            number = store.table_number(namespace, name, create=True)
            assert number is not None
            store.declare_table(number)
            wanted = table.all_indexes()
            for existing_name, existing in list(store.indexes(number).items()):
                if wanted.get(existing_name) != existing:
                    store.drop_index(number, existing_name)
            for index in wanted.values():
                store.define_index(number, index)
            store.present_table(number, table.field_names())
