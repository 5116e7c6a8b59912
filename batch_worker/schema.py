"""The component's own tables (batch-worker-spec.md §2), invisible to the app.

Why two tables: ``ping`` runs inside the app's insert transaction and reads
only ``workers``; the loop writes ``workerState`` on every iteration and
touches ``workers`` only when the status changes. So while the loop runs, a
ping never conflicts with it, and the loop never conflicts with pings.
"""

from __future__ import annotations

from batch_worker.shared import config_validator, status_validator
from convex_sim import define_schema, define_table, v

schema = define_schema(
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
        "workerState": define_table(
            {
                "generation": v.int64(),
                "lastWorkTs": v.number(),
                "runnerId": v.optional(v.id("_scheduled_functions")),
                "monitorId": v.optional(v.id("_scheduled_functions")),
                "monitorRunAtMs": v.optional(v.number()),
            }
        ),
    }
)
