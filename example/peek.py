"""What a run of the example app is looked at by: its worker's rows and the work left.

Each read is a ``sim.peek``, which records nothing, so looking never changes
the run. The scenarios (``example.scenarios``) use these to stop at the
moment a race should start; the race tests (spec §11) use the same reads.
"""

from __future__ import annotations

from typing import Any, Final

import batch_worker
from convex_sim import Simulator
from convex_sim.executor import ScheduleSpec
from example.example import WORKER_NAME

COMPONENT: Final = "batchWorker"
Document = dict[str, Any]


def worker_documents(sim: Simulator) -> tuple[Document | None, Document | None]:
    """The ``events`` worker's ``workers`` row and its ``workerState`` row (None: not yet)."""

    async def read(db: Any) -> tuple[Document | None, Document | None]:
        worker = (
            await db.query("workers")
            .with_index("name", lambda q: q.eq("name", WORKER_NAME))
            .unique()
        )
        state = None if worker is None else await db.get(worker["stateId"])
        return worker, state

    found: tuple[Document | None, Document | None] = sim.peek(read, component=COMPONENT)
    return found


def events_left(sim: Simulator) -> int:
    async def read(db: Any) -> int:
        return len(await db.query("events").collect())

    count: int = sim.peek(read)
    return count


def next_run_goes_idle(sim: Simulator) -> bool | None:
    """Whether the next loop run will find nothing to do after its cooldown and go idle
    (§7.6-7.9); None when no run is coming (the worker is not running)."""
    worker, state = worker_documents(sim)
    due_ms = sim.next_due_ms()
    if worker is None or worker["status"]["kind"] != "running" or state is None or due_ms is None:
        return None
    cooled_at = state["lastWorkTs"] + batch_worker.DEFAULT_COOLDOWN_MS
    return due_ms >= cooled_at and not events_left(sim)


def run_until_going_idle(sim: Simulator, schedule: ScheduleSpec = None) -> float:
    """Run loop iterations until the next one, after some work, is the going-idle one;
    returns the time it is due."""
    while True:
        goes_idle = next_run_goes_idle(sim)
        if goes_idle is None:
            raise RuntimeError("the worker stopped running before its going-idle run")
        due_ms = sim.next_due_ms()
        assert due_ms is not None  # a running worker has a run coming
        _, state = worker_documents(sim)
        if goes_idle and state is not None and state["lastWorkTs"] > 0:
            return due_ms
        sim.advance(due_ms - sim.now, schedule=schedule)
