"""A second app, built to reproduce what the batch worker's later releases fixed.

The example app never meets those failures: its query answers idle only when
the table is empty, and it keeps no cursor. This app has the knobs that
make them happen, one worker per kind of work:

- ``tasks`` (worker ``"tasks"``): rows processed five at a time, except that
  :func:`set_saturated` makes the work query answer idle while rows remain,
  as a pool with no free slot would (evolution A), optionally asking to be
  woken after ``timeoutMs`` (C);
- ``marks`` (worker ``"marks"``): rows that are never deleted, scanned two at a
  time from the component-managed cursor (D); on 0.2.0 the query never gets
  the cursor back, so it hands out the first two forever.

``reproductions.py`` drives it; ``make_lab_app(release=...)`` mounts the
component at either release.
"""

from __future__ import annotations

from typing import Any, Final

import batch_worker
from convex_sim import (
    components,
    define_app,
    define_schema,
    define_table,
    internal_mutation,
    internal_query,
    mutation,
    query,
    v,
)
from convex_sim.components import AppDefinition

TASK_BATCH: Final = 5
MARK_BATCH: Final = 2

schema = define_schema(
    {
        "tasks": define_table({"value": v.number()}),
        "done": define_table({"value": v.number(), "atMs": v.number()}),
        "knobs": define_table({"saturated": v.boolean(), "timeoutMs": v.optional(v.number())}),
        "marks": define_table({"seq": v.number()}).index("by_seq", ["seq"]),
        "handed": define_table({"seqs": v.array(v.number()), "atMs": v.number()}),
    }
)

task_batch = v.object({"ids": v.array(v.id("tasks"))})
marks = batch_worker.define_batch_worker_validators(
    batch={"seqs": v.array(v.number())}, cursor=v.number()
)


async def _knobs(ctx: Any) -> dict[str, Any] | None:
    row: dict[str, Any] | None = await ctx.db.query("knobs").first()
    return row


@internal_query(args=batch_worker.batch_query_args, returns=batch_worker.batch_result(task_batch))
async def get_tasks(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    knobs = await _knobs(ctx)
    if knobs is not None and knobs["saturated"]:
        idle: dict[str, Any] = {"kind": "idle"}
        if knobs.get("timeoutMs") is not None:
            idle["timeoutMs"] = knobs["timeoutMs"]
        return idle
    rows = await ctx.db.query("tasks").take(TASK_BATCH)
    if not rows:
        return {"kind": "idle"}
    return {"batch": {"ids": [row["_id"] for row in rows]}}


@internal_mutation(args=task_batch, returns=batch_worker.worker_result)
async def do_tasks(ctx: Any, args: dict[str, Any]) -> None:
    for task_id in args["ids"]:
        row = await ctx.db.get(task_id)
        if row is not None:
            await ctx.db.insert("done", {"value": row["value"], "atMs": ctx.now_ms})
            await ctx.db.delete(task_id)
    return None


async def ping_tasks(ctx: Any, config: dict[str, Any] | None = None) -> None:
    await batch_worker.ping(
        ctx,
        components.batchWorker,
        name="tasks",
        work_query=get_tasks,
        worker_mutation=do_tasks,
        config=config,
    )


@mutation(
    args={"value": v.number(), "config": v.optional(batch_worker.config_validator)},
    returns=v.null(),
)
async def add_task(ctx: Any, args: dict[str, Any]) -> None:
    """Insert a task and ping its worker, in one transaction."""
    await ctx.db.insert("tasks", {"value": args["value"]})
    await ping_tasks(ctx, args.get("config"))
    return None


@mutation(args={"saturated": v.boolean(), "timeoutMs": v.optional(v.number())}, returns=v.null())
async def set_saturated(ctx: Any, args: dict[str, Any]) -> None:
    """Make the work query answer idle (with ``timeoutMs``, if given) while tasks remain."""
    knobs = await _knobs(ctx)
    row = {
        "saturated": args["saturated"],
        **({"timeoutMs": args["timeoutMs"]} if "timeoutMs" in args else {}),
    }
    if knobs is None:
        await ctx.db.insert("knobs", row)
    else:
        await ctx.db.replace(knobs["_id"], row)
    return None


@internal_query(args=marks.query_args, returns=marks.query_returns)
async def get_marks(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """The next two marks from the cursor on, and the cursor just past them."""
    start = args.get("cursor", 0)
    rows = (
        await ctx.db.query("marks")
        .with_index("by_seq", lambda q: q.gte("seq", start))
        .take(MARK_BATCH)
    )
    if not rows:
        return {"kind": "idle"}
    seqs = [row["seq"] for row in rows]
    return {"batch": {"seqs": seqs}, "cursor": seqs[-1] + 1}


@internal_mutation(args=marks.mutation_args, returns=marks.mutation_returns)
async def do_marks(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("handed", {"seqs": list(args["seqs"]), "atMs": ctx.now_ms})
    return None


@mutation(args={"count": v.number()}, returns=v.null())
async def add_marks(ctx: Any, args: dict[str, Any]) -> None:
    """Insert marks ``0..count-1`` after the last one, and ping their worker."""
    last = await ctx.db.query("marks").with_index("by_seq").order("desc").first()
    first = 0 if last is None else int(last["seq"]) + 1
    for seq in range(first, first + int(args["count"])):
        await ctx.db.insert("marks", {"seq": seq})
    await batch_worker.ping(
        ctx, components.batchWorker, name="marks", work_query=get_marks, worker_mutation=do_marks
    )
    return None


@query(args={}, returns=v.array(v.array(v.number())))
async def handed_out(ctx: Any, args: dict[str, Any]) -> list[list[float]]:
    """Every batch of marks the worker was handed, in order."""
    return [list(row["seqs"]) for row in await ctx.db.query("handed").collect()]


@query(args={}, returns=v.number())
async def tasks_left(ctx: Any, args: dict[str, Any]) -> int:
    return len(await ctx.db.query("tasks").collect())


def make_lab_app(log_level: str | None = None, release: str = "0.2.0") -> AppDefinition:
    """This module as an app with the batch worker at ``release`` mounted as ``batchWorker``."""
    import example.lab as module

    app = define_app(schema=schema, modules=[module])
    env = {} if log_level is None else {"LOG_LEVEL": log_level}
    app.use(batch_worker.release(release), name="batchWorker", env=env)
    return app
