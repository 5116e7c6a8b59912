"""batch-worker-spec.md §10: the behaviour the original component's own tests pin down.

One test per bullet (the example-app bullet lives in ``tests/example``). The
component is driven directly — ``lib.ping`` / ``start`` / ``stop``, the
``loop`` and ``monitor`` mutations, the scheduling helpers — inside
``sim.run(..., component="batchWorker")``, as the original drives it with
``t.run``; the work query and worker mutation are ``tests/apps/bw_app.py``'s.
"""

from __future__ import annotations

from typing import Any

from batch_worker import RUNNING_THRESHOLD_MS
from batch_worker.monitor import monitor as monitor_fn
from batch_worker.scheduling import schedule_waiting
from convex_sim import Simulator
from convex_sim.trace import ExecutionStarted, FunctionScheduled
from tests.apps import bw_app
from tests.batch_worker.support import (
    LOOP,
    LOOP_ROW_NAME,
    MONITOR_ROW_NAME,
    NAME,
    advance,
    approx,
    cancel,
    handles,
    job,
    job_state,
    jobs,
    lib_ping,
    make_sim,
    must_state,
    must_worker,
    pending,
    run_loop,
    run_monitor,
    start,
    state,
    status_kind,
    stop,
    with_worker,
    worker,
    writes,
)


def _sleep(sim: Simulator, timeout_ms: float) -> None:
    """Put the worker to sleep for ``timeout_ms`` with §5.4's schedule waiting."""

    async def action(ctx: Any, found: dict[str, Any]) -> None:
        await schedule_waiting(ctx, found, timeout_ms)

    with_worker(sim, action)


def test_first_ping_runs_the_worker_with_a_runner_and_a_monitor_well_behind_it() -> None:
    sim = make_sim()
    pinged_at = sim.now
    lib_ping(sim)

    found = must_worker(sim)
    work_query, worker_mutation = handles(sim)
    assert found["status"] == {"kind": "running"}
    assert found["workQuery"] == work_query
    assert found["workerMutation"] == worker_mutation
    assert found["config"] == {}
    current = must_state(sim)
    assert current["generation"] == 1
    runner = job(sim, current["runnerId"])
    assert runner["name"] == LOOP_ROW_NAME
    assert runner["args"] == [{"name": NAME, "generation": 1}]
    assert runner["state"] == {"kind": "pending"}
    monitor = job(sim, current["monitorId"])
    assert monitor["name"] == MONITOR_ROW_NAME
    assert monitor["state"] == {"kind": "pending"}
    assert current["monitorRunAtMs"] > pinged_at + 50_000
    assert monitor["scheduledTime"] == current["monitorRunAtMs"]


def test_second_ping_while_running_changes_neither_generation_nor_runner() -> None:
    sim = make_sim()
    lib_ping(sim)
    before = must_state(sim)

    lib_ping(sim)

    after = must_state(sim)
    assert after["generation"] == before["generation"] == 1
    assert after["runnerId"] == before["runnerId"]
    assert after["monitorId"] == before["monitorId"]
    assert len(jobs(sim, LOOP_ROW_NAME)) == 1


def test_status_is_null_before_the_first_ping() -> None:
    sim = make_sim()
    assert status_kind(sim) is None
    assert sim.query(bw_app.status, {"name": NAME}) is None
    lib_ping(sim)
    assert sim.query(bw_app.status, {"name": NAME}) == {"kind": "running"}


def test_ping_stop_start_stops_clearing_runner_and_monitor_then_runs_generation_3() -> None:
    sim = make_sim()
    lib_ping(sim)
    pinged = must_state(sim)

    stop(sim)

    assert status_kind(sim) == "stopped"
    stopped = must_state(sim)
    assert "runnerId" not in stopped
    assert "monitorId" not in stopped
    assert "monitorRunAtMs" not in stopped
    assert stopped["generation"] == 2
    assert job_state(sim, pinged["runnerId"]) == "canceled"
    assert job_state(sim, pinged["monitorId"]) == "canceled"

    start(sim)

    assert status_kind(sim) == "running"
    started = must_state(sim)
    assert started["generation"] == 3
    runner = job(sim, started["runnerId"])
    assert runner["state"] == {"kind": "pending"}
    assert runner["args"] == [{"name": NAME, "generation": 3}]
    assert job(sim, started["monitorId"])["state"] == {"kind": "pending"}


def test_start_on_an_unknown_name_does_nothing() -> None:
    sim = make_sim()
    start(sim, "ghost")
    assert status_kind(sim, "ghost") is None
    assert worker(sim, "ghost") is None
    assert jobs(sim) == []


