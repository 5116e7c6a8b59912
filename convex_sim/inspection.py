"""Looking into a store file from outside its deployment: ``python -m convex_sim inspect``.

Why a command beside the SQLite views: the views show what SQLite can show
(a nested object as JSON text, a boolean as 1), while this reads through the
store itself, so every value is shown as the app sees it. It opens the file
read-only and takes no lock, so it works while a simulator is running on it
(it then sees the last committed state).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from convex_sim.errors import ConvexSimError
from convex_sim.index_keys import KEY_MAX, KEY_MIN
from convex_sim.schema import BY_CREATION_TIME
from convex_sim.store.document_text import readable
from convex_sim.store.sqlite import SqliteStore
from convex_sim.store.sqlite_layout import view_name
from convex_sim.values import Id


class UnknownTableError(ConvexSimError, KeyError):
    """``inspect FILE TABLE`` named a table the store does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class TableSummary:
    name: str
    """The view's name: ``events``, or ``batchWorker/workers`` for a component's table."""
    documents: int


def summarize(store: SqliteStore) -> list[TableSummary]:
    """Every table of the store with its document count, app tables first."""
    tables = sorted(store.tables(), key=lambda info: (info.namespace, info.name))
    return [
        TableSummary(view_name(info.namespace, info.name), store.count_live(info.number))
        for info in tables
    ]


def read_table(store: SqliteStore, name: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The latest documents of the table named ``name`` (as its view is named), oldest first."""
    for info in store.tables():
        if view_name(info.namespace, info.name) == name:
            rows = store.scan(
                info.number, BY_CREATION_TIME, KEY_MIN, KEY_MAX, reverse=False, ts=store.latest_ts
            )
            documents: list[dict[str, Any]] = []
            for _, document in rows:
                if limit is not None and len(documents) >= limit:
                    break
                documents.append(document)
            return documents
    known = ", ".join(summary.name for summary in summarize(store))
    raise UnknownTableError(f"no table {name!r} in {store.path}; its tables: {known}")


def show_value(value: Any) -> str:
    """A value as a person reads it: int64 as a plain number, float64 with a point."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Id | str):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return json.dumps(readable(value), separators=(", ", ": "))


def print_summary(console: Console, store: SqliteStore) -> None:
    state = store.load_state() or {}
    clock = state.get("clock_ms")
    console.print(f"[bold]{store.path}[/bold]")
    if clock is not None:
        moment = datetime.fromtimestamp(clock / 1000, tz=UTC).isoformat(timespec="milliseconds")
        console.print(f"virtual clock: {moment} ({clock} ms)")
    table = Table()
    table.add_column("table")
    table.add_column("documents", justify="right")
    for summary in summarize(store):
        table.add_row(summary.name, str(summary.documents))
    console.print(table)


def print_table(console: Console, store: SqliteStore, name: str, limit: int) -> None:
    documents = read_table(store, name, limit + 1)
    shown = documents[:limit]
    columns: dict[str, None] = {"_id": None, "_creationTime": None}
    for document in shown:
        columns.update(dict.fromkeys(document))
    table = Table(title=f"{name} in {store.path}", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for document in shown:
        table.add_row(*(show_value(document[c]) if c in document else "" for c in columns))
    console.print(table)
    if len(documents) > limit:
        console.print(f"(only the first {limit}; --limit N shows more)")


def inspect(path: str | Path, table: str | None = None, *, limit: int = 50) -> int:
    """Print the store's tables, or one table's documents; the command's exit status."""
    console = Console(highlight=False)
    try:
        store = SqliteStore(path, read_only=True)
    except (FileNotFoundError, ConvexSimError) as error:
        console.print(f"[red]cannot inspect:[/red] {error}")
        return 2
    try:
        if table is None:
            print_summary(console, store)
        else:
            print_table(console, store, table, limit)
    except UnknownTableError as error:
        console.print(f"[red]{error}[/red]")
        return 2
    finally:
        store.close()
    return 0
