"""Release 0.3.x's public functions: 0.2.0's four, plus kick, get_cursor, set_cursor.

A module of its own (named ``lib``, as the functions' paths must be) so that
only a worker mounted with ``batch_worker.release("0.3.6")`` has them:
``components.batchWorker.lib.kick`` on 0.2.0 is an unknown function, as it is
for the original.
"""

from __future__ import annotations

from typing import Any

from batch_worker.lib import ping, start, status, stop
from batch_worker.logging import Logger
from batch_worker.scheduling import cancel_monitor, schedule_loop_run
from batch_worker.state import (
    UNSET,
    UnknownWorkerError,
    cancel_if_pending,
    get_or_create_state,
    get_worker,
)
from convex_sim import mutation, query, v


@mutation(args={"name": v.string()}, returns=v.null())
async def kick(ctx: Any, args: dict[str, Any]) -> None:
    """Evolution E: restart a wedged worker by hand — from any status, stopped too.

    Cancels whatever is scheduled, forgets the monitor so a fresh one is armed
    (a canceled monitor's ``monitorRunAtMs`` may still look healthy), and runs
    the loop now under a new generation. The cooldown window and the cursor
    are left as they were. An unknown worker is a no-op.
    """
    await kick_worker(ctx, args["name"], Logger(ctx))
    return None


async def kick_worker(ctx: Any, name: str, log: Logger) -> None:
    worker = await get_worker(ctx, name)
    if worker is None:
        return
    state = await get_or_create_state(ctx, worker)
    await cancel_if_pending(ctx, state.get("runnerId"))
    await cancel_monitor(ctx, state)
    log.debug(f"[kick {name}] {worker['status']['kind']}: restarting the loop")
    # Written even when already running; no fresh cooldown window (E keeps lastWorkTs).
    await ctx.db.patch(worker["_id"], {"status": {"kind": "running"}})
    worker["status"] = {"kind": "running"}
    await schedule_loop_run(ctx, worker, 0)


@query(args={"name": v.string()}, returns=v.any())
async def get_cursor(ctx: Any, args: dict[str, Any]) -> Any:
    """Evolution D: the cursor the worker last committed, or None; creates nothing.

    For the app's own queries that scan what the worker scans (counting the
    work left, say), so they start where it does.
    """
    Logger(ctx)  # F: built on every call, as 0.3.x does
    worker = await get_worker(ctx, args["name"])
    if worker is None:
        return None
    state = await ctx.db.get(worker["stateId"])
    return None if state is None else state.get("cursor")


@mutation(args={"name": v.string(), "cursor": v.optional(v.any())}, returns=v.null())
async def set_cursor(ctx: Any, args: dict[str, Any]) -> None:
    """Evolution D: overwrite the cursor (omit it to clear, so the next scan starts over).

    For migrations and recovery; it leaves the generation, the runner and the
    status alone. The loop writes the same document every iteration, so on a
    busy worker this call may conflict and retry.
    """
    Logger(ctx)
    worker = await get_worker(ctx, args["name"])
    if worker is None:
        raise UnknownWorkerError(f'[setCursor] no worker named "{args["name"]}". Ping it first.')
    state = await get_or_create_state(ctx, worker)
    await ctx.db.patch(state["_id"], {"cursor": args.get("cursor", UNSET)})
    return None


__all__ = ["get_cursor", "kick", "ping", "set_cursor", "start", "status", "stop"]
