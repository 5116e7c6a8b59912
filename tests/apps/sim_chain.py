"""Self-rescheduling mutations: a chain that ends, and a job that never stops.

``step`` counts itself in a single ``progress`` row and schedules the next link
until ``remaining`` reaches 1, so a chain of N links leaves ``count == N`` and
exactly N ``_scheduled_functions`` rows in state ``success``.
"""

from __future__ import annotations

from typing import Any

from convex_sim import internal, internal_mutation, mutation, query, v


@mutation(args={"links": v.int64(), "delayMs": v.number()})
async def start_chain(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(
        args["delayMs"],
        internal.sim_chain.step,
        {"remaining": args["links"], "delayMs": args["delayMs"]},
    )


@internal_mutation(args={"remaining": v.int64(), "delayMs": v.number()})
async def step(ctx: Any, args: dict[str, Any]) -> None:
    row = await ctx.db.query("progress").first()
    if row is None:
        await ctx.db.insert("progress", {"count": 1, "lastAt": ctx.now_ms})
    else:
        await ctx.db.patch(row["_id"], {"count": row["count"] + 1, "lastAt": ctx.now_ms})
    if args["remaining"] > 1:
        await ctx.scheduler.run_after(
            args["delayMs"],
            internal.sim_chain.step,
            {"remaining": args["remaining"] - 1, "delayMs": args["delayMs"]},
        )


@mutation(args={"delayMs": v.number()})
async def start_forever(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(
        args["delayMs"], internal.sim_chain.forever, {"delayMs": args["delayMs"]}
    )


@internal_mutation(args={"delayMs": v.number()})
async def forever(ctx: Any, args: dict[str, Any]) -> None:
    """Reschedules itself every time: ``finish_all_scheduled_functions`` can never settle."""
    row = await ctx.db.query("progress").first()
    if row is None:
        await ctx.db.insert("progress", {"count": 1, "lastAt": ctx.now_ms})
    else:
        await ctx.db.patch(row["_id"], {"count": row["count"] + 1, "lastAt": ctx.now_ms})
    await ctx.scheduler.run_after(args["delayMs"], internal.sim_chain.forever, args)


@query(args={})
async def progress(ctx: Any, args: dict[str, Any]) -> Any:
    row = await ctx.db.query("progress").first()
    return None if row is None else {"count": row["count"], "lastAt": row["lastAt"]}
