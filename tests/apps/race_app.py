"""Small mutations for the named OCC tests: counters, doctors on call, ranges, snapshots."""

from __future__ import annotations

import contextlib
from typing import Any

from convex_sim import (
    define_app,
    define_schema,
    define_table,
    internal_mutation,
    internal_query,
    mutation,
    v,
)

SCHEMA = define_schema(
    {
        "cells": define_table({"name": v.string(), "value": v.int64()}).index("by_name", ["name"]),
        "doctors": define_table({"name": v.string(), "onCall": v.boolean()}),
        "slots": define_table({"n": v.int64()}).index("by_n", ["n"]),
        "log": define_table({"note": v.string()}),
    }
)


@mutation(args={"name": v.string()})
async def bump(ctx: Any, args: dict[str, Any]) -> int:
    cell = (
        await ctx.db.query("cells")
        .with_index("by_name", lambda q: q.eq("name", args["name"]))
        .unique()
    )
    if cell is None:
        await ctx.db.insert("cells", {"name": args["name"], "value": 1})
        return 1
    await ctx.db.patch(cell["_id"], {"value": cell["value"] + 1})
    return int(cell["value"] + 1)


@mutation(args={"name": v.string()})
async def go_off_call(ctx: Any, args: dict[str, Any]) -> bool:
    """Leave only if someone else stays on call (the classic write-skew check)."""
    doctors = await ctx.db.query("doctors").collect()
    on_call = [d for d in doctors if d["onCall"]]
    if len(on_call) < 2:
        return False
    me = next(d for d in doctors if d["name"] == args["name"])
    await ctx.db.patch(me["_id"], {"onCall": False})
    return True


@mutation(args={"n": v.int64()})
async def add_slot(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("slots", {"n": args["n"]})


@mutation(args={"lo": v.int64(), "hi": v.int64()})
async def first_in_range(ctx: Any, args: dict[str, Any]) -> Any:
    row = (
        await ctx.db.query("slots")
        .with_index("by_n", lambda q: q.gte("n", args["lo"]).lt("n", args["hi"]))
        .first()
    )
    await ctx.db.insert("log", {"note": "first"})
    return None if row is None else row["n"]


@internal_query(args={})
async def count_slots(ctx: Any, args: dict[str, Any]) -> int:
    return len(await ctx.db.query("slots").collect())


@mutation(args={"snapshot": v.boolean()})
async def count_then_log(ctx: Any, args: dict[str, Any]) -> int:
    import tests.apps.race_app as me

    count: int = await ctx.run_query(me.count_slots, {}, use_stale_snapshot=args["snapshot"])
    await ctx.db.insert("log", {"note": f"saw {count}"})
    return count


@internal_mutation(args={})
async def read_slots_then_fail(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.query("slots").collect()
    await ctx.db.insert("log", {"note": "rolled back"})
    raise RuntimeError("nested failure")


@mutation(args={})
async def catch_nested_failure(ctx: Any, args: dict[str, Any]) -> str:
    import tests.apps.race_app as me

    with contextlib.suppress(RuntimeError):
        await ctx.run_mutation(me.read_slots_then_fail, {})
    await ctx.db.insert("log", {"note": "outer"})
    return "committed"


def make_app() -> Any:
    import tests.apps.race_app as module

    return define_app(schema=SCHEMA, modules=[module])


@internal_mutation(args={"note": v.string()})
async def write_note(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("log", {"note": args["note"]})


@mutation(args={"delayMs": v.number()})
async def schedule_note(ctx: Any, args: dict[str, Any]) -> Any:
    import tests.apps.race_app as me

    return await ctx.scheduler.run_after(args["delayMs"], me.write_note, {"note": "scheduled"})


@mutation(args={"id": v.id("_scheduled_functions")})
async def cancel_job(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.scheduler.cancel(args["id"])


@internal_query(args={})
async def notes(ctx: Any, args: dict[str, Any]) -> list[str]:
    return [row["note"] for row in await ctx.db.query("log").collect()]
