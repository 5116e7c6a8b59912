"""convex_sim: a small, deterministic emulator of the Convex backend.

Layers, from the bottom: ``values`` and ``index_keys`` (what data is and how it
sorts), ``validators`` and ``schema`` (what data may be), ``store`` (committed
history), ``transaction`` and ``database`` (snapshots, read sets, commits),
``db``, ``query`` and ``filters`` (the ``ctx.db`` API), ``functions``,
``references`` and ``components`` (what an app is made of), ``runtime``,
``scheduler`` and ``context`` (running it), and ``simulator`` (the public
face, owner of all state). This module re-exports the public names only.
"""

from convex_sim.clock import VirtualClock
from convex_sim.components import define_app, define_component
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
from convex_sim.faults import Faults, InjectedFault
from convex_sim.functions import (
    action,
    internal_action,
    internal_mutation,
    internal_query,
    mutation,
    query,
)
from convex_sim.limits import LimitExceededError
from convex_sim.occ import OccFailureError
from convex_sim.pagination import pagination_opts_validator
from convex_sim.references import api, components, internal
from convex_sim.resume import SchemaMismatchError
from convex_sim.runtime import create_function_handle, now
from convex_sim.schema import define_schema, define_table
from convex_sim.settle import SchedulerDidNotSettleError
from convex_sim.simulator import Simulator, SimulatorClosedError
from convex_sim.store.base import StoreInUseError
from convex_sim.trace import Trace
from convex_sim.validators import v
from convex_sim.values import MISSING, Id

__all__ = [
    "MISSING",
    "ConvexError",
    "ConvexSimError",
    "DocumentNotFoundError",
    "Faults",
    "Id",
    "IndexNotFoundError",
    "InjectedFault",
    "InvalidIdError",
    "InvalidIndexRangeError",
    "InvalidQueryError",
    "InvalidValueError",
    "LimitExceededError",
    "MultiplePaginatedQueriesError",
    "OccFailureError",
    "SchedulerDidNotSettleError",
    "SchemaError",
    "SchemaMismatchError",
    "Simulator",
    "SimulatorClosedError",
    "StoreInUseError",
    "SystemTableError",
    "Trace",
    "UniqueQueryError",
    "ValidationError",
    "VirtualClock",
    "action",
    "api",
    "components",
    "create_function_handle",
    "define_app",
    "define_component",
    "define_schema",
    "define_table",
    "internal",
    "internal_action",
    "internal_mutation",
    "internal_query",
    "mutation",
    "now",
    "pagination_opts_validator",
    "query",
    "v",
]
