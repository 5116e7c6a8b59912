"""The app side of the §7 tests: its own ``items`` table, and calls into ``widgets``."""

from __future__ import annotations

from typing import Any

from convex_sim import ConvexError, components, internal, internal_mutation, mutation, query, v


@mutation(args={"text": v.string()})
async def add_item(ctx: Any, args: dict[str, Any]) -> Any:
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


@mutation(args={"text": v.string()})
async def add_widget(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_mutation(components.widgets.s7_widgets.add, {"text": args["text"]})


@mutation(args={"text": v.string()})
async def add_both_then_fail(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("items", {"text": args["text"]})
    await ctx.run_mutation(components.widgets.s7_widgets.add, {"text": args["text"]})
    raise ConvexError("the app mutation fails after the component wrote")


@query(args={})
async def widget_texts(ctx: Any, args: dict[str, Any]) -> list[str]:
    return list(await ctx.run_query(components.widgets.s7_widgets.texts, {}))


@query(args={"id": v.string()})
async def widget_get(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_query(components.widgets.s7_widgets.get_by_id, {"id": args["id"]})


@query(args={"id": v.string()})
async def widget_normalize(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_query(components.widgets.s7_widgets.normalize, {"id": args["id"]})


@query(args={})
async def call_widget_internal(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_query(components.widgets.s7_widgets.hidden, {})


@query(args={})
async def call_widget_public_that_calls_its_internal(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_query(components.widgets.s7_widgets.call_own_internal, {})


@mutation(args={"text": v.string()})
async def schedule_both(ctx: Any, args: dict[str, Any]) -> None:
    """One job in the app's scheduler, one in the component's."""
    await ctx.scheduler.run_after(0, internal.s7_host.add_item_later, {"text": args["text"]})
    await ctx.run_mutation(components.widgets.s7_widgets.add_later, {"text": args["text"]})


@internal_mutation(args={"text": v.string()})
async def add_item_later(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("items", {"text": args["text"]})


@query(args={})
async def jobs(ctx: Any, args: dict[str, Any]) -> list[str]:
    return [row["name"] for row in await ctx.db.system.query("_scheduled_functions").collect()]


@query(args={})
async def env(ctx: Any, args: dict[str, Any]) -> dict[str, str]:
    return dict(ctx.env)


@query(args={})
async def widget_env(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_query(components.widgets.s7_widgets.env, {})
