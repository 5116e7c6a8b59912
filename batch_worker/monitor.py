"""The liveness monitor (batch-worker-spec.md §8): restarts a loop that died.

It runs ``lag`` after the loop's next scheduled run. If that run is no longer
pending (it failed, or someone canceled it) while the worker should be
running, the loop chain is restarted and a ``restart`` event is emitted. A
scheduled mutation sees its own row as ``inProgress`` and everyone else sees
it ``pending`` until it commits, so the monitor never mistakes a live loop
for a dead one and never cancels itself.

Release 0.3.x first replaces a runner stuck ``pending`` a minute past its
time (evolution B): 0.2.0 re-arms behind it, at a time already past.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from batch_worker.logging import Logger
from batch_worker.releases import release_of
from batch_worker.scheduling import cancel_monitor, continue_running, ensure_monitored
from batch_worker.shared import STUCK_RUNNER_GRACE_MS
from batch_worker.state import Document, get_or_create_state, get_worker
from convex_sim import internal_mutation, v


@internal_mutation(args={"name": v.string()}, returns=v.null())
async def monitor(ctx: Any, args: dict[str, Any]) -> None:
    await check(ctx, args["name"], Logger(ctx))
    return None


async def check(ctx: Any, name: str, log: Logger) -> None:
    """The monitor's body, with the logger given (a :class:`RecordingLogger` in tests)."""
    release = release_of(ctx)
    worker = await get_worker(ctx, name)
    if worker is None:
        if release.stuck_runner_restart:
            log.debug(f"[monitor {name}] no such worker")
        return
    state = await get_or_create_state(ctx, worker)
    runner: Document | None = None
    if release.stuck_runner_restart:
        # B: read the runner first, since a stuck one needs replacing whatever
        # the status (a waiting worker is idle with a runner).
        runner = await _runner(ctx, state)
        if (
            runner is not None
            and runner["state"]["kind"] == "pending"
            and runner["scheduledTime"] <= ctx.now_ms - STUCK_RUNNER_GRACE_MS
            and worker["status"]["kind"] != "stopped"
        ):
            since = _iso(runner["scheduledTime"])
            log.error(f'[monitor] "{name}" loop stuck pending since {since} — restarting')
            log.event("restart", {"name": name, "stuck": True})
            await ctx.scheduler.cancel(runner["_id"])
            await continue_running(ctx, worker, 0)
            return
    if worker["status"]["kind"] != "running":
        await cancel_monitor(ctx, state)
        log.debug(f"[monitor {name}] {worker['status']['kind']}: monitor no longer needed")
        return
    if not release.stuck_runner_restart:
        runner = await _runner(ctx, state)
    if runner is None or runner["state"]["kind"] != "pending":
        log.error(f"[monitor {name}] loop is not running — restarting")
        log.event("restart", {"name": name})
        await continue_running(ctx, worker, 0)
        return
    await ensure_monitored(ctx, worker, runner["scheduledTime"])


async def _runner(ctx: Any, state: Document) -> Document | None:
    runner_id = state.get("runnerId")
    runner: Document | None = None if runner_id is None else await ctx.db.system.get(runner_id)
    return runner


def _iso(ms: float) -> str:
    """``Date.prototype.toISOString``: UTC, milliseconds, ``Z``."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
