"""A component that calls back into whatever function handle it is given (§5.6)."""

from __future__ import annotations

from typing import Any

from convex_sim import mutation, query, v


@query(args={"handle": v.string(), "args": v.any()})
async def query_handle(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_query(args["handle"], args["args"])


@mutation(args={"handle": v.string(), "args": v.any()})
async def mutate_handle(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_mutation(args["handle"], args["args"])


@mutation(args={"handle": v.string(), "args": v.any()})
async def schedule_handle(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(0, args["handle"], args["args"])
