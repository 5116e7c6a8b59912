"""Release 0.3.x's additions: its public functions module and its exported shapes.

Mount ``batch_worker.release("0.3.6")``. The shapes here are 0.3.x's versions
of 0.2.0's exports, which 0.3.x deprecates in favour of
:func:`~batch_worker.shared.define_batch_worker_validators`: each now carries
the default (commit-timestamp) cursor (batch-worker-evolution.md D, H).
"""

from __future__ import annotations

from typing import Final

from batch_worker.shared import (
    batch_result_for,
    default_cursor,
    define_batch_worker_validators,
    worker_result_for,
)
from convex_sim import v
from convex_sim.validators import Validator

batch_query_args: Final = v.object({"name": v.string(), "cursor": v.optional(default_cursor)})
"""Deprecated in 0.3.x: a work query's arguments, with the stored cursor when there is one."""

worker_result: Final = worker_result_for(default_cursor)
"""Deprecated in 0.3.x: a worker mutation's result, which may carry the cursor."""


def batch_result(batch: Validator | dict[str, Validator]) -> Validator:
    """Deprecated in 0.3.x: a work query's result, its work branch with an optional cursor."""
    return batch_result_for(batch, default_cursor)


__all__ = [
    "batch_query_args",
    "batch_result",
    "default_cursor",
    "define_batch_worker_validators",
    "worker_result",
]
