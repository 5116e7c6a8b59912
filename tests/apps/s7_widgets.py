"""A component for the §7 tests: it owns a table named ``items``, as the app does."""

from __future__ import annotations

from typing import Any

from convex_sim import internal, internal_mutation, internal_query, mutation, query, v


@mutation(args={"text": v.string()})
async def add(ctx: Any, args: dict[str, Any]) -> Any:
    """Returns the new id as it is (crossing into the app, it is just a string)."""
    return await ctx.db.insert("items", {"text": args["text"]})


@query(args={})
async def texts(ctx: Any, args: dict[str, Any]) -> list[str]:
    return sorted(row["text"] for row in await ctx.db.query("items").collect())


@query(args={"id": v.string()})
async def get_by_id(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.get(args["id"])


@query(args={"id": v.string()})
async def normalize(ctx: Any, args: dict[str, Any]) -> Any:
    return ctx.db.normalize_id("items", args["id"])


@internal_query(args={})
async def hidden(ctx: Any, args: dict[str, Any]) -> str:
    return "hidden"


@query(args={})
async def call_own_internal(ctx: Any, args: dict[str, Any]) -> str:
    """A component may call its own internal functions."""
    return str(await ctx.run_query(internal.s7_widgets.hidden, {}))


@mutation(args={"text": v.string()})
async def add_later(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(0, internal.s7_widgets.add_now, {"text": args["text"]})


@internal_mutation(args={"text": v.string()})
async def add_now(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("items", {"text": args["text"]})


@query(args={})
async def jobs(ctx: Any, args: dict[str, Any]) -> list[str]:
    return [row["name"] for row in await ctx.db.system.query("_scheduled_functions").collect()]


@query(args={})
async def env(ctx: Any, args: dict[str, Any]) -> dict[str, str]:
    return dict(ctx.env)
