"""Document storage: committed versions of documents and their index entries.

``base.Store`` is the interface the transaction layer talks to; ``memory``
keeps everything in Python structures; ``sqlite`` keeps the same history in a
SQLite file, so a deployment survives a restart. A store knows nothing of schemas,
validators or read sets: it holds committed history and answers "what did this
index range hold as of timestamp ts".
"""

from convex_sim.store.base import DocumentWrite, IndexChange, Store, StoreStatistics, TableInfo
from convex_sim.store.memory import MemoryStore
from convex_sim.store.sqlite import SqliteStore

__all__ = [
    "DocumentWrite",
    "IndexChange",
    "MemoryStore",
    "SqliteStore",
    "Store",
    "StoreStatistics",
    "TableInfo",
]
