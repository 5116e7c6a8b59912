"""The SQLite store's file: its storage tables, its format check and its views.

Why the storage tables all start with ``_sim_``: Convex reserves names that
start with ``_`` for system tables, so no app or component table can ever
take one of these names, and the views below can be named after the app's
own tables (``events``, ``batchWorker/workers``) with no risk of a clash.

The views are the file's face to outside tools: one per app and component
table (and per ``_scheduled_functions``), showing each document's latest
version with its fields as columns, so ``sqlite-utils rows db.sqlite events``
or the ``sqlite3`` shell read the deployment as the app sees it. A view is a
query over the storage tables, never a copy, so it cannot go stale.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Final

from sqlite_utils import Database

from convex_sim.errors import ConvexSimError

FORMAT: Final = 2
"""Bumped whenever the storage tables change shape; a file of another format is refused."""

META: Final = "_sim_meta"
TABLES: Final = "_sim_tables"
INDEXES: Final = "_sim_indexes"
DOCUMENTS: Final = "_sim_documents"
VERSIONS: Final = "_sim_versions"
INDEX_ENTRIES: Final = "_sim_index_entries"
DEAD_VERSIONS: Final = "_sim_dead_versions"
DEAD_KEYS: Final = "_sim_dead_keys"

_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class StoreFormatError(ConvexSimError, ValueError):
    """The file is not a store this version can read (another format, or not a store)."""


def create_tables(db: Database) -> None:
    """The storage tables, created if missing (a fresh file gets all of them)."""
    db.table(META).create({"name": str, "value": str}, pk="name", if_not_exists=True)
    db.table(TABLES).create(
        {"number": int, "namespace": str, "name": str, "created_ts": int},
        pk="number",
        not_null={"namespace", "name"},
        if_not_exists=True,
    )
    db.table(TABLES).create_index(["namespace", "name"], unique=True, if_not_exists=True)
    db.table(INDEXES).create(
        {"table_number": int, "name": str, "position": int, "fields": str, "key_fields": str},
        pk=("table_number", "name"),
        not_null={"position", "fields", "key_fields"},
        if_not_exists=True,
    )
    db.table(DOCUMENTS).create(
        {"doc_id": str, "table_number": int},
        pk="doc_id",
        not_null={"table_number"},
        if_not_exists=True,
    )
    db.table(DOCUMENTS).create_index(["table_number"], if_not_exists=True)
    db.table(VERSIONS).create(
        {"seq": int, "doc_id": str, "ts": int, "document": str, "ids": str},
        pk="seq",
        not_null={"doc_id", "ts"},
        if_not_exists=True,
    )
    db.table(VERSIONS).create_index(["doc_id", "ts"], if_not_exists=True)
    db.table(INDEX_ENTRIES).create(
        {
            "seq": int,
            "table_number": int,
            "index_name": str,
            "key": bytes,
            "ts": int,
            "doc_id": str,
        },
        pk="seq",
        not_null={"table_number", "index_name", "key", "ts"},
        if_not_exists=True,
    )
    # doc_id last makes the index covering for the scan's grouped subquery.
    db.table(INDEX_ENTRIES).create_index(
        ["table_number", "index_name", "key", "ts", "doc_id"], if_not_exists=True
    )
    db.table(DEAD_VERSIONS).create(
        {"seq": int, "ts": int, "doc_id": str},
        pk="seq",
        not_null={"ts", "doc_id"},
        if_not_exists=True,
    )
    db.table(DEAD_KEYS).create(
        {"seq": int, "ts": int, "table_number": int, "index_name": str, "key": bytes},
        pk="seq",
        not_null={"ts", "table_number", "index_name", "key"},
        if_not_exists=True,
    )
    for queue in (DEAD_VERSIONS, DEAD_KEYS):
        db.table(queue).create_index(["ts"], if_not_exists=True)


def check_format(conn: sqlite3.Connection, path: str) -> bool:
    """Whether the file already holds a store of this format (False: it is empty).

    Raises :class:`StoreFormatError` for a file that holds anything else, so
    a store never writes its tables into somebody's unrelated database.
    """
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if META not in names:
        if names:
            raise StoreFormatError(
                f"{path} is not a convex_sim store (it holds the tables "
                f"{', '.join(sorted(names))}); give Simulator a new path"
            )
        return False
    row = conn.execute(f"SELECT value FROM {META} WHERE name = 'format'").fetchone()
    found = None if row is None else row[0]
    if str(found) != str(FORMAT):
        raise StoreFormatError(
            f"{path} was written in store format {found}, and this version of convex_sim "
            f"reads format {FORMAT} only"
        )
    return True


def view_name(namespace: str, table: str) -> str:
    """``events`` for the app's table, ``batchWorker/workers`` for a component's."""
    return f"{namespace}/{table}" if namespace else table


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def replace_view(
    conn: sqlite3.Connection, number: int, name: str, fields: Sequence[str] | None
) -> None:
    """(Re)create the view of table ``number``: ``_id``, ``_creationTime``, then the fields.

    Fields whose names SQL or a JSON path would have to escape, and every
    field of a table whose fields are unknown (no schema, or not an object),
    are shown together in one ``document`` column holding the whole JSON.
    """
    columns = [f"v.doc_id AS {quote('_id')}"]
    columns.append(f"json_extract(v.document, '$._creationTime') AS {quote('_creationTime')}")
    safe = [] if fields is None else [f for f in fields if _SAFE_NAME.match(f) and f[0] != "_"]
    for field in safe:
        columns.append(f"json_extract(v.document, '$.{field}') AS {quote(field)}")
    if fields is None or len(safe) < len(fields):
        columns.append("v.document AS document")
    conn.execute(f"DROP VIEW IF EXISTS {quote(name)}")
    conn.execute(
        f"CREATE VIEW {quote(name)} AS SELECT {', '.join(columns)} "
        f"FROM {DOCUMENTS} AS d JOIN {VERSIONS} AS v ON v.seq = "
        f"(SELECT max(seq) FROM {VERSIONS} WHERE doc_id = d.doc_id) "
        f"WHERE d.table_number = {int(number)} AND v.document IS NOT NULL "
        "ORDER BY 2"
    )
