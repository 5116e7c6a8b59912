"""The query builder: ``db.query(t).with_index(...).order(...).filter(...).take(n)``.

(Not named ``query.py``: ``convex_sim.query`` is the decorator.)

Implements convex-semantics.md §2.2–§2.5. A query is built synchronously and
consumed by awaiting one of ``take``, ``first``, ``unique``, ``collect`` or
``paginate`` (or by ``async for``). Rows are pulled from the transaction's
scan one at a time and only as far as needed, which is what keeps the read
set to "up to the last row handed out" (§4.2): ``take(1)`` reads one key,
``collect()`` the whole range.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from convex_sim.checkpoint import Checkpoint
from convex_sim.errors import (
    IndexNotFoundError,
    InvalidQueryError,
    MultiplePaginatedQueriesError,
    UniqueQueryError,
)
from convex_sim.filters import (
    FilterBuilder,
    IndexRangeBuilder,
    KeyRange,
    compile_filter,
    compile_index_range,
)
from convex_sim.index_keys import KEY_MAX, key_successor
from convex_sim.pagination import check_count, page_request
from convex_sim.schema import BY_CREATION_TIME, IndexDefinition
from convex_sim.values import copy_value

if TYPE_CHECKING:
    from convex_sim.db import DbSession

_CURSOR_PREFIX = "c"


def _encode_cursor(key: bytes) -> str:
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(key).decode()


def _decode_cursor(cursor: str) -> bytes:
    if not isinstance(cursor, str) or not cursor.startswith(_CURSOR_PREFIX):
        raise InvalidQueryError(f"paginate: {cursor!r} is not a cursor this query returned")
    try:
        return base64.urlsafe_b64decode(cursor[len(_CURSOR_PREFIX) :].encode())
    except ValueError:
        raise InvalidQueryError(f"paginate: {cursor!r} is not a valid cursor") from None


def _page(page: list[dict[str, Any]], *, done: bool, continue_cursor: str) -> dict[str, Any]:
    return {
        "page": page,
        "isDone": done,
        "continueCursor": continue_cursor,
        "splitCursor": None,
        "pageStatus": None,
    }


def _passing(
    rows: Iterator[tuple[bytes, dict[str, Any]]],
    filters: list[Callable[[dict[str, Any]], bool]],
) -> Iterator[tuple[bytes, dict[str, Any]]]:
    for row in rows:
        if all(test(row[1]) for test in filters):
            yield row


class Query:
    """An ordered, optionally filtered query over one index range; consume it once."""

    __slots__ = (
        "_builder",
        "_consumed",
        "_descending",
        "_explicit_index",
        "_filters",
        "_index_name",
        "_session",
        "_table",
    )

    def __init__(
        self,
        session: DbSession,
        table: str,
        index: str | None,
        builder: IndexRangeBuilder | None,
    ) -> None:
        self._session = session
        self._table = table
        # None: no with_index, a scan by creation time that a missing table answers with [].
        self._explicit_index = index
        self._index_name = index or BY_CREATION_TIME
        self._builder = builder
        self._descending: bool | None = None
        self._filters: list[Callable[[dict[str, Any]], bool]] | None = None
        self._consumed = False

    # -- building -----------------------------------------------------------

    def order(self, order: str) -> Query:
        """``"asc"`` (the default) or ``"desc"``; may be set once (§2.3)."""
        if self._descending is not None:
            raise InvalidQueryError(f"order() was already called on this query of {self._table!r}")
        if order not in ("asc", "desc"):
            raise InvalidQueryError(f"order() takes 'asc' or 'desc', got {order!r}")
        self._descending = order == "desc"
        return self

    def filter(self, predicate: Callable[[FilterBuilder], Any]) -> Query:
        """Keep documents for which ``predicate(q)`` evaluates to true; does not narrow the scan."""
        test = compile_filter(predicate)
        if self._filters is None:
            self._filters = []
        self._filters.append(test)
        return self

    # -- resolving ------------------------------------------------------------

    def _resolve(self) -> tuple[int | None, IndexDefinition, KeyRange]:
        session = self._session
        store = session.database.store
        number = session.table_number(self._table)
        exists = number is not None and session.table_exists(number)
        if self._explicit_index is None:
            definition = (
                store.indexes(number)[BY_CREATION_TIME]
                if number is not None and exists
                else IndexDefinition(BY_CREATION_TIME, (), ("_creationTime", "_id"))
            )
        else:
            if number is None or not exists:
                raise IndexNotFoundError(self._table, self._index_name)
            found = store.indexes(number).get(self._index_name)
            if found is None:
                raise IndexNotFoundError(self._table, self._index_name)
            definition = found
        key_range = compile_index_range(self._table, definition, self._builder)
        return (number if exists else None), definition, key_range

    def _rows(
        self, start_after: bytes | None = None, *, stop_at: bytes | None = None
    ) -> Iterator[tuple[bytes, dict[str, Any]]]:
        """Filtered rows as the transaction hands them out (reads recorded as they go).

        ``start_after`` and ``stop_at`` are keys in the query's order: rows after
        the first, up to and including the second.

        Every caller starts iterating at once, so the checks run here rather than at
        the first ``next``; without filters the transaction's scan is returned as is.
        """
        if self._consumed:
            raise InvalidQueryError(
                f"this query of {self._table!r} was already consumed; build a new one"
            )
        self._consumed = True
        number, _, key_range = self._resolve()
        if number is None:
            return iter(())
        reverse = bool(self._descending)
        start, end = key_range.start, key_range.end
        if start_after is not None:
            if reverse:
                end = min(end, start_after)
            else:
                start = max(start, key_successor(start_after))
        if stop_at is not None:
            if reverse:
                start = max(start, stop_at)
            else:
                end = min(end, key_successor(stop_at))
        if start >= end:
            return iter(())
        rows = self._session.transaction.scan(number, self._index_name, start, end, reverse=reverse)
        if self._filters is None:
            return rows
        return _passing(rows, self._filters)

    # -- consuming ------------------------------------------------------------

    def _observe(self, operation: str, returned: int) -> None:
        index = self._explicit_index or "by_creation_time (full scan)"
        self._session.observe(operation, self._table, f"{index}: {returned} returned")

    async def take(self, n: int) -> list[dict[str, Any]]:
        """The first ``n`` documents that pass the filters (§2.3)."""
        await Checkpoint("db.query.take", self._table)
        limit = check_count(n, "take(n)")
        result: list[dict[str, Any]] = []
        if limit == 0:
            return result
        for _, document in self._rows():
            result.append(copy_value(document))
            if len(result) >= limit:
                break
        self._observe("db.query.take", len(result))
        return result

    async def first(self) -> dict[str, Any] | None:
        await Checkpoint("db.query.first", self._table)
        for _, document in self._rows():
            first: dict[str, Any] = copy_value(document)
            self._observe("db.query.first", 1)
            return first
        self._observe("db.query.first", 0)
        return None

    async def unique(self) -> dict[str, Any] | None:
        """The only match, None if there is none, an error if there are two or more."""
        await Checkpoint("db.query.unique", self._table)
        found: list[dict[str, Any]] = []
        for _, document in self._rows():
            found.append(document)
            if len(found) == 2:
                raise UniqueQueryError(
                    f"unique() query returned more than one result from table {self._table}:\n"
                    f" [{found[0]['_id']}, {found[1]['_id']}, ...]"
                )
        self._observe("db.query.unique", len(found))
        return copy_value(found[0]) if found else None

    async def collect(self) -> list[dict[str, Any]]:
        await Checkpoint("db.query.collect", self._table)
        rows = [copy_value(document) for _, document in self._rows()]
        self._observe("db.query.collect", len(rows))
        return rows

    async def paginate(self, options: dict[str, Any]) -> dict[str, Any]:
        """One page: ``{"page", "isDone", "continueCursor"}``; once per execution (§2.4).

        ``options`` is what ``pagination_opts_validator`` accepts. With an
        ``endCursor`` the page runs from ``cursor`` up to and including the row
        that cursor ended on, however many that is, which keeps a page that was
        loaded once the same page when it is asked for again.
        """
        await Checkpoint("db.query.paginate", self._table)
        request = page_request(options)
        if self._session.paginated:
            raise MultiplePaginatedQueriesError()
        self._session.paginated = True
        after = None if request.cursor is None else _decode_cursor(request.cursor)
        end_key = b"" if self._descending else KEY_MAX
        if request.end_cursor is not None:
            stop = _decode_cursor(request.end_cursor)
            page = [copy_value(document) for _, document in self._rows(after, stop_at=stop)]
            self._observe("db.query.paginate", len(page))
            return _page(page, done=stop == end_key, continue_cursor=request.end_cursor)
        page = []
        last_key = after
        done = True
        if request.num_items:
            # No look-ahead: a full page is "not done" even if nothing follows, so the
            # read set ends at the last row returned, as for take(n).
            for key, document in self._rows(start_after=after):
                page.append(copy_value(document))
                last_key = key
                if len(page) >= request.num_items:
                    done = False
                    break
        else:
            self._consumed = True
            done = False
        if done:
            continue_cursor = _encode_cursor(end_key)
        else:
            continue_cursor = _encode_cursor(last_key if last_key is not None else b"")
        self._observe("db.query.paginate", len(page))
        return _page(page, done=done, continue_cursor=continue_cursor)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        rows = None
        while True:
            await Checkpoint("db.query.next", self._table)
            if rows is None:
                rows = self._rows()
            row = next(rows, None)
            if row is None:
                return
            yield copy_value(row[1])


class QueryInitializer(Query):
    """``db.query(table)``: pick an index (or scan by creation time), then build on."""

    __slots__ = ()

    def __init__(self, session: DbSession, table: str) -> None:
        super().__init__(session, table, None, None)

    def with_index(
        self, index: str, range_expression: Callable[[IndexRangeBuilder], Any] | None = None
    ) -> Query:
        """Scan ``index``, limited by ``lambda q: q.eq(...).gt(...)`` (§2.2)."""
        builder = None
        if range_expression is not None:
            builder = IndexRangeBuilder()
            returned = range_expression(builder)
            if returned is not builder:
                raise InvalidQueryError(
                    f"with_index({index!r}, ...): the range expression must return the "
                    "builder it was given (write lambda q: q.eq(...), chaining the calls)"
                )
        return Query(self._session, self._table, index, builder)

    def full_table_scan(self) -> Query:
        return Query(self._session, self._table, None, None)
