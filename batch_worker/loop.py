"""The worker's main loop (batch-worker-spec.md §7): one internal mutation per iteration.

Each run, in order:

1. no worker: exit; a generation other than the state's: this run was
   superseded, exit without writing anything;
2. run the work query as a **snapshot read** (no read dependency, so inserts
   into the work table while the loop drains never make it retry);
3. work: run the worker mutation on the batch (a nested mutation in this
   transaction) and continue after its ``debounceMs``;
4. no work, still cooling down: poll again after ``pollIntervalMs``;
5. cooled down: **confirm** with a normal read — it joins the read set, so an
   insert that commits before this transaction does makes it conflict and
   retry, and no wakeup is lost; if the confirm finds work, continue at once;
6. the idle result asked to wake after ``timeoutMs``: keep running if that is
   short, else sleep as ``idle`` (a ping interrupts the sleep);
7. otherwise go idle.

If the work query or the worker mutation raises, this transaction rolls back,
its job ends ``failed``, and the monitor restarts the loop.

Release 0.3.x (see ``releases``) also hands the work query the stored cursor
and commits the cursor a batch returns together with that batch (D).
"""

from __future__ import annotations

from typing import Any

from batch_worker.logging import Logger
from batch_worker.releases import release_of
from batch_worker.scheduling import KEEP_CURSOR, continue_running, go_idle, schedule_waiting
from batch_worker.shared import DEFAULT_COOLDOWN_MS, DEFAULT_POLL_INTERVAL_MS, RUNNING_THRESHOLD_MS
from batch_worker.state import get_or_create_state, get_worker
from convex_sim import internal_mutation, v


@internal_mutation(args={"name": v.string(), "generation": v.int64()}, returns=v.null())
async def loop(ctx: Any, args: dict[str, Any]) -> None:
    log = Logger(ctx)
    name = args["name"]
    worker = await get_worker(ctx, name)
    if worker is None:
        log.debug(f"[loop {name}] no such worker")
        return None
    state = await get_or_create_state(ctx, worker)
    if state["generation"] != args["generation"]:
        log.debug(
            f"[loop {name}] superseded: generation {args['generation']} != {state['generation']}"
        )
        return None
    now = ctx.now_ms
    release = release_of(ctx)
    query_args: dict[str, Any] = {"name": name}
    if release.component_cursor and "cursor" in state:
        query_args["cursor"] = state["cursor"]  # D: sent once a batch has returned one
    if release.snapshot_read_as_option:
        result = await ctx.run_query(worker["workQuery"], query_args, {"useStaleSnapshot": True})
    else:
        result = await ctx.run_query(worker["workQuery"], query_args, use_stale_snapshot=True)

    if "batch" in result:
        returned = await ctx.run_mutation(worker["workerMutation"], result["batch"])
        debounce = (returned or {}).get("debounceMs") or 0
        if not release.component_cursor:
            await continue_running(ctx, worker, debounce, now)
            return None
        # D: the mutation knows how far the batch really got, so its cursor wins;
        # either rides on the patch below and commits only with the batch.
        cursor = result.get("cursor", KEEP_CURSOR)
        if returned and "cursor" in returned:
            cursor = returned["cursor"]
        await continue_running(ctx, worker, debounce, now, cursor)
        return None

    poll = result.get("pollIntervalMs") or DEFAULT_POLL_INTERVAL_MS
    if now < state["lastWorkTs"] + (result.get("cooldownMs") or DEFAULT_COOLDOWN_MS):
        await continue_running(ctx, worker, poll)
        return None

    confirm = await ctx.run_query(worker["workQuery"], query_args)
    if "batch" in confirm:
        log.warn(f"[loop {name}] snapshot query mismatch: the confirming read found work")
        await continue_running(ctx, worker, 0)
        return None

    timeout = result.get("timeoutMs") if result.get("kind") == "idle" else None
    if timeout is not None:
        if timeout <= RUNNING_THRESHOLD_MS or timeout <= poll:
            await continue_running(ctx, worker, timeout)
        else:
            await schedule_waiting(ctx, worker, timeout)
        return None

    await go_idle(ctx, worker, state)
    log.debug(f"[loop {name}] idle")
    return None
