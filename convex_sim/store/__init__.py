"""Document storage: committed versions of documents and their index entries.

``base.Store`` is the interface the transaction layer talks to; ``memory``
keeps everything in Python structures; ``sqlite`` keeps the same history in a
SQLite file, so a deployment survives a restart. A store knows nothing of schemas,
validators or read sets: it holds committed history and answers "what did this
index range hold as of timestamp ts".
"""

from typing import TYPE_CHECKING, Any

from convex_sim.store.base import (
    DocumentWrite,
    IndexChange,
    Store,
    StoreInUseError,
    StoreStatistics,
    TableInfo,
)
from convex_sim.store.memory import MemoryStore

if TYPE_CHECKING:
    from convex_sim.store.sqlite import SqliteStore


def __getattr__(name: str) -> Any:
    # SqliteStore pulls in sqlite-utils (a third of the package's import time);
    # most runs keep everything in memory and never need it.
    if name == "SqliteStore":
        from convex_sim.store.sqlite import SqliteStore

        return SqliteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DocumentWrite",
    "IndexChange",
    "MemoryStore",
    "SqliteStore",
    "Store",
    "StoreInUseError",
    "StoreStatistics",
    "TableInfo",
]
