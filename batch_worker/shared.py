"""Constants and the shapes that cross the component's API (batch-worker-spec.md §1, §3).

Each constant says which decision it controls. Durations end in ``_MS``.
Field names inside the data (``debounceMs``, ``pollIntervalMs`` ...) keep the
original spelling: they are data shared with the TypeScript component.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, NamedTuple

from convex_sim import v
from convex_sim.validators import ObjectValidator, Validator

RUNNING_THRESHOLD_MS: Final = 1_000
"""A loop run due sooner than this counts as about to run: wake leaves it alone."""
MONITOR_LAG_MS: Final = 60_000
"""Default distance between the loop's next run and the monitor that checks on it."""
MONITOR_REFRESH_WITHIN_MS: Final = 10_000
"""The smallest monitor lag allowed, and the cap of the window in which an
upcoming monitor is pushed back (so it moves about once per lag, not every run)."""
DEFAULT_DEBOUNCE_MS: Final = 0
"""Delay before the first batch after a wake, when the config gives none."""
DEFAULT_POLL_INTERVAL_MS: Final = 200
"""How often a cooling-down loop re-runs the work query, when the query gives none."""
DEFAULT_COOLDOWN_MS: Final = 2_000
"""How long after the last batch the loop keeps polling before it may go idle."""

batch_query_args: Final = v.object({"name": v.string()})
"""Arguments of a work query: the worker's name, so one query can serve many queues."""

config_validator: Final = v.object(
    {"debounceMs": v.optional(v.number()), "monitorLagMs": v.optional(v.number())}
)

status_validator: Final = v.union(
    v.object({"kind": v.literal("idle")}),
    v.object({"kind": v.literal("running")}),
    v.object({"kind": v.literal("stopped")}),
)

idle_result: Final = v.object(
    {
        "kind": v.literal("idle"),
        "cooldownMs": v.optional(v.number()),
        "pollIntervalMs": v.optional(v.number()),
        "timeoutMs": v.optional(v.number()),
    }
)


def batch_result(batch: Validator) -> Validator:
    """What a work query returns: ``{"kind"?: "work", "batch": ...}`` or an idle result.

    The presence of the key ``batch`` is what makes a result work.
    """
    work: ObjectValidator = v.object({"kind": v.optional(v.literal("work")), "batch": batch})
    return v.union(work, idle_result)


worker_result: Final = v.union(v.null(), v.object({"debounceMs": v.optional(v.number())}))
"""What a worker mutation returns: nothing, or a debounce before the next batch."""


# --- 0.3.x (batch-worker-evolution.md B, D) ---------------------------------

STUCK_RUNNER_GRACE_MS: Final = 60_000
"""0.3.x: a runner still ``pending`` this long after its time is stuck; the monitor
replaces it (section B)."""

default_cursor: Final = v.commit_ts()
"""0.3.x: the cursor type unless a worker picks another — a commit timestamp, read
back as an int64 (section D)."""


def _as_object(batch: Validator | Mapping[str, Validator]) -> Validator:
    return batch if isinstance(batch, Validator) else v.object(batch)


def batch_result_for(batch: Validator | Mapping[str, Validator], cursor: Validator) -> Validator:
    """0.3.x's work result: work may carry the cursor it reached; idle never does."""
    work = v.object(
        {
            "kind": v.optional(v.literal("work")),
            "batch": _as_object(batch),
            "cursor": v.optional(cursor),
        }
    )
    return v.union(work, idle_result)


def worker_result_for(cursor: Validator) -> Validator:
    """0.3.x's worker mutation result: also the cursor, when the mutation knows better."""
    return v.union(
        v.null(),
        v.object({"debounceMs": v.optional(v.number()), "cursor": v.optional(cursor)}),
    )


class BatchWorkerValidators(NamedTuple):
    """A work query's and worker mutation's validators, made to agree (0.3.x)."""

    query_args: Validator
    """``{name, cursor?}``"""
    query_returns: Validator
    """work ``{kind?, batch, cursor?}`` or idle"""
    mutation_args: Validator
    """the batch, as an object validator"""
    mutation_returns: Validator
    """``None`` or ``{debounceMs?, cursor?}``"""


def define_batch_worker_validators(
    *, batch: Validator | Mapping[str, Validator], cursor: Validator | None = None
) -> BatchWorkerValidators:
    """All four validators of one worker from one batch shape and one cursor type.

    ``batch`` is a validator or a mapping of field validators; ``cursor``
    defaults to :data:`default_cursor` (a commit timestamp). Declaring both
    sides from one call is what keeps the query's batch and cursor the same
    type as the mutation's.
    """
    cursor = default_cursor if cursor is None else cursor
    return BatchWorkerValidators(
        query_args=v.object({"name": v.string(), "cursor": v.optional(cursor)}),
        query_returns=batch_result_for(batch, cursor),
        mutation_args=_as_object(batch),
        mutation_returns=worker_result_for(cursor),
    )
