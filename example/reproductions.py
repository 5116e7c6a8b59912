"""The failures 0.2.1–0.3.6 fixed, each reproduced on demand, with its figures.

One function per failure of batch-worker-evolution.md: it builds the lab app
(``example.lab``) at a release, drives it into the failure, and returns the
simulator and a dict of figures. The tests assert the figures of both
releases; the demo (``python -m example --scenario occ-storm`` …) tells the
chosen release's run and prints both columns side by side.

Every run is deterministic: virtual time only, and the interleavings of
concurrent pings come from the simulator's seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import batch_worker
from convex_sim import SchedulerDidNotSettleError, Simulator, components
from convex_sim.execution_records import ExecutionRecord, executions
from example import lab

Figures = dict[str, Any]
COMPONENT: Final = "batchWorker"
MONITOR_CAP: Final = 200
"""Where an endless monitor storm (0.2.0, evolution B) is cut off."""


def _worker(sim: Simulator, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The worker's ``workers`` and ``workerState`` rows, read without a trace entry."""

    async def read(db: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        worker = await db.query("workers").with_index("name", lambda q: q.eq("name", name)).unique()
        return worker, await db.get(worker["stateId"])

    result: tuple[dict[str, Any], dict[str, Any]] = sim.peek(read, component=COMPONENT)
    return result


def _job(sim: Simulator, job_id: str | None) -> dict[str, Any] | None:
    for row in sim.scheduled_functions(component=COMPONENT):
        if row["_id"] == job_id:
            return row
    return None


def _is(record: ExecutionRecord, function: str) -> bool:
    return record.function.endswith(function)


def _status_changes(records: list[ExecutionRecord], before: str) -> int:
    status, changes = before, 0
    for record in records:
        if not record.committed:
            continue
        for write in record.writes:
            if write.table == "workers" and write.value is not None:
                kind = write.value["status"]["kind"]
                changes += kind != status
                status = kind
    return changes


def occ_storm(
    release: str, *, instants: int = 15, pings_per_instant: int = 2
) -> tuple[Simulator, Figures]:
    """A: insert-and-ping transactions, two at a time every 100 ms, against a worker
    whose query answers idle while tasks remain (a saturated pool)."""
    sim = Simulator(lab.make_lab_app(release=release), seed=0)
    sim.mutation(lab.add_task, {"value": 0})
    sim.advance(10_000)  # drained, cooled down, idle
    sim.mutation(lab.set_saturated, {"saturated": True})
    since, start = len(sim.trace), sim.now
    for instant in range(1, instants + 1):
        for ping in range(pings_per_instant):
            sim.submit(lab.add_task, {"value": instant * 10 + ping}, at_ms=start + 100 * instant)
    sim.advance(100 * instants + 10_000)
    records = executions(sim.trace, since)
    loops = [r for r in records if _is(r, "loop:loop")]
    pings = [r for r in records if _is(r, "lab:add_task")]
    return sim, {
        "pings": instants * pings_per_instant,
        "status changes": _status_changes(records, "idle"),
        "loop runs": sum(r.committed for r in loops),
        "confirming reads": sum(
            1
            for r in loops
            if r.committed
            for call in r.calls
            if call.function_type == "query" and not call.snapshot
        ),
        "OCC conflicts": sum(r.conflict is not None for r in records),
        "ping conflicts": sum(r.conflict is not None for r in pings),
        "ping retries": sum(r.retry is not None for r in pings),
    }


def stuck_runner(release: str, *, monitor_lag_ms: float | None = None) -> tuple[Simulator, Figures]:
    """B: the loop's next run is held ``pending`` ten minutes past its time (a fault)."""
    sim = Simulator(lab.make_lab_app(release=release), seed=0)
    sim.faults.stick_next(lab_loop(), 10 * 60_000, component=COMPONENT)
    config = {} if monitor_lag_ms is None else {"monitorLagMs": monitor_lag_ms}
    sim.mutation(lab.add_task, {"value": 1, "config": config})
    capped, start = False, sim.now
    try:
        sim.advance(5 * 60_000, max_steps=MONITOR_CAP)
    except SchedulerDidNotSettleError:
        capped = True
    records = executions(sim.trace)
    monitors = [r for r in records if _is(r, "monitor:monitor")]
    restarts = [
        r.started.time_ms - start
        for r in monitors
        if r.committed and any("stuck pending" in line.message for line in r.logs)
    ]
    return sim, {
        "monitor runs": len(monitors),
        "cut off at the cap": capped,
        "clock stopped at ms": sim.now - start if capped else None,
        "stuck restart at ms": restarts[0] if restarts else None,
        "tasks left": sim.query(lab.tasks_left),
    }


def lab_loop() -> Any:
    return batch_worker.loop.loop


def _wait(sim: Simulator, timeout_ms: float, config: dict[str, Any]) -> float:
    """Drain one task, then let the worker fall asleep for ``timeout_ms``; returns when."""
    sim.mutation(lab.add_task, {"value": 0, "config": config})
    sim.advance(config.get("debounceMs", 0))
    sim.mutation(lab.set_saturated, {"saturated": True, "timeoutMs": timeout_ms})
    for _ in range(100):
        worker, _state = _worker(sim, "tasks")
        if worker["status"]["kind"] == "idle":
            return sim.now
        sim.advance(100)
    raise RuntimeError("the worker never went to sleep")


def ping_postpones(release: str) -> tuple[Simulator, Figures]:
    """C: a ping 1 ms into a 10 s wait, with debounceMs 20 s; then a ping 1 s into a
    1.5 s wait with the default debounce, and a second ping after it."""
    sim = Simulator(lab.make_lab_app(release=release), seed=0)
    asleep = _wait(sim, 10_000, {"debounceMs": 20_000})
    _, before = _worker(sim, "tasks")
    sim.advance(1)
    sim.mutation(lab.add_task, {"value": 1, "config": {"debounceMs": 20_000}})
    worker, after = _worker(sim, "tasks")
    runner = _job(sim, after.get("runnerId"))
    figures: Figures = {
        "debounce 20 s: next run, ms after the wait began": None
        if runner is None
        else runner["scheduledTime"] - asleep,
        "debounce 20 s: generation bumped": after["generation"] != before["generation"],
        "debounce 20 s: status after the ping": worker["status"]["kind"],
    }
    short = Simulator(lab.make_lab_app(release=release), seed=0)
    asleep = _wait(short, 1_500, {})
    short.advance(1_000)
    short.mutation(lab.add_task, {"value": 1})
    worker, state = _worker(short, "tasks")
    short.mutation(lab.add_task, {"value": 2})
    again, _ = _worker(short, "tasks")
    figures.update(
        {
            "debounce 0: status after the ping": worker["status"]["kind"],
            "debounce 0: lastWorkTs, ms after the wait began": state["lastWorkTs"] - asleep,
            "debounce 0: status after a second ping": again["status"]["kind"],
        }
    )
    return short, figures


def cursor(release: str) -> tuple[Simulator, Figures]:
    """D: marks 0–3, never deleted, scanned two at a time from the cursor."""
    sim = Simulator(lab.make_lab_app(release=release), seed=0)
    sim.mutation(lab.add_marks, {"count": 4})
    ended = True
    try:
        sim.advance(60_000, max_steps=MONITOR_CAP)
    except SchedulerDidNotSettleError:
        ended = False
    handed = sim.query(lab.handed_out)
    _, state = _worker(sim, "marks")
    return sim, {
        "batches handed out": len(handed),
        "first batches": [[int(seq) for seq in batch] for batch in handed[:3]],
        "settled": ended,
        "stored cursor": state.get("cursor"),
    }


def wedged(release: str) -> tuple[Simulator, Figures]:
    """E: an operator cancels the runner and the monitor of a running worker by hand."""
    sim = Simulator(lab.make_lab_app(release=release), seed=0)
    sim.mutation(lab.add_task, {"value": 1, "config": {"debounceMs": 5_000}})
    _, state = _worker(sim, "tasks")

    async def cancel_both(ctx: Any) -> None:
        await ctx.scheduler.cancel(state["runnerId"])
        await ctx.scheduler.cancel(state["monitorId"])

    sim.run(cancel_both, component=COMPONENT)
    sim.mutation(lab.add_task, {"value": 2})  # a ping: the worker is "running", so a no-op
    sim.advance(10 * 60_000)
    figures: Figures = {"tasks left after 10 minutes": sim.query(lab.tasks_left)}
    kicked = "lib:kick" in sim.runtime.namespaces[COMPONENT].registry.functions
    figures["lib.kick exists"] = kicked
    if kicked:
        async def kick(ctx: Any) -> None:
            await ctx.run_mutation(components.batchWorker.lib.kick, {"name": "tasks"})

        sim.run(kick)
        _, after = _worker(sim, "tasks")
        figures["after kick: generation"] = f"{state['generation']} → {after['generation']}"
        sim.advance(60_000)
        figures["tasks left a minute after kick"] = sim.query(lab.tasks_left)
    return sim, figures


REPRODUCTIONS: Final[dict[str, Callable[[str], tuple[Simulator, Figures]]]] = {
    "occ-storm": occ_storm,
    "stuck-runner": stuck_runner,
    "ping-postpones": ping_postpones,
    "cursor": cursor,
    "wedged": wedged,
}


def side_by_side(name: str) -> list[tuple[str, Any, Any]]:
    """``(figure, 0.2.0, 0.3.6)`` rows for one reproduction."""
    _, old = REPRODUCTIONS[name]("0.2.0")
    _, new = REPRODUCTIONS[name]("0.3.6")
    return [(key, old.get(key, "–"), new.get(key, "–")) for key in dict.fromkeys([*old, *new])]
