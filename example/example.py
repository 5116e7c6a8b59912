"""The example app: events summed into totals by a batch worker (batch-worker-spec.md §10).

``add_event`` inserts an event and pings the worker ``"events"``; the worker's
loop calls ``get_batch`` (up to 10 events, or idle) and ``process_batch``
(adds them to the ``"all"`` total and deletes them), until the table is empty.
"""

from __future__ import annotations

from typing import Any, Final

import batch_worker
from convex_sim import components, internal, internal_mutation, internal_query, mutation, query, v

BATCH_SIZE: Final = 10
TOTAL_KEY: Final = "all"
WORKER_NAME: Final = "events"
SLEEP_WHEN_IDLE_MS: Final = 30_000
"""How long ``get_batch_or_sleep`` asks the worker to sleep when there is no work."""

batch = v.object({"ids": v.array(v.id("events"))})


@mutation(
    args={
        "value": v.number(),
        "config": v.optional(batch_worker.config_validator),
        "sleep_when_idle": v.optional(v.boolean()),
    },
    returns=v.null(),
)
async def add_event(ctx: Any, args: dict[str, Any]) -> None:
    """Insert one event, then make sure the worker is running.

    ``config`` (``debounceMs``, ``monitorLagMs``) goes to the ping, which
    stores it; a ping without one clears a stored config (spec §6.1).
    ``sleep_when_idle`` pings with ``get_batch_or_sleep`` as the work query,
    so the worker sleeps (``timeoutMs``) instead of going idle.
    """
    await ctx.db.insert("events", {"value": args["value"]})
    sleeps = args.get("sleep_when_idle", False)
    await batch_worker.ping(
        ctx,
        components.batchWorker,
        name=WORKER_NAME,
        work_query=internal.example.get_batch_or_sleep if sleeps else internal.example.get_batch,
        worker_mutation=internal.example.process_batch,
        config=args.get("config"),
    )
    return None


@mutation(args={}, returns=v.null())
async def stop_worker(ctx: Any, args: dict[str, Any]) -> None:
    """Halt processing: the loop stops and pings are ignored until ``start_worker``."""
    await ctx.run_mutation(components.batchWorker.lib.stop, {"name": WORKER_NAME})
    return None


@mutation(args={}, returns=v.null())
async def start_worker(ctx: Any, args: dict[str, Any]) -> None:
    """Resume a stopped worker with the query and mutation it was last pinged with."""
    await ctx.run_mutation(components.batchWorker.lib.start, {"name": WORKER_NAME})
    return None


@internal_query(args=batch_worker.batch_query_args, returns=batch_worker.batch_result(batch))
async def get_batch(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """The next (up to) 10 events, or idle when there are none."""
    return await _next_batch(ctx, {"kind": "idle"})


@internal_query(args=batch_worker.batch_query_args, returns=batch_worker.batch_result(batch))
async def get_batch_or_sleep(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Like ``get_batch``, but with no work it asks to be woken in 30 s (spec §7.6)."""
    return await _next_batch(ctx, {"kind": "idle", "timeoutMs": SLEEP_WHEN_IDLE_MS})


async def _next_batch(ctx: Any, idle: dict[str, Any]) -> dict[str, Any]:
    events = await ctx.db.query("events").take(BATCH_SIZE)
    if not events:
        return idle
    return {"kind": "work", "batch": {"ids": [event["_id"] for event in events]}}


@internal_mutation(args=batch, returns=batch_worker.worker_result)
async def process_batch(ctx: Any, args: dict[str, Any]) -> None:
    """Add the batch into the total and delete what was processed (the worker owns cleanup)."""
    total = 0.0
    count = 0
    for event_id in args["ids"]:
        event = await ctx.db.get(event_id)
        if event is None:
            continue  # already processed by an earlier batch
        total += event["value"]
        count += 1
        await ctx.db.delete(event_id)
    if count:
        row = (
            await ctx.db.query("totals")
            .with_index("key", lambda q: q.eq("key", TOTAL_KEY))
            .unique()
        )
        if row is None:
            await ctx.db.insert("totals", {"key": TOTAL_KEY, "total": total, "count": count})
        else:
            await ctx.db.patch(
                row["_id"], {"total": row["total"] + total, "count": row["count"] + count}
            )
    return None


@query(args={}, returns=v.union(v.null(), v.object({"total": v.number(), "count": v.int64()})))
async def get_totals(ctx: Any, args: dict[str, Any]) -> dict[str, Any] | None:
    row = await ctx.db.query("totals").with_index("key", lambda q: q.eq("key", TOTAL_KEY)).unique()
    return None if row is None else {"total": row["total"], "count": row["count"]}


@query(args={})
async def worker_status(ctx: Any, args: dict[str, Any]) -> Any:
    """The worker's status: ``{"kind": "running" | "idle" | "stopped"}`` or None."""
    return await ctx.run_query(components.batchWorker.lib.status, {"name": WORKER_NAME})
