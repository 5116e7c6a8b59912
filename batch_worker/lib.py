"""The component's public functions: ping, start, stop, status (batch-worker-spec.md §6).

``components.batchWorker.lib.<name>`` from the app. Unknown workers are a
silent no-op for start and stop; status answers ``None``. Release 0.3.x adds
``kick``, ``get_cursor`` and ``set_cursor`` (``batch_worker/v0_3/lib.py``) and
its own wake (see ``releases``).
"""

from __future__ import annotations

from typing import Any

from batch_worker.logging import Logger
from batch_worker.releases import release_of
from batch_worker.scheduling import cancel_monitor, schedule_loop_run
from batch_worker.shared import (
    DEFAULT_DEBOUNCE_MS,
    RUNNING_THRESHOLD_MS,
    config_validator,
    status_validator,
)
from batch_worker.state import UNSET, Document, cancel_if_pending, get_or_create_state, get_worker
from convex_sim import mutation, query, v

_CONFIG_KEYS = ("debounceMs", "monitorLagMs")


def _debounce_ms(config: dict[str, Any]) -> float:
    return float(config.get("debounceMs") or DEFAULT_DEBOUNCE_MS)


@mutation(
    args={
        "name": v.string(),
        "workQuery": v.string(),
        "workerMutation": v.string(),
        "config": v.optional(config_validator),
    },
    returns=v.null(),
)
async def ping(ctx: Any, args: dict[str, Any]) -> None:
    """§6.1: create the worker on first use; wake it when idle; leave it alone otherwise.

    Stored handles are refreshed when they differ, and a passed config replaces
    the stored one when any of its values differ. Never resumes a stopped worker.
    """
    log = Logger(ctx)
    name = args["name"]
    worker = await get_worker(ctx, name)
    if worker is None:
        config = args.get("config") or {}
        state_id = await ctx.db.insert("workerState", {"generation": 0, "lastWorkTs": 0})
        worker_id = await ctx.db.insert(
            "workers",
            {
                "name": name,
                "workQuery": args["workQuery"],
                "workerMutation": args["workerMutation"],
                "config": config,
                "status": {"kind": "running"},
                "stateId": state_id,
            },
        )
        worker = await ctx.db.get(worker_id)
        await schedule_loop_run(ctx, worker, _debounce_ms(config))
        log.debug(f"[ping {name}] created, loop scheduled")
        return None
    config = args.get("config")
    handles_differ = (
        args["workQuery"] != worker["workQuery"]
        or args["workerMutation"] != worker["workerMutation"]
    )
    config_differs = config is not None and any(
        config.get(key) != worker["config"].get(key) for key in _CONFIG_KEYS
    )
    update: dict[str, Any] = {}
    if handles_differ or config_differs:
        update = {"workQuery": args["workQuery"], "workerMutation": args["workerMutation"]}
        if config is not None:
            update["config"] = config
    if update:
        await ctx.db.patch(worker["_id"], update)
        worker.update(update)
    if worker["status"]["kind"] != "idle":
        log.debug(f"[ping {name}] {worker['status']['kind']}: nothing to do")
        return None
    await wake(ctx, worker, log)
    return None


@mutation(args={"name": v.string()}, returns=v.null())
async def start(ctx: Any, args: dict[str, Any]) -> None:
    """§6.2: resume a stopped worker (only start does; ping never will)."""
    await start_worker(ctx, args["name"], Logger(ctx))
    return None


async def start_worker(ctx: Any, name: str, log: Logger) -> None:
    """``start``'s body, with the logger given (a :class:`RecordingLogger` in tests)."""
    worker = await get_worker(ctx, name)
    if worker is None:
        return
    if worker["status"]["kind"] != "stopped":
        log.debug(f"[start {name}] {worker['status']['kind']}: not stopped, nothing to do")
        return
    await wake(ctx, worker, log)


@mutation(args={"name": v.string()}, returns=v.null())
async def stop(ctx: Any, args: dict[str, Any]) -> None:
    """§6.3: retire the loop chain and the monitor, and mark the worker stopped."""
    worker = await get_worker(ctx, args["name"])
    if worker is None:
        return None
    state = await get_or_create_state(ctx, worker)
    if state.get("runnerId") is not None:
        await cancel_if_pending(ctx, state["runnerId"])
        await ctx.db.patch(
            state["_id"], {"runnerId": UNSET, "generation": int(state["generation"]) + 1}
        )
    await cancel_monitor(ctx, state)
    await ctx.db.patch(worker["_id"], {"status": {"kind": "stopped"}})
    return None


@query(args={"name": v.string()}, returns=v.union(status_validator, v.null()))
async def status(ctx: Any, args: dict[str, Any]) -> dict[str, Any] | None:
    """§6.5: the worker's status, or None before its first ping."""
    if release_of(ctx).logger_on_every_call:
        Logger(ctx)  # F: 0.3.x builds one per call, so a bad LOG_LEVEL fails here too
    worker = await get_worker(ctx, args["name"])
    return None if worker is None else dict(worker["status"])


async def wake(ctx: Any, worker: Document, log: Logger) -> None:
    """§6.4: start a new loop chain unless a run is due soon anyway."""
    if release_of(ctx).wake_keeps_sooner_run:
        await _wake_keeping_a_sooner_run(ctx, worker, log)
        return
    state: Document | None = await ctx.db.get(worker["stateId"])
    runner_id = None if state is None else state.get("runnerId")
    runner = None if runner_id is None else await ctx.db.system.get(runner_id)
    if (
        runner is not None
        and runner["state"]["kind"] == "pending"
        and runner["scheduledTime"] < ctx.now_ms + RUNNING_THRESHOLD_MS
    ):
        log.debug(f"[wake {worker['name']}] a loop run is about to start: leaving it")
        return
    await cancel_if_pending(ctx, runner_id)
    await ctx.db.patch(worker["_id"], {"status": {"kind": "running"}})
    worker["status"] = {"kind": "running"}
    await schedule_loop_run(ctx, worker, _debounce_ms(worker["config"]))


async def _wake_keeping_a_sooner_run(ctx: Any, worker: Document, log: Logger) -> None:
    """0.3.x's wake (evolution C, with A's fresh window).

    The status turns ``running`` before anything is decided, so the pings that
    follow stop at their ``workers`` read. A pending run due before the one a
    reschedule would make is kept: canceling it could only delay the work.
    """
    state = await get_or_create_state(ctx, worker)
    runner_id = state.get("runnerId")
    runner = None if runner_id is None else await ctx.db.system.get(runner_id)
    delay = _debounce_ms(worker["config"])
    await ctx.db.patch(worker["_id"], {"status": {"kind": "running"}})
    worker["status"] = {"kind": "running"}
    if (
        runner is not None
        and runner["state"]["kind"] == "pending"
        and runner["scheduledTime"] < ctx.now_ms + max(delay, RUNNING_THRESHOLD_MS)
    ):
        log.debug(f"[wake {worker['name']}] already scheduled to run sooner — keeping it")
        await ctx.db.patch(
            state["_id"], {"lastWorkTs": max(state["lastWorkTs"], runner["scheduledTime"])}
        )
        return
    log.debug(f"[wake {worker['name']}] interrupting wait")
    await cancel_if_pending(ctx, runner_id)
    await schedule_loop_run(ctx, worker, delay, last_work_ts=ctx.now_ms + delay)
