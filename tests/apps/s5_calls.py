"""Functions the §3–§5 tests call as nested functions (and a few as clients)."""

from __future__ import annotations

import contextlib
from typing import Any

import convex_sim
from convex_sim import (
    ConvexError,
    action,
    api,
    internal,
    internal_mutation,
    mutation,
    query,
    v,
)


@query(args={"id": v.string()})
async def get_item(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.get(args["id"])


@query(args={"name": v.string()})
async def names_of(ctx: Any, args: dict[str, Any]) -> list[str]:
    rows = await (
        ctx.db.query("items").with_index("by_name", lambda q: q.eq("name", args["name"])).collect()
    )
    return [row["name"] for row in rows]


@query(args={})
async def all_names(ctx: Any, args: dict[str, Any]) -> list[str]:
    return sorted(row["name"] for row in await ctx.db.query("items").collect())


@query(args={})
async def clock_and_dice(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    return {"now": convex_sim.now(), "ctxNow": ctx.now_ms, "random": ctx.random.random()}


@mutation(args={})
async def clock_and_dice_mutation(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    return {"now": convex_sim.now(), "ctxNow": ctx.now_ms, "random": ctx.random.random()}


@internal_mutation(args={"name": v.string()}, returns=v.id("items"))
async def add_item(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.insert("items", {"name": args["name"], "n": 0})


@internal_mutation(args={"name": v.string()})
async def add_then_read_names(ctx: Any, args: dict[str, Any]) -> list[str]:
    await ctx.db.insert("items", {"name": args["name"], "n": 0})
    return sorted(row["name"] for row in await ctx.db.query("items").collect())


@internal_mutation(args={})
async def noop(ctx: Any, args: dict[str, Any]) -> None:
    return None


@internal_mutation(args={"name": v.string()})
async def write_schedule_then_fail(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("items", {"name": args["name"], "n": 0})
    await ctx.scheduler.run_after(1_000, internal.s5_calls.noop, {})
    raise ConvexError({"why": "nested failure", "name": args["name"]})


@internal_mutation(args={"id": v.string()})
async def read_then_fail(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.get(args["id"])
    raise ConvexError("read, then failed")


@internal_mutation(args={"name": v.string()})
async def add_and_call_failing(ctx: Any, args: dict[str, Any]) -> str:
    """Inserts ``name``, then calls a nested mutation that fails, and catches it."""
    await ctx.db.insert("items", {"name": args["name"], "n": 0})
    try:
        await ctx.run_mutation(
            internal.s5_calls.write_schedule_then_fail, {"name": args["name"] + "-inner"}
        )
    except ConvexError:
        return "caught"
    return "not raised"


@internal_mutation(args={"name": v.string()}, returns=v.string())
async def bad_return(ctx: Any, args: dict[str, Any]) -> Any:
    await ctx.db.insert("items", {"name": args["name"], "n": 0})
    return 42


@query(args={})
async def query_calls_mutation(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_mutation(internal.s5_calls.add_item, {"name": "from-query"})


@query(args={})
async def query_calls_action(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_action(api.s5_calls.record_action, {})


@query(args={})
async def query_uses_stale_snapshot(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_query(api.s5_calls.all_names, {}, use_stale_snapshot=True)


@mutation(args={})
async def mutation_calls_action(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_action(api.s5_calls.record_action, {})


@action(args={})
async def record_action(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_mutation(internal.s5_calls.add_item, {"name": "from-action"})


@action(args={})
async def action_steps(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Each call is its own transaction: the first commit stays, whatever follows."""
    await ctx.run_mutation(internal.s5_calls.add_item, {"name": "step-1"})
    seen = await ctx.run_query(api.s5_calls.all_names, {})
    with contextlib.suppress(ConvexError):
        await ctx.run_mutation(internal.s5_calls.write_schedule_then_fail, {"name": "step-2"})
    inner = await ctx.run_action(api.s5_calls.record_action, {})
    raise ConvexError({"seen": seen, "innerActionResult": str(inner)})


@query(args={"levels": v.int64()})
async def descend_query(ctx: Any, args: dict[str, Any]) -> int:
    if args["levels"] == 0:
        return 0
    below = await ctx.run_query(api.s5_calls.descend_query, {"levels": args["levels"] - 1})
    return int(below) + 1


@mutation(args={"levels": v.int64()})
async def descend_mutation(ctx: Any, args: dict[str, Any]) -> int:
    await ctx.db.insert("items", {"name": f"level-{args['levels']}", "n": 0})
    if args["levels"] == 0:
        return 0
    below = await ctx.run_mutation(api.s5_calls.descend_mutation, {"levels": args["levels"] - 1})
    return int(below) + 1
