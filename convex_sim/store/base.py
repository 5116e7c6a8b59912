"""The storage interface: committed, timestamped versions of documents (§4.1 snapshots).

Why an interface: the in-memory store and the SQLite store must answer every
read identically, so the transaction layer (and the property tests that pin
its behaviour) talk only to this. Timestamps are integers that strictly
increase with each commit; a read "as of ts" sees exactly the commits with a
timestamp ≤ ts.

Tables are numbered per deployment; ``namespace`` separates the app's tables
("") from each component's (its mount path), which is how components get
isolated tables with the same names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convex_sim.errors import ConvexSimError
from convex_sim.index_keys import encode_value, field_value
from convex_sim.schema import IndexDefinition
from convex_sim.values import value_size


def document_keys(
    document: dict[str, Any], indexes: Mapping[str, IndexDefinition]
) -> dict[str, bytes]:
    """``document``'s key in each of ``indexes`` (as ``index_keys.document_key`` makes it).

    A table's indexes share fields (every key ends with ``_creationTime`` and
    ``_id``), so each field is encoded once and the encodings are reused.
    """
    encoded: dict[str, bytes] = {}
    keys: dict[str, bytes] = {}
    for name, definition in indexes.items():
        parts = []
        for path in definition.key_fields:
            part = encoded.get(path)
            if part is None:
                part = encoded[path] = encode_value(field_value(document, path))
            parts.append(part)
        keys[name] = b"".join(parts)
    return keys


class StoreInUseError(ConvexSimError, RuntimeError):
    """A store (or its file) is already open for another simulator."""


@dataclass(frozen=True, slots=True)
class TableInfo:
    number: int
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class DocumentWrite:
    """One document's new committed state: ``document=None`` deletes it."""

    table_number: int
    doc_id: str
    document: dict[str, Any] | None
    keys: Mapping[str, bytes] | None = field(default=None, compare=False, repr=False)
    """The new document's index keys by index name, when the writer already computed
    them (the transaction does, to scan its own writes); a store may use them instead
    of encoding the keys again. Indexes missing here are computed."""
    size: int | None = field(default=None, compare=False, repr=False)
    """The new document's Convex size (``values.value_size``), when the writer already
    computed it (for the bytes-written limit); a store may keep it so reads can count
    bytes without sizing the document again. None: the store computes it if it needs it."""

    def __init__(
        self,
        table_number: int,
        doc_id: str,
        document: dict[str, Any] | None,
        keys: Mapping[str, bytes] | None = None,
        size: int | None = None,
    ) -> None:
        # As IndexChange's: every committed write makes one, so the slots are set directly.
        _set_write_table_number(self, table_number)
        _set_write_doc_id(self, doc_id)
        _set_write_document(self, document)
        _set_write_keys(self, keys)
        _set_write_size(self, size)


_set_write_table_number = DocumentWrite.__dict__["table_number"].__set__
_set_write_doc_id = DocumentWrite.__dict__["doc_id"].__set__
_set_write_document = DocumentWrite.__dict__["document"].__set__
_set_write_keys = DocumentWrite.__dict__["keys"].__set__
_set_write_size = DocumentWrite.__dict__["size"].__set__


@dataclass(frozen=True, slots=True)
class IndexChange:
    """What a committed write did to one index: the keys of the old and new versions.

    The OCC check compares both against read intervals (§4.4), so a change is
    reported even when the key stayed the same.
    """

    table_number: int
    index: str
    old_key: bytes | None
    new_key: bytes | None
    doc_id: str = ""
    """The document written, so a conflict can name it (§4.6's message does)."""

    def __init__(
        self,
        table_number: int,
        index: str,
        old_key: bytes | None,
        new_key: bytes | None,
        doc_id: str = "",
    ) -> None:
        # The generated frozen __init__ goes through object.__setattr__ per field; a
        # commit makes one of these per index per write, so the slots are set directly.
        _set_table_number(self, table_number)
        _set_index(self, index)
        _set_old_key(self, old_key)
        _set_new_key(self, new_key)
        _set_doc_id(self, doc_id)


_set_table_number = IndexChange.__dict__["table_number"].__set__
_set_index = IndexChange.__dict__["index"].__set__
_set_old_key = IndexChange.__dict__["old_key"].__set__
_set_new_key = IndexChange.__dict__["new_key"].__set__
_set_doc_id = IndexChange.__dict__["doc_id"].__set__


