"""The app: a table of tallies, a mutation, a query, a scheduled job, and the ledger mounted."""

from __future__ import annotations

import sys
from typing import Any

from convex_sim import (
    components,
    define_app,
    define_component,
    define_schema,
    define_table,
    internal_mutation,
    mutation,
    pagination_opts_validator,
    query,
    v,
)
from convex_sim.components import AppDefinition

from tally import ledger

schema = define_schema(
    {"tallies": define_table({"name": v.string(), "count": v.number()}).index("by_name", ["name"])}
)

ledger_component = define_component(
    "ledger",
    schema=define_schema(
        {
            "entries": define_table({"name": v.string(), "amount": v.number()}).index(
                "by_name", ["name"]
            )
        }
    ),
    modules=[ledger],
)


async def _tally(ctx: Any, name: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await ctx.db.query("tallies").with_index("by_name", lambda q: q.eq("name", name)).unique()
    )
    return row


@mutation(args={"name": v.string(), "by": v.number()}, returns=v.number())
async def add(ctx: Any, args: dict[str, Any]) -> float:
    """Add to a tally and tell the ledger, in one transaction."""
    row = await _tally(ctx, args["name"])
    count = (0 if row is None else row["count"]) + args["by"]
    if row is None:
        await ctx.db.insert("tallies", {"name": args["name"], "count": count})
    else:
        await ctx.db.patch(row["_id"], {"count": count})
    await ctx.run_mutation(
        components.ledger.ledger.record, {"name": args["name"], "amount": args["by"]}
    )
    return float(count)


@mutation(args={"name": v.string(), "by": v.number()}, returns=v.number())
async def add_from_snapshot(ctx: Any, args: dict[str, Any]) -> float:
    """A careless ``add``: it looks for the tally without a read dependency.

    The snapshot read records no read set, so two first adds of a name at
    once both find nothing, both insert, and both commit: two tallies of one
    name, which ``read`` then refuses (``unique()``).
    """
    row = await ctx.run_query(find, {"name": args["name"]}, use_stale_snapshot=True)
    if row is None:
        new_count = args["by"]
        await ctx.db.insert("tallies", {"name": args["name"], "count": new_count})
    else:
        new_count = row["count"] + args["by"]
        await ctx.db.replace(row["_id"], {"name": args["name"], "count": new_count})
    return float(new_count)


@query(args={"name": v.string()})
async def find(ctx: Any, args: dict[str, Any]) -> dict[str, Any] | None:
    return await _tally(ctx, args["name"])


@query(args={"name": v.string()}, returns=v.number())
async def read(ctx: Any, args: dict[str, Any]) -> float:
    row = await _tally(ctx, args["name"])
    return 0.0 if row is None else float(row["count"])


@query(args={"paginationOpts": pagination_opts_validator})
async def names(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    page: dict[str, Any] = (
        await ctx.db.query("tallies").order("asc").paginate(args["paginationOpts"])
    )
    page["page"] = [row["name"] for row in page["page"]]
    return page


@mutation(args={"name": v.string(), "by": v.number(), "delayMs": v.number()})
async def add_later(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.scheduler.run_after(
        args["delayMs"], apply_later, {"name": args["name"], "by": args["by"]}
    )


@internal_mutation(args={"name": v.string(), "by": v.number()})
async def apply_later(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.run_mutation(add, args)


def make_app() -> AppDefinition:
    app = define_app(schema=schema, modules=[sys.modules[__name__]])
    app.use(ledger_component, name="ledger")
    return app
