"""The functions of a tiny component with a table of its own."""

from __future__ import annotations

from typing import Any

from convex_sim import internal_query, mutation, query, v


@mutation(args={"text": v.string()}, returns=v.string())
async def add(ctx: Any, args: dict[str, Any]) -> str:
    note_id = await ctx.db.insert("notes", {"text": args["text"]})
    return str(note_id)


@query(args={}, returns=v.int64())
async def count(ctx: Any, args: dict[str, Any]) -> int:
    return len(await ctx.db.query("notes").collect())


@query(args={}, returns=v.union(v.string(), v.null()))
async def greeting(ctx: Any, args: dict[str, Any]) -> str | None:
    return ctx.env.get("GREETING")


@internal_query(args={})
async def hidden(ctx: Any, args: dict[str, Any]) -> int:
    return 0
