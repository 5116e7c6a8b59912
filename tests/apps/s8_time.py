"""Functions for the §8 tests: what an execution sees of time and randomness."""

from __future__ import annotations

from typing import Any

import convex_sim
from convex_sim import internal, internal_query, mutation, query, v


@mutation(args={})
async def observe_time(ctx: Any, args: dict[str, Any]) -> list[float]:
    """``Date.now()`` read before, between and after several awaited operations."""
    seen = [ctx.now_ms, convex_sim.now()]
    await ctx.db.insert("times", {"at": ctx.now_ms})
    seen += [ctx.now_ms, convex_sim.now()]
    await ctx.db.query("times").collect()
    seen += [ctx.now_ms, convex_sim.now()]
    seen.append(float(await ctx.run_query(internal.s8_time.nested_now, {})))
    seen += [ctx.now_ms, convex_sim.now()]
    return seen


@internal_query(args={})
async def nested_now(ctx: Any, args: dict[str, Any]) -> float:
    return float(ctx.now_ms)


@query(args={})
async def now_in_query(ctx: Any, args: dict[str, Any]) -> float:
    return float(convex_sim.now())


@mutation(args={"count": v.int64()})
async def draw(ctx: Any, args: dict[str, Any]) -> list[float]:
    return [ctx.random.random() for _ in range(args["count"])]


@query(args={"count": v.int64()})
async def draw_in_query(ctx: Any, args: dict[str, Any]) -> list[float]:
    return [ctx.random.random() for _ in range(args["count"])]


@mutation(args={})
async def insert_one(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.insert("times", {"at": ctx.now_ms})