def test_a_loop_called_with_a_stale_generation_changes_nothing() -> None:
    sim = make_sim()
    sim.mutation(bw_app.insert_work, {"name": NAME, "value": 1})
    lib_ping(sim)
    worker_before, state_before, jobs_before = must_worker(sim), must_state(sim), jobs(sim)

    run_loop(sim, generation=0)

    (stale,) = [e for e in sim.trace.of(ExecutionStarted) if e.function == LOOP]
    assert writes(sim, stale.execution) == []
    assert not [e for e in sim.trace.of(FunctionScheduled) if e.execution == stale.execution]
    assert must_worker(sim) == worker_before
    assert must_state(sim) == state_before
    assert jobs(sim) == jobs_before
    # The stale run did not even look at the work: it is still waiting.
    assert sim.query(bw_app.pending_work, {"name": NAME}) == 1
    assert sim.query(bw_app.processed, {"name": NAME}) == []


def test_a_worker_sleeping_10_s_is_idle_with_a_runner_and_a_ping_makes_it_run_anew() -> None:
    sim = make_sim()
    lib_ping(sim)
    _sleep(sim, 10 * RUNNING_THRESHOLD_MS)

    assert status_kind(sim) == "idle"
    asleep = must_state(sim)
    sleeper = job(sim, asleep["runnerId"])
    assert sleeper["state"] == {"kind": "pending"}
    assert sleeper["scheduledTime"] == approx(sim.now + 10_000)

    lib_ping(sim)

    assert status_kind(sim) == "running"
    awake = must_state(sim)
    assert awake["generation"] > asleep["generation"]
    assert awake["runnerId"] != asleep["runnerId"]
    assert job_state(sim, asleep["runnerId"]) == "canceled"
    assert job(sim, awake["runnerId"])["scheduledTime"] == approx(sim.now)


def test_a_worker_sleeping_half_a_second_is_left_alone_by_start_and_ping() -> None:
    sim = make_sim()
    lib_ping(sim)
    _sleep(sim, RUNNING_THRESHOLD_MS / 2)
    before = must_state(sim)
    assert status_kind(sim) == "idle"

    start(sim)
    lib_ping(sim)

    after = must_state(sim)
    assert after["generation"] == before["generation"]
    assert after["runnerId"] == before["runnerId"]
    assert job_state(sim, before["runnerId"]) == "pending"
    assert status_kind(sim) == "idle"
    # The sleeper is the only live loop run (the first ping's run is superseded).
    (live,) = [
        row
        for row in pending(sim, LOOP_ROW_NAME)
        if row["args"][0]["generation"] == after["generation"]
    ]
    assert live["_id"] == before["runnerId"]


def test_monitor_restarts_a_canceled_runner_and_after_stop_clears_itself() -> None:
    sim = make_sim()
    lib_ping(sim)
    before = must_state(sim)
    cancel(sim, before["runnerId"])

    run_monitor(sim)

    after = must_state(sim)
    assert after["generation"] > before["generation"]
    assert after["runnerId"] != before["runnerId"]
    assert job(sim, after["runnerId"])["state"] == {"kind": "pending"}
    assert status_kind(sim) == "running"
    assert after.get("monitorId") is not None
    assert job(sim, after["monitorId"])["state"] == {"kind": "pending"}

    stop(sim)

    # A monitor that fires for a stopped worker (here: one left scheduled) clears itself.
    async def arm_monitor(ctx: Any, found: dict[str, Any]) -> None:
        monitor_id = await ctx.scheduler.run_after(1_000, monitor_fn, {"name": NAME})
        await ctx.db.patch(
            found["stateId"], {"monitorId": monitor_id, "monitorRunAtMs": ctx.now_ms + 1_000}
        )

    with_worker(sim, arm_monitor)
    armed = must_state(sim)["monitorId"]
    advance(sim, 1_000)

    cleared = must_state(sim)
    assert "monitorId" not in cleared
    assert "monitorRunAtMs" not in cleared
    assert "runnerId" not in cleared
    assert job_state(sim, armed) == "success"
    assert status_kind(sim) == "stopped"
    assert pending(sim, LOOP_ROW_NAME) == []
    assert pending(sim, MONITOR_ROW_NAME) == []


def test_workers_with_different_names_are_independent() -> None:
    sim = make_sim()
    lib_ping(sim, "a")
    lib_ping(sim, "b")
    assert status_kind(sim, "a") == status_kind(sim, "b") == "running"
    b_before = state(sim, "b")

    stop(sim, "a")

    assert status_kind(sim, "a") == "stopped"
    assert status_kind(sim, "b") == "running"
    assert state(sim, "b") == b_before
    assert must_state(sim, "a")["_id"] != must_state(sim, "b")["_id"]
    # b still processes its work while a, stopped, leaves its own alone.
    sim.mutation(bw_app.add_work, {"name": "a", "value": 1})
    sim.mutation(bw_app.add_work, {"name": "b", "value": 2})
    advance(sim, 5_000)
    assert sim.query(bw_app.processed, {"name": "b"}) == [2]
    assert sim.query(bw_app.processed, {"name": "a"}) == []
    assert sim.query(bw_app.pending_work, {"name": "a"}) == 1
    assert status_kind(sim, "b") == "idle"
    assert status_kind(sim, "a") == "stopped"
