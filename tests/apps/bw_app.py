"""A test app for the batch worker whose work query and worker mutation can be steered.

Work is rows of ``work`` tagged with the worker's name. ``get_work`` hands out
up to :data:`BATCH_SIZE` of them; with none left it returns the idle result
stored in the worker's ``control`` row (``{"kind": "idle"}`` when there is
none), so a test decides ``cooldownMs`` / ``pollIntervalMs`` / ``timeoutMs``.
``do_work`` records each value in ``processed`` and deletes the row; the
``control`` row can make it raise (``fail``) or ask for a ``debounceMs``.
``get_work_alt`` is the same query under another name (spelling work with
``"kind": "work"``, where ``get_work`` leaves ``kind`` out), to change handles.
"""

from __future__ import annotations

from typing import Any, Final

import batch_worker
from batch_worker.shared import config_validator
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

BATCH_SIZE: Final = 5

idle_settings = v.object(
    {
        "cooldownMs": v.optional(v.number()),
        "pollIntervalMs": v.optional(v.number()),
        "timeoutMs": v.optional(v.number()),
    }
)

schema = define_schema(
    {
        "work": define_table({"worker": v.string(), "value": v.number()}).index(
            "by_worker", ["worker"]
        ),
        "control": define_table(
            {
                "worker": v.string(),
                "idle": idle_settings,
                "fail": v.boolean(),
                "debounceMs": v.optional(v.number()),
            }
        ).index("by_worker", ["worker"]),
        "processed": define_table({"worker": v.string(), "value": v.number(), "atMs": v.number()}),
    }
)

batch = v.object({"name": v.string(), "ids": v.array(v.id("work"))})


async def _control(ctx: Any, name: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await ctx.db.query("control")
        .with_index("by_worker", lambda q: q.eq("worker", name))
        .unique()
    )
    return row


async def _next_batch(ctx: Any, name: str, *, kind: bool) -> dict[str, Any]:
    rows = (
        await ctx.db.query("work")
        .with_index("by_worker", lambda q: q.eq("worker", name))
        .take(BATCH_SIZE)
    )
    if rows:
        work = {"batch": {"name": name, "ids": [row["_id"] for row in rows]}}
        return {"kind": "work", **work} if kind else work
    control = await _control(ctx, name)
    return {"kind": "idle", **(control["idle"] if control else {})}


@internal_query(args=batch_worker.batch_query_args, returns=batch_worker.batch_result(batch))
async def get_work(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Work is ``{"batch": ...}`` with no ``kind``: the key ``batch`` alone makes it work."""
    return await _next_batch(ctx, args["name"], kind=False)


@internal_query(args=batch_worker.batch_query_args, returns=batch_worker.batch_result(batch))
async def get_work_alt(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """The same, spelled ``{"kind": "work", "batch": ...}``."""
    return await _next_batch(ctx, args["name"], kind=True)


@internal_mutation(args=batch, returns=batch_worker.worker_result)
async def do_work(ctx: Any, args: dict[str, Any]) -> dict[str, Any] | None:
    control = await _control(ctx, args["name"])
    if control is not None and control["fail"]:
        raise RuntimeError(f"worker mutation for {args['name']!r} told to fail")
    for work_id in args["ids"]:
        row = await ctx.db.get(work_id)
        if row is None:
            continue
        await ctx.db.insert(
            "processed", {"worker": row["worker"], "value": row["value"], "atMs": ctx.now_ms}
        )
        await ctx.db.delete(work_id)
    if control is not None and control.get("debounceMs") is not None:
        return {"debounceMs": control["debounceMs"]}
    return None


async def _ping(ctx: Any, args: dict[str, Any]) -> None:
    await batch_worker.ping(
        ctx,
        components.batchWorker,
        name=args["name"],
        work_query=get_work_alt if args.get("alt") else get_work,
        worker_mutation=do_work,
        config=args.get("config"),
    )


@mutation(
    args={
        "name": v.string(),
        "value": v.number(),
        "config": v.optional(config_validator),
        "alt": v.optional(v.boolean()),
    },
    returns=v.null(),
)
async def add_work(ctx: Any, args: dict[str, Any]) -> None:
    """Insert one work row, then ping (``config`` and ``alt`` are passed on to the ping)."""
    await ctx.db.insert("work", {"worker": args["name"], "value": args["value"]})
    await _ping(ctx, args)
    return None


@mutation(args={"name": v.string(), "value": v.number()}, returns=v.null())
async def insert_work(ctx: Any, args: dict[str, Any]) -> None:
    """Insert one work row and do *not* ping."""
    await ctx.db.insert("work", {"worker": args["name"], "value": args["value"]})
    return None


@mutation(
    args={
        "name": v.string(),
        "config": v.optional(config_validator),
        "alt": v.optional(v.boolean()),
    },
    returns=v.null(),
)
async def ping_worker(ctx: Any, args: dict[str, Any]) -> None:
    """Ping through the app helper without inserting anything."""
    await _ping(ctx, args)
    return None


@mutation(
    args={
        "name": v.string(),
        "idle": v.optional(idle_settings),
        "fail": v.optional(v.boolean()),
        "debounceMs": v.optional(v.number()),
    },
    returns=v.null(),
)
async def set_control(ctx: Any, args: dict[str, Any]) -> None:
    """Set how ``get_work`` answers when idle and how ``do_work`` behaves for a worker."""
    row = {
        "worker": args["name"],
        "idle": args.get("idle", {}),
        "fail": args.get("fail", False),
    }
    if args.get("debounceMs") is not None:
        row["debounceMs"] = args["debounceMs"]
    existing = await _control(ctx, args["name"])
    if existing is None:
        await ctx.db.insert("control", row)
    else:
        await ctx.db.replace(existing["_id"], row)
    return None


@mutation(args={"name": v.string()}, returns=v.null())
async def stop_worker(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.run_mutation(components.batchWorker.lib.stop, {"name": args["name"]})
    return None


@mutation(args={"name": v.string()}, returns=v.null())
async def start_worker(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.run_mutation(components.batchWorker.lib.start, {"name": args["name"]})
    return None


@query(args={"name": v.string()})
async def processed(ctx: Any, args: dict[str, Any]) -> list[float]:
    """Values processed for a worker, in processing order."""
    rows = await ctx.db.query("processed").collect()
    return [row["value"] for row in rows if row["worker"] == args["name"]]


@query(args={"name": v.string()})
async def pending_work(ctx: Any, args: dict[str, Any]) -> int:
    rows = (
        await ctx.db.query("work")
        .with_index("by_worker", lambda q: q.eq("worker", args["name"]))
        .collect()
    )
    return len(rows)


@query(args={"name": v.string()})
async def status(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.run_query(components.batchWorker.lib.status, {"name": args["name"]})


def make_app(log_level: str | None = None, release: str = "0.2.0") -> AppDefinition:
    """This module as an app with the batch worker (at ``release``) mounted as ``batchWorker``."""
    import tests.apps.bw_app as module

    app = define_app(schema=schema, modules=[module])
    env = {} if log_level is None else {"LOG_LEVEL": log_level}
    app.use(batch_worker.release(release), name="batchWorker", env=env)
    return app
