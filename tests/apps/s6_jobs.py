"""Functions for the §6 scheduler tests: scheduling, running, observing and canceling jobs.

Every job writes what it saw into plain tables (``runs``, ``observations``), so
a test can read back what happened from outside with a query.
"""

from __future__ import annotations

import contextlib
from typing import Any

from convex_sim import (
    ConvexError,
    action,
    internal,
    internal_action,
    internal_mutation,
    internal_query,
    mutation,
    query,
    v,
)

# -- scheduling ---------------------------------------------------------------------


@mutation(args={"delayMs": v.number(), "body": v.string()})
async def schedule_after(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(
        args["delayMs"], internal.s6_jobs.record, {"body": args["body"]}
    )


@mutation(args={"when": v.number(), "body": v.string()})
async def schedule_at(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_at(args["when"], internal.s6_jobs.record, {"body": args["body"]})


@mutation(args={"bodies": v.array(v.string()), "delayMs": v.number()})
async def schedule_each(ctx: Any, args: dict[str, Any]) -> list[Any]:
    """Schedule one ``record`` per body, in order, all at the same delay."""
    return [
        await ctx.scheduler.run_after(args["delayMs"], internal.s6_jobs.record, {"body": body})
        for body in args["bodies"]
    ]


@mutation(args={"body": v.string()})
async def schedule_then_fail(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("runs", {"body": "before-failure", "now": ctx.now_ms, "job": None})
    await ctx.scheduler.run_after(0, internal.s6_jobs.record, {"body": args["body"]})
    raise ConvexError("the mutation fails after scheduling")


@mutation(args={"body": v.string()})
async def schedule_in_failed_nested_mutation(ctx: Any, args: dict[str, Any]) -> Any:
    """A nested mutation schedules and fails; the caller catches and commits (§5.2, §6.2)."""
    with contextlib.suppress(ConvexError):
        await ctx.run_mutation(internal.s6_jobs.schedule_then_fail_inner, {"body": args["body"]})
    return await ctx.scheduler.run_after(0, internal.s6_jobs.record, {"body": "outer"})


@internal_mutation(args={"body": v.string()})
async def schedule_then_fail_inner(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.scheduler.run_after(0, internal.s6_jobs.record, {"body": args["body"]})
    raise ConvexError("the nested mutation fails after scheduling")


@action(args={"body": v.string()})
async def action_schedule_then_fail(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.scheduler.run_after(0, internal.s6_jobs.record, {"body": args["body"]})
    raise ConvexError("the action fails after scheduling")


@mutation(args={"count": v.int64()})
async def schedule_many(ctx: Any, args: dict[str, Any]) -> int:
    await ctx.db.insert("runs", {"body": "marker", "now": ctx.now_ms, "job": None})
    for i in range(args["count"]):
        await ctx.scheduler.run_after(0, internal.s6_jobs.record, {"body": f"job-{i}"})
    return int(args["count"])


@mutation(args={"count": v.int64(), "size": v.int64()})
async def schedule_large_args(ctx: Any, args: dict[str, Any]) -> int:
    """``count`` jobs whose args each carry ``size`` bytes."""
    for i in range(args["count"]):
        payload = bytes([i % 256]) * args["size"]
        await ctx.scheduler.run_after(0, internal.s6_jobs.record_blob, {"blob": payload})
    return int(args["count"])


@mutation(args={})
async def schedule_a_query(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(0, internal.s6_jobs.count_runs, {})


@mutation(args={})
async def schedule_with_bad_args(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(0, internal.s6_jobs.record, {"body": 5.0})


@mutation(args={})
async def schedule_missing_function(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(0, "s6_jobs:does_not_exist", {})


@mutation(args={"delayMs": v.any()})
async def schedule_with_delay(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(args["delayMs"], internal.s6_jobs.record, {"body": "x"})


@mutation(args={"offsetMs": v.number()})
async def schedule_at_offset(ctx: Any, args: dict[str, Any]) -> Any:
    """``run_at`` at the frozen now plus ``offsetMs`` (negative: in the past)."""
    return await ctx.scheduler.run_at(
        ctx.now_ms + args["offsetMs"], internal.s6_jobs.record, {"body": "at"}
    )


@mutation(args={"seconds": v.number()})
async def schedule_at_datetime(ctx: Any, args: dict[str, Any]) -> Any:
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(ctx.now_ms / 1000 + args["seconds"], tz=UTC)
    return await ctx.scheduler.run_at(when, internal.s6_jobs.record, {"body": "datetime"})


# -- jobs ---------------------------------------------------------------------------


@internal_mutation(args={"body": v.string()})
async def record(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert(
        "runs", {"body": args["body"], "now": ctx.now_ms, "job": ctx.meta.scheduled_function_id}
    )


@internal_mutation(args={"left": v.number()})
async def chain(ctx: Any, args: dict[str, Any]) -> None:
    """Record a run, then schedule the next link at delay 0 until ``left`` runs out."""
    await ctx.db.insert(
        "runs", {"body": f"link-{int(args['left'])}", "now": ctx.now_ms, "job": None}
    )
    if args["left"] > 1:
        await ctx.scheduler.run_after(0, internal.s6_jobs.chain, {"left": args["left"] - 1})


@mutation(args={"links": v.number(), "delayMs": v.number()})
async def start_chain(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(
        args["delayMs"], internal.s6_jobs.chain, {"left": args["links"]}
    )


@internal_mutation(args={"blob": v.bytes()})
async def record_blob(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("runs", {"body": "blob", "now": ctx.now_ms, "job": None})


@internal_mutation(args={})
async def observe_self(ctx: Any, args: dict[str, Any]) -> None:
    """Read this job's own row, directly and through a nested query."""
    job_id = ctx.meta.scheduled_function_id
    row = await ctx.db.system.get(job_id)
    nested = await ctx.run_query(internal.s6_jobs.job_row, {"id": job_id})
    await ctx.db.insert(
        "observations",
        {"who": "self", "state": row["state"]["kind"], "nested": nested["state"]["kind"]},
    )


@internal_mutation(args={})
async def write_then_fail(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("runs", {"body": "doomed", "now": ctx.now_ms, "job": None})
    raise ConvexError("scheduled mutation failed on purpose")


@internal_action(args={})
async def observe_self_action(ctx: Any, args: dict[str, Any]) -> None:
    """A scheduled action reads its own row through a query (a separate transaction)."""
    row = await ctx.run_query(internal.s6_jobs.job_row, {"id": ctx.meta.scheduled_function_id})
    await ctx.run_mutation(internal.s6_jobs.note, {"who": "action", "state": row["state"]["kind"]})


@internal_action(args={})
async def failing_action(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.run_mutation(internal.s6_jobs.note, {"who": "action", "state": "ran"})
    raise ConvexError("the action failed on purpose")


@internal_action(args={})
async def action_canceled_while_running(ctx: Any, args: dict[str, Any]) -> None:
    """Another function cancels this action while it runs; it keeps going and schedules more."""
    job_id = ctx.meta.scheduled_function_id
    await ctx.run_mutation(internal.s6_jobs.cancel_by_id, {"id": job_id})
    row = await ctx.run_query(internal.s6_jobs.job_row, {"id": job_id})
    await ctx.run_mutation(internal.s6_jobs.note, {"who": "action", "state": row["state"]["kind"]})
    await ctx.scheduler.run_after(0, internal.s6_jobs.record, {"body": "after-cancel"})


@internal_mutation(args={"who": v.string(), "state": v.string()})
async def note(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("observations", {"who": args["who"], "state": args["state"]})


@internal_mutation(args={"id": v.string()})
async def cancel_by_id(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.scheduler.cancel(args["id"])


@mutation(args={"id": v.string()})
async def cancel(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.scheduler.cancel(args["id"])


@internal_mutation(args={})
async def cancel_self(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.scheduler.cancel(ctx.meta.scheduled_function_id)
    row = await ctx.db.system.get(ctx.meta.scheduled_function_id)
    await ctx.db.insert("observations", {"who": "self", "state": row["state"]["kind"]})


def _scheduler_of(name: str) -> Any:
    @mutation(args={"delayMs": v.number()})
    async def schedule(ctx: Any, args: dict[str, Any]) -> Any:
        return await ctx.scheduler.run_after(args["delayMs"], f"s6_jobs:{name}", {})

    return schedule


schedule_observe_self = _scheduler_of("observe_self")
schedule_write_then_fail = _scheduler_of("write_then_fail")
schedule_observe_self_action = _scheduler_of("observe_self_action")
schedule_failing_action = _scheduler_of("failing_action")
schedule_action_canceled_while_running = _scheduler_of("action_canceled_while_running")
schedule_cancel_self = _scheduler_of("cancel_self")
schedule_reschedule_forever = _scheduler_of("reschedule_forever")


@internal_mutation(args={})
async def reschedule_forever(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.scheduler.run_after(1, internal.s6_jobs.reschedule_forever, {})


# -- reads --------------------------------------------------------------------------


@internal_query(args={"id": v.string()})
async def job_row(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.system.get(args["id"])


@query(args={"id": v.string()})
async def job(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.system.get(args["id"])


@internal_query(args={})
async def count_runs(ctx: Any, args: dict[str, Any]) -> int:
    return len(await ctx.db.query("runs").collect())


@query(args={})
async def runs(ctx: Any, args: dict[str, Any]) -> list[Any]:
    return await ctx.db.query("runs").collect()


@query(args={})
async def observations(ctx: Any, args: dict[str, Any]) -> list[Any]:
    return await ctx.db.query("observations").collect()


@query(args={})
async def jobs(ctx: Any, args: dict[str, Any]) -> list[Any]:
    return await ctx.db.system.query("_scheduled_functions").collect()


# -- OCC on a scheduled mutation --------------------------------------------------------


async def _bump(ctx: Any) -> int:
    row = await ctx.db.query("tally").first()
    if row is None:
        await ctx.db.insert("tally", {"value": 1})
        return 1
    await ctx.db.patch(row["_id"], {"value": row["value"] + 1})
    return int(row["value"] + 1)


@internal_mutation(args={})
async def bump_tally(ctx: Any, args: dict[str, Any]) -> int:
    return await _bump(ctx)


@mutation(args={})
async def bump_tally_now(ctx: Any, args: dict[str, Any]) -> int:
    return await _bump(ctx)


@mutation(args={"delayMs": v.number()})
async def schedule_bump_tally(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(args["delayMs"], internal.s6_jobs.bump_tally, {})


@query(args={})
async def tally(ctx: Any, args: dict[str, Any]) -> Any:
    row = await ctx.db.query("tally").first()
    return None if row is None else row["value"]
