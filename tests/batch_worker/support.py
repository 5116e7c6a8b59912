"""Helpers for the batch-worker tests: a simulator over ``tests/apps/bw_app.py`` and
server-side views of the component's own tables (``workers``, ``workerState``,
``_scheduled_functions``) and of the trace.

Every view goes through ``sim.run(..., component="batchWorker")`` or
``sim.scheduled_functions``: plain reads, no clock movement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pytest

import batch_worker
from convex_sim import MISSING, Simulator
from convex_sim.trace import (
    DocumentWritten,
    ExecutionStarted,
    Failed,
    Finished,
    FunctionScheduled,
    TraceEvent,
)
from tests.apps import bw_app

COMPONENT: Final = "batchWorker"
NAME: Final = "w"
LOOP: Final = "batchWorker/loop:loop"
MONITOR: Final = "batchWorker/monitor:monitor"
PING: Final = "batchWorker/lib:ping"
WORK_QUERY: Final = "bw_app:get_work"
WORKER_MUTATION: Final = "bw_app:do_work"
LOOP_ROW_NAME: Final = "loop.js:loop"
MONITOR_ROW_NAME: Final = "monitor.js:monitor"

Document = dict[str, Any]


def approx(value: float) -> Any:
    """Job times carry sub-millisecond creation-time offsets; compare to within 0.01 ms."""
    return pytest.approx(value, abs=0.01)


def make_sim(log_level: str | None = None, *, seed: int = 0, release: str = "0.2.0") -> Simulator:
    return Simulator(bw_app.make_app(log_level=log_level, release=release), seed=seed)


MAX_DUE_TIMES: Final = 2_000


def advance(sim: Simulator, ms: float) -> None:
    """``sim.advance(ms)``, one due time at a time: a component that keeps scheduling
    runs with no delay fails the test here instead of spinning forever."""
    target = sim.now + ms
    for _ in range(MAX_DUE_TIMES):
        upcoming = sim.runtime.next_due()
        if upcoming is None or upcoming.due_ms > target:
            sim.advance(target - sim.now)
            return
        sim.advance(upcoming.due_ms - sim.now)
    raise AssertionError(
        f"more than {MAX_DUE_TIMES} distinct due times within {ms} ms: the loop never settles"
    )


# -- the component's tables ---------------------------------------------------------------


def run_in_component(sim: Simulator, function: Callable[[Any], Any]) -> Any:
    return sim.run(function, component=COMPONENT)


def worker(sim: Simulator, name: str = NAME) -> Document | None:
    async def read(ctx: Any) -> Document | None:
        row: Document | None = (
            await ctx.db.query("workers").with_index("name", lambda q: q.eq("name", name)).unique()
        )
        return row

    result: Document | None = run_in_component(sim, read)
    return result


def state(sim: Simulator, name: str = NAME) -> Document | None:
    async def read(ctx: Any) -> Document | None:
        row = (
            await ctx.db.query("workers").with_index("name", lambda q: q.eq("name", name)).unique()
        )
        if row is None:
            return None
        found: Document | None = await ctx.db.get(row["stateId"])
        return found

    result: Document | None = run_in_component(sim, read)
    return result


def must_worker(sim: Simulator, name: str = NAME) -> Document:
    found = worker(sim, name)
    assert found is not None, f"no worker named {name!r}"
    return found


def must_state(sim: Simulator, name: str = NAME) -> Document:
    found = state(sim, name)
    assert found is not None, f"no workerState for {name!r}"
    return found


def status_kind(sim: Simulator, name: str = NAME) -> str | None:
    found = sim.query(bw_app.status, {"name": name})
    return None if found is None else str(found["kind"])


def all_rows(sim: Simulator, table: str) -> list[Document]:
    async def read(ctx: Any) -> list[Document]:
        rows: list[Document] = await ctx.db.query(table).collect()
        return rows

    result: list[Document] = run_in_component(sim, read)
    return result


def jobs(sim: Simulator, row_name: str | None = None) -> list[Document]:
    """The component's ``_scheduled_functions`` rows (of one function), oldest first."""
    rows = sim.scheduled_functions(component=COMPONENT)
    return [row for row in rows if row_name is None or row["name"] == row_name]


