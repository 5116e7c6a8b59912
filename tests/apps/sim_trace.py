"""Functions that leave every kind of trace event behind, with int64, float and bytes values."""

from __future__ import annotations

from typing import Any

from convex_sim import ConvexError, internal, internal_mutation, mutation, query, v

VALUES = {"i": v.int64(), "f": v.float64(), "b": v.bytes(), "s": v.string()}


@mutation(args=VALUES)
async def store_values(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Insert the values, log, schedule an echo of them, return them with the job id."""
    await ctx.db.insert("values", dict(args))
    ctx.log.info("stored", args["i"])
    job_id = await ctx.scheduler.run_after(100, internal.sim_trace.echo, dict(args))
    return {**args, "job": job_id}


@internal_mutation(args=VALUES)
async def echo(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    await ctx.db.insert("echoes", dict(args))
    return dict(args)


@mutation(args={"id": v.string()})
async def cancel_job(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.scheduler.cancel(args["id"])


@mutation(args={})
async def fail(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("values", {"i": 0, "f": 0.0, "b": b"", "s": "doomed"})
    raise ConvexError("fails on purpose")


@mutation(args={})
async def bump(ctx: Any, args: dict[str, Any]) -> int:
    row = await ctx.db.query("tally").first()
    if row is None:
        await ctx.db.insert("tally", {"n": 1})
        return 1
    await ctx.db.patch(row["_id"], {"n": row["n"] + 1})
    return int(row["n"] + 1)


@query(args={})
async def stored(ctx: Any, args: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: row[k] for k in ("i", "f", "b", "s")} for row in await ctx.db.query("values").collect()
    ]
