"""The ledger component's functions: it keeps one entry per amount it is told of."""

from __future__ import annotations

from typing import Any

from convex_sim import mutation, query, v


@mutation(args={"name": v.string(), "amount": v.number()})
async def record(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("entries", {"name": args["name"], "amount": args["amount"]})


@query(args={"name": v.string()}, returns=v.number())
async def balance(ctx: Any, args: dict[str, Any]) -> float:
    entries = (
        await ctx.db.query("entries")
        .with_index("by_name", lambda q: q.eq("name", args["name"]))
        .collect()
    )
    return float(sum(entry["amount"] for entry in entries))