def job(sim: Simulator, job_id: str) -> Document:
    (row,) = [row for row in jobs(sim) if row["_id"] == job_id]
    return row


def job_state(sim: Simulator, job_id: str) -> str:
    return str(job(sim, job_id)["state"]["kind"])


def pending(sim: Simulator, row_name: str) -> list[Document]:
    return [row for row in jobs(sim, row_name) if row["state"]["kind"] == "pending"]


# -- calling the component directly ------------------------------------------------------


def handles(sim: Simulator, *, alt: bool = False) -> tuple[str, str]:
    query = bw_app.get_work_alt if alt else bw_app.get_work
    return sim.function_handle(query), sim.function_handle(bw_app.do_work)


def lib_ping(sim: Simulator, name: str = NAME, *, config: Any = MISSING, alt: bool = False) -> None:
    """``lib.ping`` called directly (the app helper always passes a config; this may not)."""
    work_query, worker_mutation = handles(sim, alt=alt)
    args: Document = {"name": name, "workQuery": work_query, "workerMutation": worker_mutation}
    if config is not MISSING:
        args["config"] = config

    async def call(ctx: Any) -> None:
        await ctx.run_mutation(batch_worker.lib.ping, args)

    run_in_component(sim, call)


def lib_call(sim: Simulator, function: Any, args: Document) -> Any:
    async def call(ctx: Any) -> Any:
        return await ctx.run_mutation(function, args)

    return run_in_component(sim, call)


def start(sim: Simulator, name: str = NAME) -> None:
    lib_call(sim, batch_worker.lib.start, {"name": name})


def stop(sim: Simulator, name: str = NAME) -> None:
    lib_call(sim, batch_worker.lib.stop, {"name": name})


def run_loop(sim: Simulator, generation: int, name: str = NAME) -> None:
    lib_call(sim, batch_worker.loop.loop, {"name": name, "generation": generation})


def run_monitor(sim: Simulator, name: str = NAME) -> None:
    lib_call(sim, batch_worker.monitor.monitor, {"name": name})


def with_worker(sim: Simulator, action: Callable[[Any, Document], Any], name: str = NAME) -> None:
    """``await action(ctx, worker)`` in the component, with the worker's row."""

    async def call(ctx: Any) -> None:
        found = (
            await ctx.db.query("workers").with_index("name", lambda q: q.eq("name", name)).unique()
        )
        assert found is not None
        await action(ctx, found)

    run_in_component(sim, call)


def cancel(sim: Simulator, job_id: str) -> None:
    async def call(ctx: Any) -> None:
        await ctx.scheduler.cancel(job_id)

    run_in_component(sim, call)


# -- the trace -----------------------------------------------------------------------------


def executions(sim: Simulator, function: str) -> list[ExecutionStarted]:
    return [event for event in sim.trace.of(ExecutionStarted) if event.function == function]


def children(sim: Simulator, parent: int, function: str) -> list[ExecutionStarted]:
    return [event for event in executions(sim, function) if event.parent == parent]


def writes(sim: Simulator, execution: int) -> list[DocumentWritten]:
    """Writes staged by an execution and the nested calls under it."""
    family = {execution}
    for event in sim.trace.of(ExecutionStarted):
        if event.parent in family:
            family.add(event.execution)
    return [event for event in sim.trace.of(DocumentWritten) if event.execution in family]


def scheduled(sim: Simulator, function: str) -> list[FunctionScheduled]:
    return [event for event in sim.trace.of(FunctionScheduled) if event.function == function]


def succeeded(sim: Simulator, execution: int) -> bool:
    return any(
        isinstance(event, Finished) and event.execution == execution for event in sim.trace
    ) and not any(isinstance(event, Failed) and event.execution == execution for event in sim.trace)


def events_of(sim: Simulator, kind: type[TraceEvent]) -> list[Any]:
    return list(sim.trace.of(kind))


def logs(sim: Simulator) -> batch_worker.LogRecords:
    return batch_worker.LogRecords.from_trace(sim.trace)
