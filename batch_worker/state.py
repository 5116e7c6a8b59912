"""Reading a worker and its loop state (batch-worker-spec.md §4).

Everything here takes the handler's ``ctx`` and only awaits ``ctx`` calls, so
each helper's reads and writes are part of the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from convex_sim import MISSING

Document = dict[str, Any]


class UnknownWorkerError(LookupError):
    """A call that needs an existing worker named one that was never pinged."""


async def get_worker(ctx: Any, name: str) -> Document | None:
    """The worker with this name, or None; two with one name is an error (``unique``)."""
    worker: Document | None = (
        await ctx.db.query("workers").with_index("name", lambda q: q.eq("name", name)).unique()
    )
    return worker


async def get_or_create_state(ctx: Any, worker: Document) -> Document:
    """The worker's ``workerState`` row, re-created (and re-pointed to) if it is missing.

    Updates ``worker["stateId"]`` in place, so later helpers see the new id.
    """
    state: Document | None = await ctx.db.get(worker["stateId"])
    if state is not None:
        return state
    state_id = await ctx.db.insert("workerState", {"generation": 0, "lastWorkTs": 0})
    await ctx.db.patch(worker["_id"], {"stateId": state_id})
    worker["stateId"] = state_id
    created: Document = await ctx.db.get(state_id)
    return created


async def cancel_if_pending(ctx: Any, job_id: str | None) -> bool:
    """Cancel a scheduled function only while it is still pending; True if it was."""
    if job_id is None:
        return False
    row = await ctx.db.system.get(job_id)
    if row is None or row["state"]["kind"] != "pending":
        return False
    await ctx.scheduler.cancel(job_id)
    return True


UNSET = MISSING
"""Patching a field to this removes it (Convex's ``undefined``)."""
