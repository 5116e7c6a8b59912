"""Client-facing queries for the §2 tests: reads made in a real query context."""

from __future__ import annotations

from typing import Any

from convex_sim import query, v


@query(args={"id": v.string(), "table": v.optional(v.string())})
async def get_doc(ctx: Any, args: dict[str, Any]) -> Any:
    if "table" in args:
        return await ctx.db.get(args["table"], args["id"])
    return await ctx.db.get(args["id"])


@query(args={"numItems": v.int64(), "cursor": v.union(v.string(), v.null())})
async def page_items(ctx: Any, args: dict[str, Any]) -> Any:
    return await (
        ctx.db.query("items")
        .with_index("by_n")
        .paginate({"numItems": args["numItems"], "cursor": args["cursor"]})
    )


@query(args={})
async def two_pages(ctx: Any, args: dict[str, Any]) -> Any:
    await ctx.db.query("items").paginate({"numItems": 1, "cursor": None})
    return await ctx.db.query("counters").paginate({"numItems": 1, "cursor": None})
