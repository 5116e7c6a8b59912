"""Functions for the commit-timestamp tests (§4.8)."""

from __future__ import annotations

from typing import Any

from convex_sim import (
    define_app,
    define_schema,
    define_table,
    internal_mutation,
    mutation,
    query,
    v,
)

SCHEMA = define_schema(
    {"stamps": define_table({"ts": v.commit_ts(), "n": v.int64()}).index("by_ts", ["ts"])}
)


@mutation(args={"n": v.int64()})
async def stamp(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Write the placeholder twice, read it back, find own rows by it, return it."""
    first = await ctx.db.insert("stamps", {"ts": ctx.db.vars.commit_ts, "n": args["n"]})
    await ctx.db.insert("stamps", {"ts": ctx.db.vars.commit_ts, "n": args["n"]})
    read_back = await ctx.db.get(first)
    own = (
        await ctx.db.query("stamps")
        .with_index("by_ts", lambda q: q.eq("ts", ctx.db.vars.commit_ts))
        .collect()
    )
    numeric_use_fails = False
    try:
        read_back["ts"] + 1
    except TypeError:
        numeric_use_fails = True
    return {
        "readBackIsPlaceholder": read_back["ts"] is ctx.db.vars.commit_ts,
        "own": len(own),
        "numericUseFails": numeric_use_fails,
        "ts": ctx.db.vars.commit_ts,
    }


@internal_mutation(args={})
async def returns_placeholder(ctx: Any, args: dict[str, Any]) -> Any:
    await ctx.db.insert("stamps", {"ts": ctx.db.vars.commit_ts, "n": 0})
    return ctx.db.vars.commit_ts


@mutation(args={})
async def via_nested(ctx: Any, args: dict[str, Any]) -> Any:
    import tests.apps.commit_ts_app as me

    return await ctx.run_mutation(me.returns_placeholder, {})


@mutation(args={})
async def schedule_with_placeholder(ctx: Any, args: dict[str, Any]) -> None:
    import tests.apps.commit_ts_app as me

    await ctx.scheduler.run_after(0, me.returns_placeholder, {"ts": ctx.db.vars.commit_ts})


@query(args={})
async def query_returning_placeholder(ctx: Any, args: dict[str, Any]) -> Any:
    return ctx.db.vars.commit_ts


@query(args={})
async def all_stamps(ctx: Any, args: dict[str, Any]) -> list[Any]:
    return [[row["ts"], row["n"]] for row in await ctx.db.query("stamps").collect()]


def make_app() -> Any:
    import tests.apps.commit_ts_app as module

    return define_app(schema=SCHEMA, modules=[module])
