"""``ctx.db``: the database API handed to handlers.

Implements convex-semantics.md §2.1 (get and its table checks), §2.6 (system
tables only through ``db.system``), §3.1–§3.3 (insert, patch, replace, delete,
and their errors) and §1.7 (creation times). It turns names into table
numbers, validates documents against the schema, makes ids, and hands the
rest to the :class:`~convex_sim.transaction.Transaction`.

Every method is a coroutine that first awaits a
:class:`~convex_sim.checkpoint.Checkpoint`, so each call is a point where the
executor may run another execution first.

Removing a field with ``patch``: Python's ``None`` is Convex's ``null``, so
``patch(id, {"f": None})`` stores null. To remove ``f`` pass
``convex_sim.MISSING`` (Convex's ``undefined``): ``patch(id, {"f": MISSING})``.
A ``MISSING`` field in ``insert``/``replace`` is dropped, as ``undefined`` is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from convex_sim.checkpoint import Checkpoint
from convex_sim.database import Database
from convex_sim.errors import (
    DocumentNotFoundError,
    InvalidIdError,
    InvalidValueError,
    SystemTableError,
)
from convex_sim.query_builder import QueryInitializer
from convex_sim.schema import Schema, check_identifier, check_user_table_name
from convex_sim.seeds import ExecutionSeed
from convex_sim.transaction import Transaction
from convex_sim.values import (
    COMMIT_TS,
    MAX_VALUE_NESTING,
    MISSING,
    Id,
    check_document,
    check_document_fields,
    check_value,
    contains_commit_ts,
    copy_value,
    decode_id_string,
    is_flat_value,
    make_id_string,
    type_name,
    value_size,
    values_equal,
)


class CreationTimes:
    """The §1.7 counter of one transaction, shared by its nested calls.

    It starts at the transaction's begin time and each insert takes the current
    value and moves it to the next double, so creation times rise strictly
    within a transaction; across transactions they follow start order.
    """

    def __init__(self, database: Database, now_ms: float) -> None:
        self._database = database
        self._next = database.creation_time_base(now_ms)

    def take(self) -> float:
        value = self._next
        self._next = math.nextafter(value, math.inf)
        self._database.note_creation_time(value)
        return value


Observer = Callable[[str, str, str, Any], None]
"""Told ``(operation, table, detail, document)`` after each database call, for the trace;
``document`` is the version a write staged (None for reads and deletes)."""


@dataclass
class DbSession:
    """Everything one execution's ``ctx.db`` needs: its transaction, namespace and schema.

    ``seeds`` makes ids (seeded per execution, so ids replay).
    """

    database: Database
    transaction: Transaction
    namespace: str
    schema: Schema | None
    seeds: ExecutionSeed
    creation_times: CreationTimes
    observer: Observer | None = None
    paginated: bool = False
    system_writable: bool = False
    _located: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False)
    """Ids this session already resolved: an id often comes back (``get`` then ``delete``),
    and what it names cannot change (its table number and the table's name are fixed)."""

    def observe(self, operation: str, table: str, detail: str = "", document: Any = None) -> None:
        if self.observer is not None:
            self.observer(operation, table, detail, document)

    # -- names and ids ------------------------------------------------------

    def table_number(self, table: str, *, create: bool = False) -> int | None:
        return self.database.store.table_number(self.namespace, table, create=create)

    def table_exists(self, number: int) -> bool:
        if self.database.store.table_exists(number, self.transaction.snapshot_ts):
            return True
        return any(w.table_number == number for w in self.transaction.writes.values())

    def locate_id(self, doc_id: str, *, operation: str) -> tuple[int, str] | None:
        """``(table number, table name)`` of an id in this namespace; None if no table here."""
        located = self._located.get(doc_id) if isinstance(doc_id, str) else None
        if located is not None:
            return located
        if not isinstance(doc_id, str):
            raise InvalidIdError(
                f"Invalid argument `id` for `db.{operation}`: expected an id string, "
                f"got {type_name(doc_id)} {doc_id!r}"
            )
        number = decode_id_string(doc_id)
        if number is None:
            raise InvalidIdError(
                f"Invalid argument `id` for `db.{operation}`: Unable to decode ID: {doc_id!r}"
            )
        info = self.database.store.table_info(number)
        if info is None or info.namespace != self.namespace:
            return None  # not cached: the table may be created later
        located = self._located[doc_id] = (number, info.name)
        return located

    def resolve_id(self, doc_id: str) -> str | None:
        """The table an id string names in this namespace (for ``v.id`` validation)."""
        try:
            located = self.locate_id(doc_id, operation="normalizeId")
        except InvalidIdError:
            return None
        return None if located is None else located[1]

    def new_id(self, table: str, number: int) -> Id:
        return Id(make_id_string(number, self.seeds.id_bytes()), table)

    def take_creation_time(self) -> float:
        return self.creation_times.take()


def _drop_missing(value: Any, depth_left: int = MAX_VALUE_NESTING) -> Any:
    """Drop fields holding ``MISSING`` at any depth, as Convex drops ``undefined`` fields.

    It runs before ``check_value``, on whatever the handler passed, so it goes no
    deeper than a value may nest: what lies below is left as it is for
    ``check_value`` to refuse, instead of exhausting the stack here.
    """
    if depth_left < 0:
        return value
    if type(value) is dict:
        return {
            k: _drop_missing(item, depth_left - 1)
            for k, item in value.items()
            if item is not MISSING
        }
    if type(value) is list:
        return [_drop_missing(item, depth_left - 1) for item in value]
    return value


def _split_table_and_id(
    operation: str, first: str, second: Any, rest: tuple[Any, ...]
) -> tuple[str | None, str, tuple[Any, ...]]:
    """Accept both ``op(id, ...)`` and ``op(table, id, ...)`` (§3.3)."""
    if second is _NOTHING:
        return None, first, rest
    if rest or operation in ("get", "delete"):
        return first, second, rest
    # patch/replace with two arguments: (id, value)
    return None, first, (second,)


_NOTHING: Any = object()


@dataclass(frozen=True)
class DatabaseVars:
    """``ctx.db.vars``: values the database fills in at commit (§4.8)."""

    commit_ts: Any = COMMIT_TS
    """Write it into a document; at commit it becomes the commit timestamp (int64 ns)."""


DATABASE_VARS = DatabaseVars()


class DatabaseReader:
    """``ctx.db`` in a query: reads only."""

    vars = DATABASE_VARS

    def __init__(self, session: DbSession, *, system: bool = False) -> None:
        self._session = session
        self._system = system

    def _check_table_kind(self, table: str, operation: str) -> None:
        if table.startswith("_") and not self._system:
            raise SystemTableError(
                f"db.{operation}: table {table!r} is a system table. "
                "System tables can only be accessed with db.system."
            )
        if self._system and not table.startswith("_"):
            raise SystemTableError(
                f"db.system.{operation}: table {table!r} is not a system table; "
                "use db instead of db.system"
            )

    async def get(self, table_or_id: str, doc_id: Any = _NOTHING) -> dict[str, Any] | None:
        """The document with this id, or None. ``get(table, id)`` also checks the table."""
        await Checkpoint("db.get", str(table_or_id))
        table, raw_id, _ = _split_table_and_id("get", table_or_id, doc_id, ())
        if table is not None:
            check_identifier(table, what="Table name")
            self._check_table_kind(table, "get")
        session = self._session
        located = session.locate_id(raw_id, operation="get")
        if located is None:
            return None
        number, actual = located
        self._check_table_kind(actual, "get")
        if table is not None and actual != table:
            raise InvalidIdError(
                f"Invalid argument `id` for `db.get`: expected to be an Id<{table!r}>, "
                f"got Id<{actual!r}>"
            )
        document = session.transaction.get(number, raw_id)
        session.observe("db.get", actual, str(raw_id))
        return None if document is None else copy_value(document)

    def query(self, table: str) -> QueryInitializer:
        """Start a query on ``table``: ``with_index``, ``order``, ``filter``, then consume it."""
        check_identifier(table, what="Table name")
        self._check_table_kind(table, "query")
        return QueryInitializer(self._session, table)

    def normalize_id(self, table: str, doc_id: str) -> Id | None:
        """``doc_id`` as an :class:`Id` of ``table``, or None if it is not one."""
        check_identifier(table, what="Table name")
        located = None
        try:
            located = self._session.locate_id(doc_id, operation="normalizeId")
        except InvalidIdError:
            return None
        if located is None or located[1] != table:
            return None
        return Id(doc_id, table)

    @property
    def system(self) -> DatabaseReader:
        """Read-only access to ``_scheduled_functions`` and ``_storage``."""
        return DatabaseReader(self._session, system=True)


class DatabaseWriter(DatabaseReader):
    """``ctx.db`` in a mutation: reads and writes in one transaction."""

    async def insert(self, table: str, document: Mapping[str, Any]) -> Id:
        """Insert a document and return its new id (§3.1). Unknown tables are created."""
        await Checkpoint("db.insert", str(table))
        if self._system and self._session.system_writable:
            check_identifier(table, what="Table name")
        else:
            check_user_table_name(table)
        body = self._document_body(document, table, operation="insert")
        check_document_fields(body, table=table, allow_system=False)
        session = self._session
        validated = self._validate(table, body)
        number = session.table_number(table, create=True)
        assert number is not None
        doc_id = session.new_id(table, number)
        stored = {"_id": doc_id, "_creationTime": session.take_creation_time(), **validated}
        if self._system and self._session.system_writable:
            # Scheduler rows: their args are bounded by the scheduling budget (§6.8),
            # not by the 1 MiB document limit.
            size = value_size(stored)
        else:
            size = check_document(stored, table=table)
        if contains_commit_ts(validated):
            session.transaction.uses_commit_ts = True
        session.transaction.write(number, doc_id, stored, size=size)
        session.observe("db.insert", table, str(doc_id), stored)
        return doc_id

    async def patch(self, table_or_id: str, doc_id: Any, fields: Any = _NOTHING) -> None:
        """Shallow-merge ``fields`` into the document; ``MISSING`` removes a field (§3.2)."""
        await Checkpoint("db.patch", str(table_or_id))
        table, raw_id, rest = _split_table_and_id("patch", table_or_id, doc_id, _args(fields))
        update = self._document_body(rest[0], table, operation="patch", keep_missing=True)
        number, actual, current = self._load_for_write(table, raw_id, "patch", "Update")
        self._check_system_fields(update, current, actual)
        merged = {k: item for k, item in current.items() if not k.startswith("_")}
        for name, item in update.items():
            if name.startswith("_"):
                continue
            if item is MISSING:
                merged.pop(name, None)
            else:
                merged[name] = _drop_missing(item)
        check_document_fields(merged, table=actual, allow_system=False)
        written = self._store(number, actual, raw_id, current, merged)
        self._session.observe("db.patch", actual, str(raw_id), written)

    async def replace(self, table_or_id: str, doc_id: Any, document: Any = _NOTHING) -> None:
        """Replace the whole body, keeping ``_id`` and ``_creationTime`` (§3.2)."""
        await Checkpoint("db.replace", str(table_or_id))
        table, raw_id, rest = _split_table_and_id("replace", table_or_id, doc_id, _args(document))
        body = self._document_body(rest[0], table, operation="replace")
        number, actual, current = self._load_for_write(table, raw_id, "replace", "Replace")
        self._check_system_fields(body, current, actual)
        user_fields = {k: item for k, item in body.items() if not k.startswith("_")}
        check_document_fields(user_fields, table=actual, allow_system=False)
        written = self._store(number, actual, raw_id, current, user_fields)
        self._session.observe("db.replace", actual, str(raw_id), written)

    async def delete(self, table_or_id: str, doc_id: Any = _NOTHING) -> None:
        """Delete the document; deleting a missing one is an error (§3.2)."""
        await Checkpoint("db.delete", str(table_or_id))
        table, raw_id, _ = _split_table_and_id("delete", table_or_id, doc_id, ())
        number, actual, _ = self._load_for_write(table, raw_id, "delete", "Delete")
        self._session.transaction.write(number, raw_id, None)
        self._session.observe("db.delete", actual, str(raw_id))

    @property
    def system(self) -> DatabaseReader:
        """Read-only access to the system tables (§2.6); only the runtime writes them."""
        return DatabaseReader(self._session, system=True)

    # -- helpers ------------------------------------------------------------

    def _document_body(
        self, document: Any, table: str | None, *, operation: str, keep_missing: bool = False
    ) -> dict[str, Any]:
        # The usual body, every field a plain scalar: _drop_missing would only copy it
        # and check_value would accept each field, so the copy is all there is to do.
        if (
            not keep_missing
            and type(document) is dict
            and all(is_flat_value(item) for item in document.values())
        ):
            return dict(document)
        if not isinstance(document, Mapping):
            where = f"db.{operation}" + (f" on table {table!r}" if table else "")
            raise InvalidValueError(f"{where} expects a dict of fields, got {type_name(document)}")
        if keep_missing:
            body = dict(document)
        else:
            # _drop_missing copies a dict; only another Mapping needs copying first.
            body = _drop_missing(document if type(document) is dict else dict(document))
        for name, item in body.items():
            if item is not MISSING:
                check_value(item, path=f".{name}" if isinstance(name, str) else "")
        return body

    def _validate(self, table: str, user_fields: dict[str, Any]) -> dict[str, Any]:
        schema = self._session.schema
        if schema is None:
            return user_fields
        return schema.validate_document(table, user_fields, resolve_id=self._session.resolve_id)

    def _load_for_write(
        self, table: str | None, raw_id: Any, operation: str, verb: str
    ) -> tuple[int, str, dict[str, Any]]:
        """The target's table and current version; records the point read (§4.2)."""
        if table is not None:
            check_identifier(table, what="Table name")
            self._check_table_kind(table, operation)
        session = self._session
        located = session.locate_id(raw_id, operation=operation)
        if located is None:
            raise DocumentNotFoundError(f"{verb} on nonexistent document ID {raw_id}")
        number, actual = located
        self._check_table_kind(actual, operation)
        if table is not None and actual != table:
            raise InvalidIdError(
                f"Invalid argument `id` for `db.{operation}`: expected to be an "
                f"Id<{table!r}>, got Id<{actual!r}>"
            )
        current = session.transaction.get(number, raw_id)
        if current is None:
            raise DocumentNotFoundError(f"{verb} on nonexistent document ID {raw_id}")
        return number, actual, current

    @staticmethod
    def _check_system_fields(body: dict[str, Any], current: dict[str, Any], table: str) -> None:
        for name in ("_id", "_creationTime"):
            if name in body and not values_equal(body[name], current[name]):
                raise InvalidValueError(
                    f"Field {name} in table {table!r} cannot be changed: the document has "
                    f"{current[name]!r}, the update gives {body[name]!r}"
                )
        extra = [k for k in body if k.startswith("_") and k not in ("_id", "_creationTime")]
        if extra:
            raise InvalidValueError(
                f"Field {extra[0]!r} in table {table!r} starts with '_', which is reserved "
                "for system fields"
            )

    def _store(
        self,
        number: int,
        table: str,
        doc_id: str,
        current: dict[str, Any],
        user_fields: dict[str, Any],
    ) -> dict[str, Any]:
        """Stage the new version and return it (``current`` when nothing changed)."""
        validated = self._validate(table, user_fields)
        new = {"_id": current["_id"], "_creationTime": current["_creationTime"], **validated}
        size = check_document(new, table=table)
        if values_equal(new, current):
            return current  # an identical patch/replace records no write (§3.2)
        if contains_commit_ts(validated):
            self._session.transaction.uses_commit_ts = True
        self._session.transaction.write(number, doc_id, new, size=size)
        return new


def _args(value: Any) -> tuple[Any, ...]:
    return () if value is _NOTHING else (value,)