class Store(ABC):
    """Committed history of every document, with index range scans as of any timestamp."""

    @property
    @abstractmethod
    def latest_ts(self) -> int:
        """The timestamp of the newest commit (0 before any)."""

    @property
    @abstractmethod
    def oldest_readable_ts(self) -> int:
        """Reads below this timestamp fail: their versions were pruned."""

    @abstractmethod
    def table_number(self, namespace: str, name: str, *, create: bool) -> int | None:
        """The number of a table, allocating one when ``create`` (existence is separate)."""

    @abstractmethod
    def table_info(self, number: int) -> TableInfo | None: ...

    @abstractmethod
    def table_exists(self, number: int, ts: int) -> bool:
        """Whether the table had been created (declared or inserted into) as of ``ts``."""

    @abstractmethod
    def declare_table(self, number: int) -> None:
        """Mark a table as existing from the start of history (schema tables)."""

    @abstractmethod
    def define_index(self, table_number: int, index: IndexDefinition) -> None:
        """Maintain ``index`` on the table from now on (back-filling current documents)."""

    @abstractmethod
    def indexes(self, table_number: int) -> Mapping[str, IndexDefinition]: ...

    @abstractmethod
    def get(self, doc_id: str, ts: int) -> dict[str, Any] | None:
        """The document as of ``ts``. Callers must not mutate what is returned."""

    def get_sized(self, doc_id: str, ts: int) -> tuple[dict[str, Any], int] | None:
        """``get``, with the document's ``value_size``; None if there is no document.

        For the bytes-read limit. This default sizes the document; a store that kept the
        size at commit returns that instead.
        """
        document = self.get(doc_id, ts)
        return None if document is None else (document, value_size(document))

    @abstractmethod
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
        """``(key, document)`` for every key in ``[start, end)`` as of ``ts``, in key order.

        The iterator stays correct while other commits happen between its steps.
        """

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
        """``scan``, each row with its document's ``value_size`` (see :meth:`get_sized`)."""
        for key, document in self.scan(table_number, index, start, end, reverse=reverse, ts=ts):
            yield key, document, value_size(document)

    @abstractmethod
    def commit(
        self,
        ts: int,
        writes: Sequence[DocumentWrite],
        *,
        state: Mapping[str, Any] | None = None,
    ) -> list[IndexChange]:
        """Apply ``writes`` atomically at ``ts`` (> ``latest_ts``); tables written to now exist.

        ``state`` is the deployment's own state as of this commit (see
        :meth:`save_state`), kept in the same atomic step.
        """

    # -- the deployment's state beside its documents ---------------------------------

    _saved_state: dict[str, Any] | None = None
    _holder: str | None = None

    @property
    def label(self) -> str:
        """How messages name this store (a file's path, or what kind it is)."""
        return f"the {type(self).__name__}"

    keeps_state_per_commit: bool = False
    """Whether each commit must carry the deployment's state (``commit(state=...)``).

    A store that survives a crash needs it with every commit, since there may
    be no later chance to save it; a store that lives only in this process
    needs it only when its simulator closes (:meth:`save_state`).
    """

    def save_state(self, state: Mapping[str, Any]) -> None:
        """Keep the deployment's own state (clock, id streams, ...) for the next opener.

        ``state`` is a small JSON-able mapping; :mod:`convex_sim.resume` says
        what is in it and why.
        """
        self._saved_state = dict(state)

    def load_state(self) -> dict[str, Any] | None:
        """What the last :meth:`save_state` or stateful commit kept; None for a new store."""
        saved = self._saved_state
        return None if saved is None else dict(saved)

    # -- one writer at a time ----------------------------------------------------------

    def acquire(self, owner: str) -> None:
        """Take the store for one simulator; a second taker gets :class:`StoreInUseError`.

        Two deployments writing one history would hand out the same
        timestamps and ids, so a store serves one simulator at a time.
        """
        if self._holder is not None:
            raise StoreInUseError(
                f"this store is already in use by {self._holder}; close that one first "
                "(sim.close(), or leave its `with Simulator(...)` block)"
            )
        self._holder = owner

    def release(self) -> None:
        """Give the store back (the simulator holding it was closed)."""
        self._holder = None

    def close(self) -> None:
        """Release whatever the store holds outside Python (files, locks)."""
        self.release()

    # -- schema changes ------------------------------------------------------------------

    @abstractmethod
    def drop_index(self, table_number: int, name: str) -> None:
        """Stop maintaining an index and forget its entries (a push that removed it)."""

    def present_table(self, number: int, fields: Sequence[str] | None) -> None:  # noqa: B027
        """A hint of a table's top-level fields (None: unknown), for stores that show
        tables to outside tools (the SQLite store makes a view of each)."""

    @abstractmethod
    def prune(self, floor_ts: int) -> None:
        """Forget versions that no read at a timestamp ≥ ``floor_ts`` can see."""

    @abstractmethod
    def statistics(self) -> StoreStatistics:
        """How much the store holds: for tests of pruning and for memory benchmarks."""


@dataclass(frozen=True, slots=True)
class StoreStatistics:
    documents: int
    """Documents with any retained version (deleted ones until pruned)."""
    versions: int
    """Retained document versions, tombstones included."""
    index_entries: int
    """Retained (key, version) entries over all indexes."""
