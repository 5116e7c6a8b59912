"""An app written the way a new user writes one: ``v.number()`` counts, the usual
paginated query, and mutations that store whatever they are given."""

from __future__ import annotations

from typing import Any

from convex_sim import (
    define_app,
    define_schema,
    define_table,
    internal_mutation,
    mutation,
    pagination_opts_validator,
    query,
    v,
)


@mutation(args={"n": v.number()})
async def add(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.insert("items", {"n": args["n"]})


@query(args={"n": v.number()})
async def first_n(ctx: Any, args: dict[str, Any]) -> list[float]:
    return [row["n"] for row in await ctx.db.query("items").take(args["n"])]


@query(args={"paginationOpts": pagination_opts_validator})
async def list_items(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.query("items").with_index("by_n").paginate(args["paginationOpts"])


@query(args={"paginationOpts": v.any()})
async def list_items_unchecked(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.query("items").with_index("by_n").paginate(args["paginationOpts"])


@mutation
async def store_args(ctx: Any, args: dict[str, Any]) -> Any:
    """No validator: the arguments themselves become the document."""
    return await ctx.db.insert("things", args)


@mutation(args={"value": v.any()})
async def store_value(ctx: Any, args: dict[str, Any]) -> Any:
    """``v.any()``: the value is stored one level down, in a field."""
    return await ctx.db.insert("things", {"value": args["value"]})


@mutation(
    args={
        "items": v.array(v.union(v.number(), v.string(), v.null())),
        "meta": v.optional(v.record(v.string(), v.any())),
        "tag": v.optional(v.union(v.literal("a"), v.int64(), v.bytes())),
    }
)
async def store_typed(ctx: Any, args: dict[str, Any]) -> Any:
    """Validated field by field: only what the validator accepts reaches the write."""
    return await ctx.db.insert("things", {"typed": args})


@mutation
async def forward(ctx: Any, args: dict[str, Any]) -> Any:
    """Writes, then hands its arguments unchanged to a nested call and to the scheduler."""
    await ctx.db.insert("things", {"marker": 1})
    await ctx.run_mutation(traps_sink, args)
    return await ctx.scheduler.run_after(0, traps_sink, args)


@query
async def ignore_args(ctx: Any, args: dict[str, Any]) -> None:
    """No validator, no write: only the arguments' own checks apply."""
    return None


def nested(depth: int) -> Any:
    """A list ``depth`` levels deep, built without recursion."""
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@mutation(args={"depth": v.number(), "via": v.string()})
async def deep_write(ctx: Any, args: dict[str, Any]) -> Any:
    """Writes first, then hands a value ``depth`` deep on ``via`` one way out."""
    marker = await ctx.db.insert("things", {"marker": 1})
    value = nested(int(args["depth"]))
    via = args["via"]
    if via == "nested call":
        await ctx.run_mutation(traps_sink, {"value": value})
    elif via == "scheduler":
        await ctx.scheduler.run_after(0, traps_sink, {"value": value})
    elif via == "insert":
        await ctx.db.insert("things", {"value": value})
    elif via == "patch":
        await ctx.db.patch(marker, {"value": value})
    elif via == "replace":
        await ctx.db.replace(marker, {"value": value})
    else:
        return value
    return None


@internal_mutation
async def traps_sink(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("things", {"sunk": True})


def make_app() -> Any:
    from tests.apps import traps

    return define_app(
        schema=define_schema({"items": define_table({"n": v.number()}).index("by_n", ["n"])}),
        modules=[traps],
    )
