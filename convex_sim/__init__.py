"""convex_sim: a small, deterministic emulator of the Convex backend.

Layers, from the bottom: ``values`` and ``index_keys`` (what data is and how it
sorts), ``validators`` and ``schema`` (what data may be), ``store`` (committed
history), ``transaction`` and ``database`` (snapshots, read sets, commits),
``db``, ``query`` and ``filters`` (the ``ctx.db`` API handlers use). This
module re-exports the public names and nothing else.
"""

from convex_sim.errors import (
    ConvexError,
    ConvexSimError,
    DocumentNotFoundError,
    IndexNotFoundError,
    InvalidIdError,
    InvalidIndexRangeError,
    InvalidQueryError,
    InvalidValueError,
    MultiplePaginatedQueriesError,
    SchemaError,
    SystemTableError,
    UniqueQueryError,
    ValidationError,
)
from convex_sim.schema import define_schema, define_table
from convex_sim.validators import v
from convex_sim.values import MISSING, Id

__all__ = [
    "MISSING",
    "ConvexError",
    "ConvexSimError",
    "DocumentNotFoundError",
    "Id",
    "IndexNotFoundError",
    "InvalidIdError",
    "InvalidIndexRangeError",
    "InvalidQueryError",
    "InvalidValueError",
    "MultiplePaginatedQueriesError",
    "SchemaError",
    "SystemTableError",
    "UniqueQueryError",
    "ValidationError",
    "define_schema",
    "define_table",
    "v",
]
