"""An app for the reopen tests: a counter bumped by scheduled jobs, and notes.

``die_in`` lets a test's child process kill itself from inside a running
handler (``CONVEX_SIM_DIE_IN`` names the handler), which is the one way to
stop a process while a transaction is open or an action is running.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from convex_sim import (
    define_app,
    define_schema,
    define_table,
    internal,
    internal_action,
    internal_mutation,
    mutation,
    query,
    v,
)
from convex_sim.components import AppDefinition


def die_in(handler: str) -> None:
    if os.environ.get("CONVEX_SIM_DIE_IN") == handler:
        os.kill(os.getpid(), signal.SIGKILL)


def make_schema(*, note_body: Any = None, extra_index: bool = False) -> Any:
    notes = define_table({"body": note_body or v.string()})
    if extra_index:
        notes = notes.index("by_body", ["body"])
    return define_schema(
        {
            "notes": notes,
            "counters": define_table({"name": v.string(), "value": v.int64()}).index(
                "by_name", ["name"]
            ),
        }
    )


def make_app(**schema_options: Any) -> AppDefinition:
    import tests.apps.durable_app as module

    return define_app(schema=make_schema(**schema_options), modules=[module])


@mutation(args={"body": v.string()})
async def add_note(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.insert("notes", {"body": args["body"]})


@query(args={})
async def counter(ctx: Any, args: dict[str, Any]) -> int:
    row = await ctx.db.query("counters").with_index("by_name", lambda q: q.eq("name", "c")).unique()
    return 0 if row is None else int(row["value"])


@internal_mutation(args={})
async def bump(ctx: Any, args: dict[str, Any]) -> None:
    row = await ctx.db.query("counters").with_index("by_name", lambda q: q.eq("name", "c")).unique()
    if row is None:
        await ctx.db.insert("counters", {"name": "c", "value": 1})
    else:
        await ctx.db.patch(row["_id"], {"value": row["value"] + 1})
    die_in("bump")


@mutation(args={"delayMs": v.number(), "count": v.optional(v.number())})
async def schedule_bump(ctx: Any, args: dict[str, Any]) -> Any:
    """``count`` jobs (1 by default) due together, so they run concurrently and race."""
    for _ in range(int(args.get("count", 1)) - 1):
        await ctx.scheduler.run_after(args["delayMs"], internal.durable_app.bump)
    return await ctx.scheduler.run_after(args["delayMs"], internal.durable_app.bump)


@internal_action(args={})
async def bump_then_work(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.run_mutation(internal.durable_app.bump)
    die_in("bump_then_work")


@mutation(args={"delayMs": v.number()})
async def schedule_action(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(args["delayMs"], internal.durable_app.bump_then_work)
