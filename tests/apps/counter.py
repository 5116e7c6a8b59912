"""A small app for runtime tests: a counter, a message list, and calls into a component."""

from __future__ import annotations

from typing import Any

from convex_sim import (
    ConvexError,
    components,
    internal,
    internal_mutation,
    internal_query,
    mutation,
    query,
    v,
)


@mutation(args={"by": v.optional(v.int64())}, returns=v.int64())
async def increment(ctx: Any, args: dict[str, Any]) -> int:
    counter = (
        await ctx.db.query("counters")
        .with_index("by_name", lambda q: q.eq("name", "main"))
        .unique()
    )
    by = args.get("by", 1)
    if counter is None:
        await ctx.db.insert("counters", {"name": "main", "value": by})
        return int(by)
    await ctx.db.patch(counter["_id"], {"value": counter["value"] + by})
    return int(counter["value"] + by)


@query(args={}, returns=v.union(v.int64(), v.null()))
async def read_counter(ctx: Any, args: dict[str, Any]) -> int | None:
    counter = (
        await ctx.db.query("counters")
        .with_index("by_name", lambda q: q.eq("name", "main"))
        .unique()
    )
    return None if counter is None else int(counter["value"])


@mutation(args={"body": v.string()})
async def send(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.insert("messages", {"body": args["body"], "sentAt": ctx.now_ms})


@query(args={})
async def list_messages(ctx: Any, args: dict[str, Any]) -> list[str]:
    return [m["body"] for m in await ctx.db.query("messages").collect()]


@mutation(args={"body": v.string(), "delayMs": v.number()})
async def send_later(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(
        args["delayMs"], internal.counter.deliver, {"body": args["body"]}
    )


@internal_mutation(args={"body": v.string()})
async def deliver(ctx: Any, args: dict[str, Any]) -> None:
    if args["body"] == "boom":
        raise ConvexError("cannot deliver boom")
    await ctx.db.insert("messages", {"body": args["body"], "sentAt": ctx.now_ms})


@internal_query(args={})
async def secret(ctx: Any, args: dict[str, Any]) -> str:
    return "internal"


@mutation(args={"text": v.string()})
async def add_note(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_mutation(components.notes.notes.add, {"text": args["text"]})


@query(args={})
async def count_notes(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_query(components.notes.notes.count, {})
