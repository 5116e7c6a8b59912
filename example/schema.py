"""The example app's tables (batch-worker-spec.md §10): pending events and running totals."""

from __future__ import annotations

from convex_sim import define_schema, define_table, v

schema = define_schema(
    {
        # Work: inserted by add_event, deleted by process_batch once counted.
        "events": define_table({"value": v.number()}),
        # One row per key; process_batch adds each batch into it.
        "totals": define_table({"key": v.string(), "total": v.number(), "count": v.int64()}).index(
            "key", ["key"]
        ),
    }
)
