"""The SQLite store: the memory store's history, kept in a file through sqlite-utils.

Why a second store: a deployment given a path must survive a restart, so every
committed version, table, index and the two timestamps live in SQLite. It must
answer every read exactly as :class:`~convex_sim.store.memory.MemoryStore`
does, so the layout mirrors the memory store's structures row for row:

Every storage table is named ``_sim_…`` (``sqlite_layout`` says why):

``_sim_meta(name, value)``
    ``format``, ``latest_ts``, ``floor_ts`` (the oldest readable timestamp)
    and ``deployment``, the simulator's own state as of the newest commit
    (JSON; :mod:`convex_sim.resume` says what it holds), written in the
    same SQLite transaction as the commit it belongs to.
``_sim_tables(number, namespace, name, created_ts)``
    ``created_ts`` is NULL until the table is declared (0) or first written.
``_sim_indexes(table_number, name, position, fields, key_fields)``
    ``position`` keeps definition order, which is the order of the
    :class:`IndexChange` list a commit returns; field tuples are JSON lists.
``_sim_documents(doc_id, table_number)``
    One row per document with any retained version (the memory store's
    ``_documents`` keys); its rowid order is that dict's insertion order.
``_sim_versions(seq, doc_id, ts, document, ids)``
    One row per committed version, ``document`` NULL for a deletion. The
    document is readable JSON (``document_text``: int64 as a plain integer,
    float64 as a number), so every value round-trips exactly; ``ids`` marks
    where the document held :class:`~convex_sim.values.Id` values.
``_sim_index_entries(seq, table_number, index_name, key, ts, doc_id)``
    A key's history, as in the memory store: ``doc_id`` NULL where the key died.
``_sim_dead_versions(ts, doc_id)`` and ``_sim_dead_keys(ts, table_number, index_name, key)``
    The memory store's garbage queues, persisted so pruning after a restart
    forgets exactly what it would have forgotten without one.

Beside them, one view per app and component table, named as the app names
it (``events``, ``batchWorker/workers``), for outside tools.

``seq`` (the rowid) grows with insertion, and commits insert in timestamp
order, so within one document or one key "newest at or before ts" is the row
with the largest ``seq`` among those with ``ts`` ≤ the snapshot, which is how
same-timestamp entries (two writes in one commit) are ordered too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlite_utils import Database

from convex_sim.errors import ConvexSimError, SnapshotTooOldError
from convex_sim.index_keys import document_key
from convex_sim.schema import BY_CREATION_TIME_INDEX, BY_ID_INDEX, IndexDefinition
from convex_sim.store import sqlite_layout
from convex_sim.store.base import (
    DocumentWrite,
    IndexChange,
    Store,
    StoreStatistics,
    TableInfo,
)
from convex_sim.store.document_text import decode_document, encode_document
from convex_sim.store.file_lock import FileLock

_SCAN_CHUNK: Final = 64

_LATEST_TS: Final = "latest_ts"
_FLOOR_TS: Final = "floor_ts"
_STATE: Final = "deployment"


class StoreReadOnlyError(ConvexSimError, PermissionError):
    """A write was attempted on a store opened with ``read_only=True``."""


def _state_text(state: Mapping[str, Any]) -> str:
    return json.dumps(dict(state), separators=(",", ":"), allow_nan=False)

# One chunk of a scan: up to ``limit`` keys of the interval, each with the
# newest entry at or before the snapshot (SQLite's max() aggregate takes the
# bare ``doc_id`` from the row holding the maximum ``seq``), joined to the
# version of that document visible at the snapshot. The LIMIT sits inside
# the grouped subquery so SQLite streams groups off the index instead of
# materialising the whole interval for every chunk.
_SCAN_SQL: Final = """
SELECT k.key, v.document, v.ids FROM (
    SELECT key, doc_id, max(seq) FROM _sim_index_entries
    WHERE table_number = :table AND index_name = :index
      AND key {low_op} :low {high_clause} AND ts <= :ts
    GROUP BY key ORDER BY key {direction} LIMIT :limit
) AS k
LEFT JOIN _sim_versions AS v ON v.seq = (
    SELECT seq FROM _sim_versions WHERE doc_id = k.doc_id AND ts <= :ts
    ORDER BY ts DESC, seq DESC LIMIT 1
)
ORDER BY k.key {direction}
"""

_VISIBLE_VERSION_SQL: Final = """
SELECT document, ids FROM _sim_versions WHERE doc_id = ? AND ts <= ?
ORDER BY ts DESC, seq DESC LIMIT 1
"""

_LATEST_VERSION_SQL: Final = """
SELECT document FROM _sim_versions WHERE doc_id = ? ORDER BY ts DESC, seq DESC LIMIT 1
"""


def _definition_row(table_number: int, index: IndexDefinition, position: int) -> tuple[Any, ...]:
    return (
        table_number,
        index.name,
        position,
        json.dumps(list(index.fields)),
        json.dumps(list(index.key_fields)),
    )


class SqliteStore(Store):
    """All history in one SQLite database; reopening the path restores it.

    Tables, indexes and the two timestamps are also cached in Python (they
    are small and read on every transaction); the caches change only after
    the SQLite transaction that persists them has committed.
    """

    keeps_state_per_commit = True

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        """Open (or create) the store at ``path``.

        A writable store takes the file's lock (:class:`FileLock`) for as long
        as it is open, so a second writer is refused with the file's name.
        ``read_only=True`` takes no lock and writes nothing: it is for looking
        at a file while its deployment runs (SQLite's WAL lets a reader see
        the last committed state beside a live writer).
        """
        self.path = str(path)
        self.read_only = read_only
        self._lock: FileLock | None = None
        in_memory = self.path == ":memory:"
        if read_only:
            if in_memory or not Path(path).exists():
                raise FileNotFoundError(f"no store at {self.path} to open read-only")
            uri = Path(path).resolve().as_uri() + "?mode=ro"
            self._db = Database(sqlite3.connect(uri, uri=True, check_same_thread=False))
        else:
            if not in_memory:
                self._lock = FileLock(Path(path))
            try:
                self._db = Database(path)
            except BaseException:
                self._release_lock()
                raise
        self._conn: sqlite3.Connection = self._db.conn
        self._closed = False
        try:
            self._open(in_memory)
        except BaseException:
            self.close()
            raise

    def _open(self, in_memory: bool) -> None:
        exists = sqlite_layout.check_format(self._conn, self.path)
        if not self.read_only:
            if not in_memory:
                # WAL with synchronous=NORMAL: every commit survives a process
                # crash or restart without an fsync per commit; only a power
                # failure can lose the newest commits (never corrupt older ones).
                self._db.enable_wal()
                self._conn.execute("PRAGMA synchronous=NORMAL")
            if not exists:
                with self._transaction() as conn:
                    sqlite_layout.create_tables(self._db)
                    self._set_meta(conn, "format", sqlite_layout.FORMAT)
        self._latest_ts = 0
        self._floor_ts = 0
        self._state: dict[str, Any] | None = None
        self._tables: dict[int, TableInfo] = {}
        self._table_numbers: dict[tuple[str, str], int] = {}
        self._table_created: dict[int, int] = {}
        self._indexes: dict[int, dict[str, IndexDefinition]] = {}
        if exists:
            self._load()

    @property
    def label(self) -> str:
        return "the store at :memory:" if self.path == ":memory:" else self.path

    def close(self) -> None:
        """Close the database and release its lock; everything committed is on disk."""
        if self._closed:
            return
        self._closed = True
        self.release()
        self._db.close()
        self._release_lock()

    def _release_lock(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    # -- setup --------------------------------------------------------------

    def _load(self) -> None:
        """Fill the caches from the database."""
        conn = self._conn
        meta = dict(conn.execute("SELECT name, value FROM _sim_meta").fetchall())
        self._latest_ts = int(meta.get(_LATEST_TS, 0))
        self._floor_ts = int(meta.get(_FLOOR_TS, 0))
        state = meta.get(_STATE)
        self._state = None if state is None else json.loads(state)
        for number, namespace, name, created in conn.execute(
            "SELECT number, namespace, name, created_ts FROM _sim_tables ORDER BY number"
        ):
            self._tables[number] = TableInfo(number, namespace, name)
            self._table_numbers[(namespace, name)] = number
            self._indexes[number] = {}
            if created is not None:
                self._table_created[number] = created
        for table_number, name, fields, key_fields in conn.execute(
            "SELECT table_number, name, fields, key_fields FROM _sim_indexes "
            "ORDER BY table_number, position"
        ):
            self._indexes[table_number][name] = IndexDefinition(
                name, tuple(json.loads(fields)), tuple(json.loads(key_fields))
            )

    # -- the deployment's state ------------------------------------------------

    def save_state(self, state: Mapping[str, Any]) -> None:
        text = _state_text(state)
        with self._transaction() as conn:
            self._set_meta(conn, _STATE, text)
        self._state = json.loads(text)

    def load_state(self) -> dict[str, Any] | None:
        return None if self._state is None else dict(self._state)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction: committed on success, rolled back on any error.

        Explicit BEGIN/COMMIT rather than a library helper, so every write
        method is exactly one atomic unit whatever sqlite-utils version is used.
        """
        if self.read_only:
            raise StoreReadOnlyError(f"{self.path} was opened read-only; nothing can be written")
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

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
            implicit = (BY_ID_INDEX, BY_CREATION_TIME_INDEX)
            with self._transaction() as conn:
                conn.execute(
                    "INSERT INTO _sim_tables (number, namespace, name, created_ts) "
                    "VALUES (?, ?, ?, NULL)",
                    (number, namespace, name),
                )
                conn.executemany(
                    "INSERT INTO _sim_indexes (table_number, name, position, fields, key_fields) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [_definition_row(number, index, at) for at, index in enumerate(implicit)],
                )
                sqlite_layout.replace_view(
                    conn, number, sqlite_layout.view_name(namespace, name), None
                )
            self._tables[number] = TableInfo(number, namespace, name)
            self._table_numbers[(namespace, name)] = number
            self._indexes[number] = {index.name: index for index in implicit}
        return number

    def table_info(self, number: int) -> TableInfo | None:
        return self._tables.get(number)

    def table_exists(self, number: int, ts: int) -> bool:
        created = self._table_created.get(number)
        return created is not None and created <= ts

    def declare_table(self, number: int) -> None:
        if number not in self._tables:
            # The memory store would accept any number; a row must exist to persist it.
            raise KeyError(f"table number {number} has not been allocated")
        with self._transaction() as conn:
            conn.execute("UPDATE _sim_tables SET created_ts = 0 WHERE number = ?", (number,))
        self._table_created[number] = 0

    def define_index(self, table_number: int, index: IndexDefinition) -> None:
        indexes = self._indexes[table_number]
        existing = indexes.get(index.name)
        if existing is not None:
            if existing != index:
                raise ValueError(f"index {index.name!r} is already defined differently")
            return
        # Back-fill from each document's newest version, in the order the
        # memory store iterates its documents (a later one wins a shared key).
        built: dict[bytes, tuple[int, str]] = {}
        rows = self._conn.execute(
            "SELECT d.doc_id, v.ts, v.document FROM _sim_documents AS d "
            "JOIN _sim_versions AS v ON v.seq = "
            "(SELECT max(seq) FROM _sim_versions WHERE doc_id = d.doc_id) "
            "WHERE d.table_number = ? ORDER BY d.rowid",
            (table_number,),
        ).fetchall()
        for doc_id, ts, text in rows:
            if text is not None:
                document = decode_document(text, None)
                built[document_key(document, index.key_fields)] = (ts, doc_id)
        with self._transaction() as conn:
            (position,) = conn.execute(
                "SELECT coalesce(max(position) + 1, 0) FROM _sim_indexes WHERE table_number = ?",
                (table_number,),
            ).fetchone()
            conn.execute(
                "INSERT INTO _sim_indexes (table_number, name, position, fields, key_fields) "
                "VALUES (?, ?, ?, ?, ?)",
                _definition_row(table_number, index, position),
            )
            conn.executemany(
                "INSERT INTO _sim_index_entries (table_number, index_name, key, ts, doc_id) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (table_number, index.name, key, ts, doc_id)
                    for key, (ts, doc_id) in built.items()
                ],
            )
        indexes[index.name] = index

    def indexes(self, table_number: int) -> Mapping[str, IndexDefinition]:
        return dict(self._indexes[table_number])

    def tables(self) -> list[TableInfo]:
        """Every table the store has numbered, in number order."""
        return [self._tables[number] for number in sorted(self._tables)]

    def count_live(self, number: int) -> int:
        """How many documents the table holds in its latest state."""
        (count,) = self._conn.execute(
            "SELECT count(*) FROM _sim_documents AS d JOIN _sim_versions AS v ON v.seq = "
            "(SELECT max(seq) FROM _sim_versions WHERE doc_id = d.doc_id) "
            "WHERE d.table_number = ? AND v.document IS NOT NULL",
            (number,),
        ).fetchone()
        return int(count)

    def drop_index(self, table_number: int, name: str) -> None:
        if name not in self._indexes[table_number]:
            return
        with self._transaction() as conn:
            conn.execute(
                "DELETE FROM _sim_indexes WHERE table_number = ? AND name = ?",
                (table_number, name),
            )
            for table in ("_sim_index_entries", "_sim_dead_keys"):
                conn.execute(
                    f"DELETE FROM {table} WHERE table_number = ? AND index_name = ?",
                    (table_number, name),
                )
        del self._indexes[table_number][name]

    def present_table(self, number: int, fields: Sequence[str] | None) -> None:
        info = self._tables[number]
        with self._transaction() as conn:
            sqlite_layout.replace_view(
                conn, number, sqlite_layout.view_name(info.namespace, info.name), fields
            )

    # -- reads --------------------------------------------------------------

    def _check_ts(self, ts: int) -> None:
        if ts < self._floor_ts:
            raise SnapshotTooOldError(
                f"timestamp {ts} is older than the oldest retained version ({self._floor_ts})"
            )

    def get(self, doc_id: str, ts: int) -> dict[str, Any] | None:
        self._check_ts(ts)
        row = self._conn.execute(_VISIBLE_VERSION_SQL, (doc_id, ts)).fetchone()
        if row is None or row[0] is None:
            return None
        return decode_document(row[0], row[1])

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
        self._check_ts(ts)
        if index not in self._indexes[table_number]:
            raise KeyError(index)
        low, low_inclusive, high = start, True, end
        while True:
            # Each chunk is a fresh query, fetched whole, and the next one
            # re-seeks past the last key: commits between our steps only add
            # entries newer than any snapshot a reader holds.
            sql = _SCAN_SQL.format(
                low_op=">=" if low_inclusive else ">",
                high_clause="" if high is None else "AND key < :high",
                direction="DESC" if reverse else "ASC",
            )
            params: dict[str, Any] = {
                "table": table_number,
                "index": index,
                "low": low,
                "high": high,
                "ts": ts,
                "limit": _SCAN_CHUNK,
            }
            rows = self._conn.execute(sql, params).fetchall()
            for key, text, ids in rows:
                if text is None:
                    continue  # the key is dead at ts (or its document is)
                # As in the memory store, a prune that overtakes the snapshot
                # mid-scan fails the next document read.
                self._check_ts(ts)
                yield key, decode_document(text, ids)
            if len(rows) < _SCAN_CHUNK:
                return
            if reverse:
                high = rows[-1][0]
            else:
                low, low_inclusive = rows[-1][0], False

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
        created: dict[int, int] = {}
        new_documents: list[tuple[str, int]] = []
        version_rows: list[tuple[str, int, str | None, str | None]] = []
        dead_versions: list[tuple[int, str]] = []
        entry_rows: list[tuple[int, str, bytes, int, str | None]] = []
        dead_keys: list[tuple[int, int, str, bytes]] = []
        # A document written twice in one commit sees its first write as "old".
        written: dict[str, dict[str, Any] | None] = {}
        conn = self._conn
        for write in writes:
            indexes = self._indexes[write.table_number]
            doc_id, new = write.doc_id, write.document
            if doc_id in written:
                old = written[doc_id]
            else:
                row = conn.execute(_LATEST_VERSION_SQL, (doc_id,)).fetchone()
                if row is None:
                    new_documents.append((doc_id, write.table_number))
                old = None if row is None or row[0] is None else decode_document(row[0], None)
            written[doc_id] = new
            text, ids = (None, None) if new is None else encode_document(new)
            version_rows.append((doc_id, ts, text, ids))
            if old is not None:
                dead_versions.append((ts, doc_id))
            number = write.table_number
            if new is not None and number not in self._table_created and number not in created:
                created[number] = ts
            for definition in indexes.values():
                fields = definition.key_fields
                old_key = None if old is None else document_key(old, fields)
                new_key = None if new is None else document_key(new, fields)
                if old_key != new_key:
                    if old_key is not None:
                        entry_rows.append((number, definition.name, old_key, ts, None))
                        dead_keys.append((ts, number, definition.name, old_key))
                    if new_key is not None:
                        entry_rows.append((number, definition.name, new_key, ts, doc_id))
                changes.append(IndexChange(number, definition.name, old_key, new_key, doc_id))
        with self._transaction() as conn:
            conn.executemany(
                "INSERT INTO _sim_documents (doc_id, table_number) VALUES (?, ?)", new_documents
            )
            conn.executemany(
                "INSERT INTO _sim_versions (doc_id, ts, document, ids) VALUES (?, ?, ?, ?)",
                version_rows,
            )
            conn.executemany(
                "INSERT INTO _sim_dead_versions (ts, doc_id) VALUES (?, ?)", dead_versions
            )
            conn.executemany(
                "INSERT INTO _sim_index_entries (table_number, index_name, key, ts, doc_id) "
                "VALUES (?, ?, ?, ?, ?)",
                entry_rows,
            )
            conn.executemany(
                "INSERT INTO _sim_dead_keys (ts, table_number, index_name, key) "
                "VALUES (?, ?, ?, ?)",
                dead_keys,
            )
            conn.executemany(
                "UPDATE _sim_tables SET created_ts = ? WHERE number = ?",
                [(at, number) for number, at in created.items()],
            )
            self._set_meta(conn, _LATEST_TS, ts)
            state_text = None if state is None else _state_text(state)
            if state_text is not None:
                self._set_meta(conn, _STATE, state_text)
        if state_text is not None:
            self._state = json.loads(state_text)
        self._table_created.update(created)
        self._latest_ts = ts
        return changes

    @staticmethod
    def _set_meta(conn: sqlite3.Connection, name: str, value: int | str) -> None:
        conn.execute(
            "INSERT INTO _sim_meta (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def prune(self, floor_ts: int) -> None:
        floor_ts = min(floor_ts, self._latest_ts)
        if floor_ts <= self._floor_ts:
            return
        with self._transaction() as conn:
            self._set_meta(conn, _FLOOR_TS, floor_ts)
            # Documents and keys that died at or before the floor, as the
            # memory store drains its garbage queues; for each, keep only the
            # newest entry at or before the floor and everything after it,
            # then forget it entirely if all that is left is its death.
            doc_ids = [
                (doc_id, floor_ts)
                for (doc_id,) in conn.execute(
                    "SELECT DISTINCT doc_id FROM _sim_dead_versions WHERE ts <= ?", (floor_ts,)
                )
            ]
            conn.executemany(
                "DELETE FROM _sim_versions WHERE doc_id = ?1 AND seq < "
                "(SELECT max(seq) FROM _sim_versions WHERE doc_id = ?1 AND ts <= ?2)",
                doc_ids,
            )
            conn.executemany(
                "DELETE FROM _sim_versions WHERE doc_id = ?1 AND document IS NULL "
                "AND (SELECT count(*) FROM _sim_versions WHERE doc_id = ?1) = 1",
                [(doc_id,) for doc_id, _ in doc_ids],
            )
            conn.executemany(
                "DELETE FROM _sim_documents WHERE doc_id = ?1 "
                "AND NOT EXISTS (SELECT 1 FROM _sim_versions WHERE doc_id = ?1)",
                [(doc_id,) for doc_id, _ in doc_ids],
            )
            keys = conn.execute(
                "SELECT DISTINCT table_number, index_name, key FROM _sim_dead_keys WHERE ts <= ?",
                (floor_ts,),
            ).fetchall()
            same_key = "table_number = ?1 AND index_name = ?2 AND key = ?3"
            conn.executemany(
                f"DELETE FROM _sim_index_entries WHERE {same_key} AND seq < "
                f"(SELECT max(seq) FROM _sim_index_entries WHERE {same_key} AND ts <= ?4)",
                [(*key, floor_ts) for key in keys],
            )
            conn.executemany(
                f"DELETE FROM _sim_index_entries WHERE {same_key} AND doc_id IS NULL "
                f"AND (SELECT count(*) FROM _sim_index_entries WHERE {same_key}) = 1",
                keys,
            )
            conn.execute("DELETE FROM _sim_dead_versions WHERE ts <= ?", (floor_ts,))
            conn.execute("DELETE FROM _sim_dead_keys WHERE ts <= ?", (floor_ts,))
        self._floor_ts = floor_ts

    def statistics(self) -> StoreStatistics:
        count = self._conn.execute(
            "SELECT (SELECT count(*) FROM _sim_documents), (SELECT count(*) FROM _sim_versions), "
            "(SELECT count(*) FROM _sim_index_entries)"
        ).fetchone()
        return StoreStatistics(documents=count[0], versions=count[1], index_entries=count[2])
