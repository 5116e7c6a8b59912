"""The liveness monitor (batch-worker-spec.md §8): restarts a loop that died.

It runs ``lag`` after the loop's next scheduled run. If that run is no longer
pending (it failed, or someone canceled it) while the worker should be
running, the loop chain is restarted and a ``restart`` event is emitted. A
scheduled mutation sees its own row as ``inProgress`` and everyone else sees
it ``pending`` until it commits, so the monitor never mistakes a live loop
for a dead one and never cancels itself.
"""

from __future__ import annotations

from typing import Any

from batch_worker.logging import Logger
from batch_worker.scheduling import cancel_monitor, continue_running, ensure_monitored
from batch_worker.state import get_or_create_state, get_worker
from convex_sim import internal_mutation, v


@internal_mutation(args={"name": v.string()}, returns=v.null())
async def monitor(ctx: Any, args: dict[str, Any]) -> None:
    log = Logger(ctx)
    name = args["name"]
    worker = await get_worker(ctx, name)
    if worker is None:
        return None
    state = await get_or_create_state(ctx, worker)
    if worker["status"]["kind"] != "running":
        await cancel_monitor(ctx, state)
        log.debug(f"[monitor {name}] {worker['status']['kind']}: monitor no longer needed")
        return None
    runner_id = state.get("runnerId")
    runner = None if runner_id is None else await ctx.db.system.get(runner_id)
    if runner is None or runner["state"]["kind"] != "pending":
        log.error(f"[monitor {name}] loop is not running — restarting")
        log.event("restart", {"name": name})
        await continue_running(ctx, worker, 0)
        return None
    await ensure_monitored(ctx, worker, runner["scheduledTime"])
    return None
