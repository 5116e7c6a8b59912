"""Scheduling the loop and keeping its monitor behind it (batch-worker-spec.md §5).

``schedule_loop_run`` is the one place a loop run is scheduled: it bumps the
generation, so any earlier scheduled run becomes stale and exits without
writing when it fires. It never cancels an earlier runner; callers that must
(wake, stop) do so themselves.

The monitor trails the loop by ``lag`` and is pushed back only when it is
about to fire (within the grace window), so a busy loop reschedules it about
once per lag rather than on every iteration.

Two rules of later releases live here (see ``releases``): entering ``running``
opens a fresh cooldown window (A), and the monitor is never armed in the past
(B). The cursor (D) rides on the state patch that schedules the next run, so
it commits exactly when the batch that produced it does.
"""

from __future__ import annotations

from typing import Any

from batch_worker.releases import release_of
from batch_worker.shared import MONITOR_LAG_MS, MONITOR_REFRESH_WITHIN_MS
from batch_worker.state import UNSET, Document, cancel_if_pending, get_or_create_state
from convex_sim import internal


def monitor_lag_ms(worker: Document) -> float:
    """The monitor lag: the config's ``monitorLagMs`` (or the default), never under 10 s."""
    configured = worker["config"].get("monitorLagMs") or MONITOR_LAG_MS
    return float(max(MONITOR_REFRESH_WITHIN_MS, configured))


KEEP_CURSOR: Any = object()
"""``cursor=KEEP_CURSOR`` (the default) leaves the stored cursor as it is; any
other value, ``None`` included, is stored."""


async def schedule_loop_run(
    ctx: Any,
    worker: Document,
    delay_ms: float,
    last_work_ts: float | None = None,
    cursor: Any = KEEP_CURSOR,
) -> None:
    """§5.1: schedule the next loop run under a new generation, then mind the monitor."""
    state = await get_or_create_state(ctx, worker)
    generation = int(state["generation"]) + 1
    runner_id = await ctx.scheduler.run_after(
        delay_ms, internal.loop.loop, {"name": worker["name"], "generation": generation}
    )
    update: dict[str, Any] = {"generation": generation, "runnerId": runner_id}
    if last_work_ts is not None:
        update["lastWorkTs"] = last_work_ts
    if cursor is not KEEP_CURSOR:
        update["cursor"] = cursor
    await ctx.db.patch(state["_id"], update)
    await ensure_monitored(ctx, worker, ctx.now_ms + delay_ms)


async def continue_running(
    ctx: Any,
    worker: Document,
    delay_ms: float,
    last_work_ts: float | None = None,
    cursor: Any = KEEP_CURSOR,
) -> None:
    """§5.2: mark the worker running (if it is not) and schedule the next run."""
    if worker["status"]["kind"] != "running":
        await ctx.db.patch(worker["_id"], {"status": {"kind": "running"}})
        worker["status"] = {"kind": "running"}
        if release_of(ctx).fresh_cooldown_window:
            # A: a worker that starts running gets the whole cooldown ahead of it.
            last_work_ts = max(last_work_ts or 0, ctx.now_ms + delay_ms)
    await schedule_loop_run(ctx, worker, delay_ms, last_work_ts, cursor)


async def ensure_monitored(ctx: Any, worker: Document, loop_run_at_ms: float) -> None:
    """§5.3: make sure a monitor will fire ``lag`` after the loop's next run."""
    state: Document | None = await ctx.db.get(worker["stateId"])
    if state is None:
        return
    lag = monitor_lag_ms(worker)
    grace = min(lag / 2, MONITOR_REFRESH_WITHIN_MS)
    monitor_at = state.get("monitorRunAtMs")
    close = monitor_at is None or monitor_at <= ctx.now_ms + grace
    if state.get("monitorId") is not None and not close:
        return
    await cancel_if_pending(ctx, state.get("monitorId"))
    if release_of(ctx).monitor_never_in_past:
        # B: a stuck runner's scheduledTime is past; a monitor armed behind it
        # would fire at once, again and again.
        loop_run_at_ms = max(loop_run_at_ms, ctx.now_ms)
    run_at = loop_run_at_ms + lag
    monitor_id = await ctx.scheduler.run_at(
        run_at, internal.monitor.monitor, {"name": worker["name"]}
    )
    await ctx.db.patch(state["_id"], {"monitorId": monitor_id, "monitorRunAtMs": run_at})


async def schedule_waiting(
    ctx: Any, worker: Document, timeout_ms: float, last_work_ts: float | None = None
) -> None:
    """§5.4: sleep ``timeout_ms`` as ``idle``, so that a ping interrupts the sleep."""
    await schedule_loop_run(ctx, worker, timeout_ms, last_work_ts)
    await ctx.db.patch(worker["_id"], {"status": {"kind": "idle"}})
    worker["status"] = {"kind": "idle"}


async def go_idle(ctx: Any, worker: Document, state: Document) -> None:
    """§5.5: retire the chain (new generation, no runner), drop the monitor, status idle."""
    await ctx.db.patch(
        state["_id"], {"generation": int(state["generation"]) + 1, "runnerId": UNSET}
    )
    await cancel_monitor(ctx, state)
    await ctx.db.patch(worker["_id"], {"status": {"kind": "idle"}})
    worker["status"] = {"kind": "idle"}


async def cancel_monitor(ctx: Any, state: Document) -> None:
    """§5.6: cancel the monitor if pending, and forget it."""
    await cancel_if_pending(ctx, state.get("monitorId"))
    if state.get("monitorId") is not None or state.get("monitorRunAtMs") is not None:
        await ctx.db.patch(state["_id"], {"monitorId": UNSET, "monitorRunAtMs": UNSET})
