"""The component's own tables (batch-worker-spec.md §2), invisible to the app.

Why two tables: ``ping`` runs inside the app's insert transaction and reads
only ``workers``; the loop writes ``workerState`` on every iteration and
touches ``workers`` only when the status changes. So while the loop runs, a
ping never conflicts with it, and the loop never conflicts with pings.
"""

from __future__ import annotations

from batch_worker.shared import config_validator, status_validator
from convex_sim import define_schema, define_table, v
from convex_sim.schema import Schema
from convex_sim.validators import Validator


def _worker_state_fields(with_cursor: bool) -> dict[str, Validator]:
    fields: dict[str, Validator] = {
        "generation": v.int64(),
        "lastWorkTs": v.number(),
        "runnerId": v.optional(v.id("_scheduled_functions")),
        "monitorId": v.optional(v.id("_scheduled_functions")),
        "monitorRunAtMs": v.optional(v.number()),
    }
    if with_cursor:
        # 0.3.x: whatever the app's query or mutation returned as its cursor;
        # the app's own validators type it, so the component takes any value.
        fields["cursor"] = v.optional(v.any())
    return fields


def _schema(with_cursor: bool) -> Schema:
    return define_schema(
        {
            # Written by ping/start/stop and by the loop on status transitions;
            # read by every ping. One row per worker name.
            "workers": define_table(
                {
                    "name": v.string(),
                    "workQuery": v.string(),
                    "workerMutation": v.string(),
                    "config": config_validator,
                    "status": status_validator,
                    "stateId": v.id("workerState"),
                }
            ).index("name", ["name"]),
            # Written by the loop on every iteration (and by stop, wake, the monitor).
            "workerState": define_table(_worker_state_fields(with_cursor)),
        }
    )


schema = _schema(with_cursor=False)
"""0.2.0's tables."""
schema_with_cursor = _schema(with_cursor=True)
"""0.3.x's: ``workerState`` also keeps the worker's cursor (evolution D)."""
