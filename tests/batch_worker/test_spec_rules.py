"""batch-worker-spec.md §5–§9, rule by rule: each test is named after the rule it pins.

The app is ``tests/apps/bw_app.py``: its work query hands out the rows of
``work`` for the worker (five at a time) and, with none left, answers the idle
result stored in ``control``; its worker mutation records what it processed,
and ``control`` can make it raise or return a ``debounceMs``. Races are forced
with explicit schedules (a chooser that watches the trace), never left to luck.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

import batch_worker
from batch_worker import MONITOR_LAG_MS
from batch_worker.logging import LEVELS, InvalidLogLevelError, Logger
from batch_worker.scheduling import continue_running, schedule_loop_run, schedule_waiting
from convex_sim import MISSING, Simulator
from convex_sim.trace import (
    Committed,
    Conflict,
    ExecutionStarted,
    Finished,
    FunctionScheduled,
    JobStateChanged,
)
from tests.apps import bw_app
from tests.batch_worker.support import (
    LOOP,
    LOOP_ROW_NAME,
    MONITOR,
    MONITOR_ROW_NAME,
    NAME,
    PING,
    WORK_QUERY,
    WORKER_MUTATION,
    advance,
    all_rows,
    approx,
    cancel,
    children,
    executions,
    handles,
    job,
    job_state,
    jobs,
    lib_ping,
    logs,
    make_sim,
    must_state,
    must_worker,
    pending,
    run_loop,
    run_monitor,
    start,
    status_kind,
    stop,
    with_worker,
    worker,
    writes,
)

# -- helpers ---------------------------------------------------------------------------------


def processed(sim: Simulator, name: str = NAME) -> list[float]:
    values: list[float] = sim.query(bw_app.processed, {"name": name})
    return values


def set_idle(sim: Simulator, **idle: float) -> None:
    """What the work query answers when there is no work: ``{"kind": "idle", **idle}``."""
    sim.mutation(bw_app.set_control, {"name": NAME, "idle": idle})


def loop_runs(sim: Simulator) -> list[ExecutionStarted]:
    return executions(sim, LOOP)


def batch_runs(sim: Simulator) -> list[ExecutionStarted]:
    """Loop runs that handed a batch to the worker mutation."""
    return [run for run in loop_runs(sim) if children(sim, run.execution, WORKER_MUTATION)]


def work_query_calls(sim: Simulator, run: ExecutionStarted) -> list[ExecutionStarted]:
    return children(sim, run.execution, WORK_QUERY)


def finished(sim: Simulator, execution: int) -> Finished:
    (event,) = [e for e in sim.trace.of(Finished) if e.execution == execution]
    return event


def committed_seq(sim: Simulator, execution: int) -> int:
    (event,) = [e for e in sim.trace.of(Committed) if e.execution == execution]
    return event.seq


def scheduled_by(sim: Simulator, execution: int, function: str) -> list[FunctionScheduled]:
    return [
        e
        for e in sim.trace.of(FunctionScheduled)
        if e.execution == execution and e.function == function
    ]


def due_ms(row: dict[str, Any]) -> float:
    """When a job falls due: its scheduled time, as every job here has a delay of at least 0."""
    return float(row["scheduledTime"])


def the_runner(sim: Simulator) -> dict[str, Any]:
    return job(sim, must_state(sim)["runnerId"])


def live_loop_rows(sim: Simulator) -> list[dict[str, Any]]:
    """Pending loop rows carrying the state's generation: §11 says at most one."""
    generation = must_state(sim)["generation"]
    return [
        row for row in pending(sim, LOOP_ROW_NAME) if row["args"][0]["generation"] == generation
    ]


def race_insert_with_due_loop(sim: Simulator, value: float, once: Callable[[], bool]) -> None:
    """Run the due loop job and ``add_work`` side by side: the loop moves alone until
    ``once()`` holds, then ``add_work`` runs to its commit, then the loop finishes."""
    (row,) = pending(sim, LOOP_ROW_NAME)
    at = due_ms(row)
    sim.submit(bw_app.add_work, {"name": NAME, "value": value}, at_ms=at)
    # Started at the same instant: the client call is task 0, the loop job task 1.
    sim.advance(at - sim.now, schedule=lambda n: 0 if once() else 1)


def monitor_decisions(sim: Simulator) -> list[tuple[float, float | None, bool]]:
    """Per loop run: (its time, the monitor time it found, whether it moved the monitor)."""
    monitor_at: float | None = None
    decisions: list[tuple[float, float | None, bool]] = []
    loop_execution = -1
    for event in sim.trace:
        if isinstance(event, ExecutionStarted) and event.function == LOOP:
            loop_execution = event.execution
            decisions.append((event.time_ms, monitor_at, False))
        elif isinstance(event, FunctionScheduled) and event.function == MONITOR:
            if event.execution == loop_execution:
                time_ms, found, _ = decisions[-1]
                decisions[-1] = (time_ms, found, True)
            monitor_at = event.run_at_ms
    return decisions


def sleeping_worker(sim: Simulator, timeout_ms: float) -> dict[str, Any]:
    """A worker whose loop found no work and went to sleep for ``timeout_ms`` (§7.8)."""
    set_idle(sim, timeoutMs=timeout_ms)
    sim.mutation(bw_app.ping_worker, {"name": NAME})
    advance(sim, 1)
    assert status_kind(sim) == "idle"
    return must_state(sim)


# -- §4 helpers ------------------------------------------------------------------------------


def test_4_a_missing_state_row_is_recreated_and_the_worker_repointed() -> None:
    sim = make_sim()
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1})
    sim.finish_all_scheduled_functions()
    lost = must_state(sim)

    async def drop_state(ctx: Any, found: dict[str, Any]) -> None:
        await ctx.db.delete(found["stateId"])

    with_worker(sim, drop_state)
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 2})

    found = must_worker(sim)
    assert found["stateId"] != lost["_id"]
    fresh = must_state(sim)
    assert fresh["generation"] == 1  # a new row starts at 0, then the wake bumps it
    assert the_runner(sim)["args"] == [{"name": NAME, "generation": 1}]
    sim.finish_all_scheduled_functions()
    assert processed(sim) == [1, 2]
    assert len(all_rows(sim, "workerState")) == 1


# -- §5.1 schedule loop run ----------------------------------------------------------------


def test_5_1_schedule_loop_run_bumps_generation_and_records_the_runner() -> None:
    sim = make_sim()
    t0 = sim.now
    sim.mutation(bw_app.ping_worker, {"name": NAME, "config": {"debounceMs": 250}})

    current = must_state(sim)
    runner = the_runner(sim)
    assert current["generation"] == 1
    assert runner["args"] == [{"name": NAME, "generation": 1}]
    assert runner["scheduledTime"] == t0 + 250
    # Then ensure monitored with loopRunAtMs = now + delay.
    assert current["monitorRunAtMs"] == t0 + 250 + MONITOR_LAG_MS


def test_5_1_last_work_ts_is_written_only_by_a_batch() -> None:
    sim = make_sim()
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1})
    advance(sim, 1_000)  # one batch, then cooldown polls (2 s)

    (batch,) = batch_runs(sim)
    assert len(loop_runs(sim)) > 3
    current = must_state(sim)
    assert current["lastWorkTs"] == batch.time_ms
    assert current["generation"] == len(loop_runs(sim)) + 1
    assert status_kind(sim) == "running"


def test_5_1_schedule_loop_run_does_not_cancel_the_earlier_runner() -> None:
    sim = make_sim()
    sim.mutation(bw_app.insert_work, {"name": NAME, "value": 1})
    lib_ping(sim)
    first = must_state(sim)["runnerId"]

    async def reschedule(ctx: Any, found: dict[str, Any]) -> None:
        await schedule_loop_run(ctx, found, 5_000)

    with_worker(sim, reschedule)
    second = must_state(sim)
    assert second["generation"] == 2
    assert job_state(sim, first) == "pending"

    advance(sim, 4_000)
    (stale,) = loop_runs(sim)
    assert stale.args["generation"] == 1
    assert writes(sim, stale.execution) == []
    assert job_state(sim, first) == "success"
    assert processed(sim) == []

    advance(sim, 1_001)
    assert processed(sim) == [1]
    assert loop_runs(sim)[1].args["generation"] == 2


# -- §5.2 continue running -----------------------------------------------------------------


def test_5_2_continue_running_marks_a_non_running_worker_running() -> None:
    sim = make_sim()
    asleep = sleeping_worker(sim, 10_000)

    async def go_on(ctx: Any, found: dict[str, Any]) -> None:
        await continue_running(ctx, found, 0)

    with_worker(sim, go_on)

    assert status_kind(sim) == "running"
    current = must_state(sim)
    assert current["generation"] == asleep["generation"] + 1
    assert the_runner(sim)["scheduledTime"] == approx(sim.now)


def test_5_2_a_running_loop_writes_workers_only_on_a_status_transition() -> None:
    sim = make_sim()
    for value in range(12):
        sim.mutation(bw_app.add_work, {"name": NAME, "value": value})
    sim.finish_all_scheduled_functions()

    runs = loop_runs(sim)
    assert len(batch_runs(sim)) == 3
    writes_workers = [
        run for run in runs if any(w.table == "workers" for w in writes(sim, run.execution))
    ]
    # Only the last run, going idle, touches `workers`.
    assert writes_workers == [runs[-1]]
    assert status_kind(sim) == "idle"


# -- §5.3 ensure monitored -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "lag"),
    [(None, 60_000), (15_000, 15_000), (10_000, 10_000)],
)
def test_5_3_monitor_runs_lag_after_the_loops_next_run(configured: int | None, lag: int) -> None:
    sim = make_sim()
    t0 = sim.now
    config: dict[str, float] = {"debounceMs": 1_000}
    if configured is not None:
        config["monitorLagMs"] = configured
    sim.mutation(bw_app.ping_worker, {"name": NAME, "config": config})

    current = must_state(sim)
    assert current["monitorRunAtMs"] == t0 + 1_000 + lag
    assert job(sim, current["monitorId"])["scheduledTime"] == t0 + 1_000 + lag


@pytest.mark.parametrize("configured", [1, 1_000, 9_999])
def test_5_3_monitor_lag_is_never_under_ten_seconds(configured: int) -> None:
    sim = make_sim()
    t0 = sim.now
    sim.mutation(bw_app.ping_worker, {"name": NAME, "config": {"monitorLagMs": configured}})
    assert must_state(sim)["monitorRunAtMs"] == t0 + 10_000


def test_5_3_monitor_pushed_back_only_when_close() -> None:
    """Lag 60 s, grace 10 s: a loop running every second moves the monitor about once
    per 50 s — exactly at the runs that find it due within the grace window."""
    sim = make_sim()
    t0 = sim.now
    set_idle(sim, timeoutMs=1_000)  # short timeout: keeps running, one run a second
    sim.mutation(bw_app.ping_worker, {"name": NAME})
    first_monitor = must_state(sim)["monitorId"]
    advance(sim, 120_000)

    decisions = monitor_decisions(sim)
    assert len(decisions) > 110
    for time_ms, monitor_at, moved in decisions:
        assert monitor_at is not None
        assert moved == (monitor_at <= time_ms + 10_000), (time_ms, monitor_at)
    moves = [(t, at) for t, at, moved in decisions if moved]
    assert len(moves) == 2
    assert moves[0][0] == approx(t0 + 50_000)
    # The monitor is always there, never fired, and each move canceled the old one.
    assert executions(sim, MONITOR) == []
    monitors = jobs(sim, MONITOR_ROW_NAME)
    assert len(monitors) == 3
    assert [row["state"]["kind"] for row in monitors] == ["canceled", "canceled", "pending"]
    assert monitors[0]["_id"] == first_monitor
    assert must_state(sim)["monitorId"] == monitors[-1]["_id"]
    assert monitors[-1]["scheduledTime"] > sim.now + 10_000


def test_5_3_grace_is_half_of_a_short_lag() -> None:
    """Lag 10 s: grace = min(lag / 2, 10 s) = 5 s, so the first move is near +5 s."""
    sim = make_sim()
    t0 = sim.now
    set_idle(sim, timeoutMs=1_000)
    sim.mutation(bw_app.ping_worker, {"name": NAME, "config": {"monitorLagMs": 10_000}})
    advance(sim, 20_000)

    decisions = monitor_decisions(sim)
    for time_ms, monitor_at, moved in decisions:
        assert monitor_at is not None
        assert moved == (monitor_at <= time_ms + 5_000), (time_ms - t0, monitor_at - t0)
    moves = [t - t0 for t, _, moved in decisions if moved]
    assert moves[:3] == [approx(5_000), approx(11_000), approx(17_000)]
    assert executions(sim, MONITOR) == []


# -- §5.4 schedule waiting -----------------------------------------------------------------


def test_5_4_schedule_waiting_sleeps_idle_with_the_runner_and_monitor_behind_it() -> None:
    sim = make_sim()
    t0 = sim.now
    asleep = sleeping_worker(sim, 30_000)
    (run,) = loop_runs(sim)

    assert must_worker(sim)["status"] == {"kind": "idle"}
    runner = job(sim, asleep["runnerId"])
    assert runner["state"] == {"kind": "pending"}
    assert runner["scheduledTime"] == run.time_ms + 30_000
    assert runner["args"] == [{"name": NAME, "generation": asleep["generation"]}]
    # Ensure monitored: the ping's monitor (at +60 s) is not close, so it stays.
    assert asleep["monitorRunAtMs"] == t0 + MONITOR_LAG_MS
    assert job(sim, asleep["monitorId"])["state"] == {"kind": "pending"}
    assert len(jobs(sim, MONITOR_ROW_NAME)) == 1


def test_5_4_a_sleeping_loop_wakes_by_itself_after_its_timeout() -> None:
    sim = make_sim()
    sleeping_worker(sim, 10_000)
    sim.mutation(bw_app.insert_work, {"name": NAME, "value": 5})  # no ping

    advance(sim, 9_000)
    assert processed(sim) == []
    assert len(loop_runs(sim)) == 1

    advance(sim, 1_000)
    assert processed(sim) == [5]
    assert status_kind(sim) == "running"  # §5.2: back to running after a batch


# -- §5.5 go idle / §5.6 cancel monitor -----------------------------------------------------


def test_5_5_going_idle_retires_the_chain_and_cancels_the_monitor() -> None:
    sim = make_sim()
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1})
    monitor_id = must_state(sim)["monitorId"]
    sim.finish_all_scheduled_functions()

    current = must_state(sim)
    last = loop_runs(sim)[-1]
    assert current["generation"] == last.args["generation"] + 1
    assert "runnerId" not in current
    assert "monitorId" not in current
    assert "monitorRunAtMs" not in current
    assert job_state(sim, monitor_id) == "canceled"
    assert status_kind(sim) == "idle"
    assert pending(sim, LOOP_ROW_NAME) == []
    assert pending(sim, MONITOR_ROW_NAME) == []
    assert processed(sim) == [1]


def test_5_6_cancel_monitor_clears_both_fields_when_either_is_set() -> None:
    sim = make_sim()
    lib_ping(sim)

    async def forget_monitor_id(ctx: Any, found: dict[str, Any]) -> None:
        await ctx.db.patch(found["stateId"], {"monitorId": MISSING})

    with_worker(sim, forget_monitor_id)
    assert "monitorRunAtMs" in must_state(sim)

    stop(sim)

    current = must_state(sim)
    assert "monitorId" not in current
    assert "monitorRunAtMs" not in current


# -- §6.1 ping -------------------------------------------------------------------------------


def test_6_1_first_ping_creates_a_running_worker_and_waits_its_debounce() -> None:
    sim = make_sim()
    t0 = sim.now
    config = {"debounceMs": 300, "monitorLagMs": 20_000}
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1, "config": config})

    found = must_worker(sim)
    assert found["status"] == {"kind": "running"}
    assert found["config"] == config
    assert (found["workQuery"], found["workerMutation"]) == handles(sim)
    current = must_state(sim)
    assert current["generation"] == 1
    assert current["lastWorkTs"] == 0
    assert the_runner(sim)["scheduledTime"] == t0 + 300
    assert current["monitorRunAtMs"] == t0 + 300 + 20_000

    advance(sim, 299)
    assert processed(sim) == []
    advance(sim, 1)
    assert processed(sim) == [1]


def test_6_1_stored_config_replaced_by_a_ping_with_a_different_one() -> None:
    sim = make_sim()
    sim.mutation(
        bw_app.ping_worker, {"name": NAME, "config": {"debounceMs": 100, "monitorLagMs": 20_000}}
    )
    sim.mutation(bw_app.ping_worker, {"name": NAME, "config": {"debounceMs": 200}})
    # Wholesale: monitorLagMs is gone, not merged.
    assert must_worker(sim)["config"] == {"debounceMs": 200}


def test_6_1_ping_without_config_clears_stored_config() -> None:
    sim = make_sim()
    sim.mutation(bw_app.ping_worker, {"name": NAME, "config": {"monitorLagMs": 20_000}})
    sim.mutation(bw_app.ping_worker, {"name": NAME})  # the app helper passes {}
    assert must_worker(sim)["config"] == {}


def test_6_1_lib_ping_with_no_config_key_keeps_the_stored_config() -> None:
    sim = make_sim()
    lib_ping(sim, config={"debounceMs": 100})
    lib_ping(sim)  # no "config" at all: nothing to compare, nothing replaced
    assert must_worker(sim)["config"] == {"debounceMs": 100}


def test_6_1_unchanged_ping_while_running_writes_nothing() -> None:
    sim = make_sim()
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1, "config": {"debounceMs": 50}})
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 2, "config": {"debounceMs": 50}})

    first, second = executions(sim, PING)
    assert writes(sim, first.execution) != []
    assert writes(sim, second.execution) == []
    assert len(jobs(sim, LOOP_ROW_NAME)) == 1


def test_6_1_changed_handles_are_stored_and_used_by_the_running_loop() -> None:
    sim = make_sim()
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1})
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 2, "alt": True})

    assert must_worker(sim)["workQuery"] == handles(sim, alt=True)[0]
    assert must_state(sim)["generation"] == 1  # running: stored, not woken
    advance(sim, 1)
    assert processed(sim) == [1, 2]
    assert executions(sim, WORK_QUERY) == []
    assert executions(sim, "bw_app:get_work_alt") != []


def test_6_1_ping_leaves_a_running_or_stopped_worker_alone_and_logs_at_debug() -> None:
    sim = make_sim("DEBUG")
    sim.mutation(bw_app.ping_worker, {"name": NAME})
    running = must_state(sim)
    sim.mutation(bw_app.ping_worker, {"name": NAME})
    assert must_state(sim) == running
    stop(sim)
    stopped = must_state(sim)
    sim.mutation(bw_app.ping_worker, {"name": NAME})
    assert must_state(sim) == stopped
    assert status_kind(sim) == "stopped"

    pings = executions(sim, PING)
    records = logs(sim).records
    for ping in pings[1:]:
        lines = [r for r in records if r.execution == ping.execution]
        assert [r.level for r in lines] == ["debug"], lines
    assert "running" in next(r.message for r in records if r.execution == pings[1].execution)
    assert "stopped" in next(r.message for r in records if r.execution == pings[2].execution)


def test_6_1_ping_wakes_an_idle_worker_after_the_newly_stored_debounce() -> None:
    sim = make_sim()
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1, "config": {"debounceMs": 400}})
    sim.finish_all_scheduled_functions()
    assert status_kind(sim) == "idle"
    idle = must_state(sim)

    sim.mutation(bw_app.add_work, {"name": NAME, "value": 2, "config": {"debounceMs": 700}})

    assert status_kind(sim) == "running"
    woken = must_state(sim)
    assert woken["generation"] == idle["generation"] + 1
    assert the_runner(sim)["scheduledTime"] == sim.now + 700
    advance(sim, 699)
    assert processed(sim) == [1]
    advance(sim, 1)
    assert processed(sim) == [1, 2]


# -- §6.2 start / §6.3 stop ------------------------------------------------------------------


def test_6_2_stop_is_not_undone_by_ping() -> None:
    sim = make_sim()
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1})
    sim.mutation(bw_app.stop_worker, {"name": NAME})
    stopped = must_state(sim)
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 2})
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 3})

    assert status_kind(sim) == "stopped"
    assert must_state(sim) == stopped
    advance(sim, 5 * MONITOR_LAG_MS)
    assert loop_runs(sim) == []
    assert executions(sim, MONITOR) == []
    assert processed(sim) == []
    assert sim.query(bw_app.pending_work, {"name": NAME}) == 3

    sim.mutation(bw_app.start_worker, {"name": NAME})
    assert status_kind(sim) == "running"
    sim.finish_all_scheduled_functions()
    assert sorted(processed(sim)) == [1, 2, 3]
    assert status_kind(sim) == "idle"


def test_6_2_start_leaves_a_running_or_idle_worker_alone() -> None:
    sim = make_sim("DEBUG")
    lib_ping(sim)
    running = must_state(sim)
    start(sim)
    assert must_state(sim) == running
    assert status_kind(sim) == "running"

    sim.finish_all_scheduled_functions()
    idle = must_state(sim)
    count = len(jobs(sim))
    start(sim)
    assert must_state(sim) == idle
    assert status_kind(sim) == "idle"
    assert len(jobs(sim)) == count
    starts = [r for r in logs(sim).records if r.function == "batchWorker/lib:start"]
    assert [r.level for r in starts] == ["debug", "debug"]


def test_6_3_stop_cancels_the_runner_and_the_monitor_and_bumps_the_generation() -> None:
    sim = make_sim()
    sim.mutation(bw_app.ping_worker, {"name": NAME})
    before = must_state(sim)

    sim.mutation(bw_app.stop_worker, {"name": NAME})

    after = must_state(sim)
    assert after["generation"] == before["generation"] + 1
    assert "runnerId" not in after
    assert "monitorId" not in after
    assert job_state(sim, before["runnerId"]) == "canceled"
    assert job_state(sim, before["monitorId"]) == "canceled"
    assert must_worker(sim)["status"] == {"kind": "stopped"}


def test_6_3_stop_of_an_idle_worker_keeps_the_generation() -> None:
    sim = make_sim()
    sim.mutation(bw_app.ping_worker, {"name": NAME})
    sim.finish_all_scheduled_functions()
    idle = must_state(sim)

    stop(sim)

    assert must_state(sim)["generation"] == idle["generation"]
    assert status_kind(sim) == "stopped"


def test_6_3_stop_and_start_on_an_unknown_name_do_nothing() -> None:
    sim = make_sim()
    stop(sim, "ghost")
    start(sim, "ghost")
    assert worker(sim, "ghost") is None
    assert jobs(sim) == []
    assert sim.run(lambda ctx: ctx.db.query("workerState").collect(), component="batchWorker") == []


def test_6_3_stop_racing_a_running_loop_wins() -> None:
    """The loop has begun (its row is in progress in its own transaction) when stop
    commits: stop cancels the row, the loop's commit conflicts, and its retry finds
    the job no longer pending — nothing is processed."""
    sim = make_sim()
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1})
    (row,) = pending(sim, LOOP_ROW_NAME)
    at = due_ms(row)
    sim.submit(bw_app.stop_worker, {"name": NAME}, at_ms=at)
    sim.advance(at - sim.now, schedule=lambda n: 0 if executions(sim, WORKER_MUTATION) else 1)

    assert executions(sim, WORKER_MUTATION) != []  # the loop did get that far
    assert sim.conflicts.get(LOOP) == 1
    assert job_state(sim, row["_id"]) == "canceled"
    assert processed(sim) == []
    assert status_kind(sim) == "stopped"
    advance(sim, 5 * MONITOR_LAG_MS)
    assert processed(sim) == []
    assert pending(sim, LOOP_ROW_NAME) == []
    assert pending(sim, MONITOR_ROW_NAME) == []


# -- §6.4 wake -------------------------------------------------------------------------------


def test_6_4_a_runner_due_exactly_at_the_threshold_is_replaced() -> None:
    sim = make_sim()
    lib_ping(sim)

    async def sleep(ctx: Any, found: dict[str, Any]) -> None:
        await schedule_waiting(ctx, found, batch_worker.RUNNING_THRESHOLD_MS)

    with_worker(sim, sleep)
    asleep = must_state(sim)

    lib_ping(sim)  # due at now + threshold is not *before* it: wake

    woken = must_state(sim)
    assert woken["runnerId"] != asleep["runnerId"]
    assert job_state(sim, asleep["runnerId"]) == "canceled"
    assert status_kind(sim) == "running"


def test_6_4_ping_restarts_an_idle_worker_whose_sleeping_run_failed() -> None:
    sim = make_sim()
    asleep = sleeping_worker(sim, 10_000)
    sim.mutation(bw_app.insert_work, {"name": NAME, "value": 1})
    sim.mutation(bw_app.set_control, {"name": NAME, "idle": {"timeoutMs": 10_000}, "fail": True})
    advance(sim, 10_000)
    assert job_state(sim, asleep["runnerId"]) == "failed"
    assert status_kind(sim) == "idle"

    sim.mutation(bw_app.set_control, {"name": NAME, "idle": {"timeoutMs": 10_000}})
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 2})

    assert status_kind(sim) == "running"
    assert must_state(sim)["generation"] == asleep["generation"] + 1
    advance(sim, 1)
    assert sorted(processed(sim)) == [1, 2]


def test_6_5_status_is_the_workers_status_object_or_null() -> None:
    sim = make_sim()
    assert sim.query(bw_app.status, {"name": NAME}) is None
    lib_ping(sim)
    assert sim.query(bw_app.status, {"name": NAME}) == {"kind": "running"}
    advance(sim, 5_000)
    assert sim.query(bw_app.status, {"name": NAME}) == {"kind": "idle"}
    stop(sim)
    assert sim.query(bw_app.status, {"name": NAME}) == {"kind": "stopped"}
    assert sim.query(bw_app.status, {"name": "other"}) is None


# -- §7 the loop -----------------------------------------------------------------------------


def test_7_1_a_loop_for_an_unknown_worker_exits_quietly() -> None:
    sim = make_sim()
    run_loop(sim, generation=1, name="ghost")
    (run,) = loop_runs(sim)
    assert writes(sim, run.execution) == []
    assert jobs(sim) == []
    assert executions(sim, WORK_QUERY) == []


def test_7_4_work_query_runs_as_snapshot_read() -> None:
    """An insert committing while the loop drains does not make the loop retry."""
    sim = make_sim()
    for value in (1, 2, 3):
        sim.mutation(bw_app.add_work, {"name": NAME, "value": value})

    def snapshot_read_done() -> bool:
        calls = executions(sim, WORK_QUERY)
        return bool(calls) and any(
            e.execution == calls[0].execution for e in sim.trace.of(Finished)
        )

    race_insert_with_due_loop(sim, 4, snapshot_read_done)

    # The raced run is the first; its follow-up, after a debounce of 0, ran at the same instant.
    run, *later = loop_runs(sim)
    assert all(later_run.time_ms == run.time_ms for later_run in later)
    (query_call,) = work_query_calls(sim, run)
    (add_work,) = [e for e in executions(sim, "bw_app:add_work") if e.args["value"] == 4]
    # The insert committed after the work query had read, before the loop committed...
    assert finished(sim, query_call.execution).seq < committed_seq(sim, add_work.execution)
    assert committed_seq(sim, add_work.execution) < committed_seq(sim, run.execution)
    # ...and the loop committed on its first attempt: the read left no dependency.
    assert sim.trace.of(Conflict) == []
    assert sim.conflicts == {}
    assert run.attempt == 1
    # The raced run handled 1-3; the next, at the same instant, found the insert.
    assert [r.execution for r in batch_runs(sim)] == [run.execution, later[0].execution]
    sim.finish_all_scheduled_functions()
    assert processed(sim) == [1, 2, 3, 4]


def test_7_5_worker_mutation_gets_the_batch_and_its_debounce_delays_the_next_run() -> None:
    sim = make_sim()
    sim.mutation(bw_app.set_control, {"name": NAME, "debounceMs": 3_000})
    for value in range(7):
        sim.mutation(bw_app.add_work, {"name": NAME, "value": value})
    advance(sim, 1)

    (run,) = loop_runs(sim)
    (query_call,) = work_query_calls(sim, run)
    (worker_call,) = children(sim, run.execution, WORKER_MUTATION)
    work = finished(sim, query_call.execution).result
    assert "kind" not in work  # the key `batch` alone makes it work
    assert worker_call.args == work["batch"]
    assert len(worker_call.args["ids"]) == bw_app.BATCH_SIZE
    assert the_runner(sim)["scheduledTime"] == run.time_ms + 3_000
    assert must_state(sim)["lastWorkTs"] == run.time_ms
    assert status_kind(sim) == "running"

    advance(sim, 2_998)
    assert processed(sim) == [0, 1, 2, 3, 4]
    advance(sim, 2)
    assert processed(sim) == [0, 1, 2, 3, 4, 5, 6]
    assert batch_runs(sim)[1].time_ms == run.time_ms + 3_000


@pytest.mark.parametrize(
    ("idle", "poll", "cooldown"),
    [({"pollIntervalMs": 250, "cooldownMs": 1_000}, 250, 1_000), ({}, 200, 2_000)],
)
def test_7_6_cooldown_polls_every_poll_interval(
    idle: dict[str, float], poll: float, cooldown: float
) -> None:
    sim = make_sim()
    set_idle(sim, **idle)
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1})
    sim.finish_all_scheduled_functions()

    (batch,) = batch_runs(sim)
    runs = loop_runs(sim)
    assert runs[0] == batch
    polls = runs[1:]
    # Right after the batch (debounce 0), then every `poll` until the cooldown is over.
    gaps = [b.time_ms - a.time_ms for a, b in itertools.pairwise(polls)]
    assert gaps == [approx(poll)] * int(cooldown // poll)
    assert polls[-1].time_ms >= batch.time_ms + cooldown
    assert polls[-2].time_ms < batch.time_ms + cooldown
    # Cooling down runs only the snapshot read; the confirming read comes at the end.
    assert [len(work_query_calls(sim, run)) for run in polls] == [1] * (len(polls) - 1) + [2]
    assert status_kind(sim) == "idle"


def test_7_7_confirm_read_continues_when_snapshot_missed_work() -> None:
    """The snapshot read sees the database without the transaction's own pending writes;
    the confirming read sees them. Here the loop runs nested in a transaction that has
    just inserted work (through its handle), so the two reads disagree."""
    sim = make_sim("WARN")
    lib_ping(sim)
    before = must_state(sim)
    loop_handle = sim.function_handle(batch_worker.loop.loop, component="batchWorker")

    async def insert_then_loop(ctx: Any) -> None:
        await ctx.db.insert("work", {"worker": NAME, "value": 9})
        await ctx.run_mutation(loop_handle, {"name": NAME, "generation": before["generation"]})

    sim.run(insert_then_loop)

    (run,) = loop_runs(sim)
    snapshot_call, confirm_call = work_query_calls(sim, run)
    assert finished(sim, snapshot_call.execution).result == {"kind": "idle"}
    assert "batch" in finished(sim, confirm_call.execution).result
    assert children(sim, run.execution, WORKER_MUTATION) == []
    warnings = [r for r in logs(sim).records if r.execution == run.execution]
    assert [r.level for r in warnings] == ["warn"]
    assert "snapshot query mismatch" in warnings[0].message
    # Continue running after 0, lastWorkTs unchanged.
    after = must_state(sim)
    assert after["generation"] == before["generation"] + 1
    assert after["lastWorkTs"] == before["lastWorkTs"]
    assert the_runner(sim)["scheduledTime"] == sim.now
    assert status_kind(sim) == "running"
    sim.finish_all_scheduled_functions()
    assert processed(sim) == [9]


def test_7_7_insert_racing_the_going_idle_run_makes_it_retry_and_is_not_lost() -> None:
    """The insert commits after the confirming read, before the loop commits; its ping
    sees `running` and does nothing. The confirming read is in the loop's read set,
    so the loop conflicts, retries and finds the work."""
    sim = make_sim()
    sim.mutation(bw_app.ping_worker, {"name": NAME})

    def confirm_read_done() -> bool:
        calls = executions(sim, WORK_QUERY)
        return len(calls) >= 2 and any(
            e.execution == calls[1].execution for e in sim.trace.of(Finished)
        )

    race_insert_with_due_loop(sim, 4, confirm_read_done)

    (conflict,) = sim.trace.of(Conflict)
    assert conflict.table == "work"
    first, retry = loop_runs(sim)[:2]
    assert conflict.execution == first.execution
    assert retry.attempt == 2
    assert children(sim, retry.execution, WORKER_MUTATION) != []
    ping = executions(sim, PING)[-1]
    assert writes(sim, ping.execution) == []
    sim.finish_all_scheduled_functions()
    assert processed(sim) == [4]
    assert status_kind(sim) == "idle"


def test_7_8_timeout_above_threshold_sleeps_idle_and_ping_wakes_it() -> None:
    sim = make_sim()
    asleep = sleeping_worker(sim, 30_000)
    (run,) = loop_runs(sim)
    assert job(sim, asleep["runnerId"])["scheduledTime"] == run.time_ms + 30_000

    advance(sim, 5_000)
    assert len(loop_runs(sim)) == 1
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 3})

    assert status_kind(sim) == "running"
    assert job_state(sim, asleep["runnerId"]) == "canceled"
    assert must_state(sim)["generation"] == asleep["generation"] + 1
    advance(sim, 1)
    assert processed(sim) == [3]


@pytest.mark.parametrize(
    ("timeout", "poll"),
    [(500, None), (1_000, None), (1_500, 2_000), (300, 300)],
)
def test_7_8_short_timeout_keeps_running(timeout: float, poll: float | None) -> None:
    sim = make_sim()
    idle: dict[str, float] = {"timeoutMs": timeout}
    if poll is not None:
        idle["pollIntervalMs"] = poll
    set_idle(sim, **idle)
    sim.mutation(bw_app.ping_worker, {"name": NAME})
    advance(sim, 1)

    (run,) = loop_runs(sim)
    assert status_kind(sim) == "running"
    assert the_runner(sim)["scheduledTime"] == run.time_ms + timeout
    assert must_state(sim).get("monitorId") is not None


def test_7_8_timeout_just_above_threshold_sleeps() -> None:
    sim = make_sim()
    sleeping_worker(sim, 1_001)
    (run,) = loop_runs(sim)
    assert the_runner(sim)["scheduledTime"] == run.time_ms + 1_001


def test_7_loop_failure_leaves_failed_row_and_monitor_restarts_about_lag_later() -> None:
    sim = make_sim("INFO")
    t0 = sim.now
    sim.mutation(bw_app.set_control, {"name": NAME, "fail": True})
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1, "config": {"monitorLagMs": 1_000}})
    first = must_state(sim)
    advance(sim, 1)

    # The loop transaction rolled back: its row failed, the state is as ping left it.
    row = job(sim, first["runnerId"])
    assert row["state"]["kind"] == "failed"
    assert "told to fail" in row["state"]["error"]
    assert must_state(sim) == first
    assert pending(sim, LOOP_ROW_NAME) == []
    assert processed(sim) == []
    assert status_kind(sim) == "running"
    assert first["monitorRunAtMs"] == t0 + 10_000  # lag: max(10 s, 1 s)

    sim.mutation(bw_app.set_control, {"name": NAME, "fail": False})
    advance(sim, 9_000)
    assert executions(sim, MONITOR) == []
    assert len(loop_runs(sim)) == 1

    advance(sim, 1_000)
    (monitor_run,) = executions(sim, MONITOR)
    assert monitor_run.time_ms == approx(t0 + 10_000)
    records = [r for r in logs(sim).records if r.execution == monitor_run.execution]
    errors = [r.message for r in records if r.event is None and r.level == "error"]
    assert len(errors) == 1
    assert "loop is not running — restarting" in errors[0]
    assert [r.event for r in records if r.event is not None] == [
        {"component": "worker", "event": "restart", "name": NAME}
    ]
    restarted = loop_runs(sim)[1]
    assert restarted.time_ms == approx(t0 + 10_000)
    assert restarted.args["generation"] > first["generation"]
    assert processed(sim) == [1]
    assert job_state(sim, first["monitorId"]) == "success"


def test_7_a_failing_worker_is_restarted_every_lag_until_it_succeeds() -> None:
    sim = make_sim()
    t0 = sim.now
    sim.mutation(bw_app.set_control, {"name": NAME, "fail": True})
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1, "config": {"monitorLagMs": 15_000}})
    advance(sim, 46_000)

    runs = loop_runs(sim)
    assert [run.time_ms - t0 for run in runs] == [
        approx(0),
        approx(15_000),
        approx(30_000),
        approx(45_000),
    ]
    assert all(job_state(sim, str(run.job)) == "failed" for run in runs)
    assert len(executions(sim, MONITOR)) == 3

    sim.mutation(bw_app.set_control, {"name": NAME, "fail": False})
    advance(sim, 15_000)
    assert processed(sim) == [1]


# -- §8 the monitor --------------------------------------------------------------------------


def test_8_1_a_monitor_for_an_unknown_worker_exits() -> None:
    sim = make_sim()
    run_monitor(sim, "ghost")
    (run,) = executions(sim, MONITOR)
    assert writes(sim, run.execution) == []
    assert jobs(sim) == []


def test_8_2_a_monitor_of_a_worker_not_running_cancels_and_clears_itself() -> None:
    sim = make_sim("DEBUG")
    asleep = sleeping_worker(sim, 30_000)
    assert job_state(sim, asleep["monitorId"]) == "pending"

    run_monitor(sim)

    after = must_state(sim)
    assert "monitorId" not in after
    assert "monitorRunAtMs" not in after
    assert job_state(sim, asleep["monitorId"]) == "canceled"
    assert after["runnerId"] == asleep["runnerId"]
    assert job_state(sim, asleep["runnerId"]) == "pending"
    assert after["generation"] == asleep["generation"]
    assert status_kind(sim) == "idle"
    (run,) = executions(sim, MONITOR)
    assert [r.level for r in logs(sim).records if r.execution == run.execution] == ["debug"]


def test_8_3_monitor_restarts_a_canceled_runner() -> None:
    sim = make_sim("INFO")
    t0 = sim.now
    sim.mutation(bw_app.insert_work, {"name": NAME, "value": 1})
    lib_ping(sim)
    before = must_state(sim)
    cancel(sim, before["runnerId"])

    advance(sim, MONITOR_LAG_MS - 1)
    assert loop_runs(sim) == []
    assert status_kind(sim) == "running"

    advance(sim, 1)

    (monitor_run,) = executions(sim, MONITOR)
    assert logs(sim).events("restart") == [
        {"component": "worker", "event": "restart", "name": NAME}
    ]
    after = must_state(sim)
    assert after["generation"] > before["generation"]
    assert after["runnerId"] != before["runnerId"]
    assert job_state(sim, before["monitorId"]) == "success"  # it never cancels itself
    assert after["monitorId"] != before["monitorId"]
    assert after["monitorRunAtMs"] == approx(t0 + 2 * MONITOR_LAG_MS)
    # The restarted run, then its follow-ups after a debounce of 0, all at the monitor's time.
    restarted, *follow_ups = loop_runs(sim)
    assert restarted.time_ms == t0 + MONITOR_LAG_MS
    assert all(run.time_ms == restarted.time_ms for run in follow_ups)
    assert processed(sim) == [1]
    assert monitor_run.time_ms == approx(t0 + MONITOR_LAG_MS)


def test_8_3_monitor_restarts_a_running_worker_with_no_runner_recorded() -> None:
    sim = make_sim("INFO")
    lib_ping(sim)
    before = must_state(sim)

    async def forget_runner(ctx: Any, found: dict[str, Any]) -> None:
        await ctx.db.patch(found["stateId"], {"runnerId": MISSING})

    with_worker(sim, forget_runner)
    run_monitor(sim)

    after = must_state(sim)
    assert after["generation"] == before["generation"] + 1
    assert job(sim, after["runnerId"])["args"] == [
        {"name": NAME, "generation": after["generation"]}
    ]
    assert logs(sim).events("restart") == [
        {"component": "worker", "event": "restart", "name": NAME}
    ]


def test_8_4_monitor_finding_a_pending_runner_pushes_itself_behind_it() -> None:
    sim = make_sim("INFO")
    t0 = sim.now
    sim.mutation(bw_app.set_control, {"name": NAME, "debounceMs": 70_000})
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1})
    first_monitor = must_state(sim)["monitorId"]
    advance(sim, 1)
    alive = must_state(sim)
    runner = the_runner(sim)
    assert runner["scheduledTime"] > t0 + MONITOR_LAG_MS  # the monitor fires first

    advance(sim, MONITOR_LAG_MS)

    (monitor_run,) = executions(sim, MONITOR)
    assert logs(sim).events() == []
    after = must_state(sim)
    assert after["generation"] == alive["generation"]
    assert after["runnerId"] == alive["runnerId"]
    assert job_state(sim, alive["runnerId"]) == "pending"
    assert job_state(sim, first_monitor) == "success"
    (moved,) = scheduled_by(sim, monitor_run.execution, MONITOR)
    assert moved.run_at_ms == runner["scheduledTime"] + MONITOR_LAG_MS
    assert after["monitorRunAtMs"] == moved.run_at_ms
    assert scheduled_by(sim, monitor_run.execution, LOOP) == []


def test_8_monitor_racing_live_loop_sees_it_pending() -> None:
    """The loop run falls due just before the monitor, and both are started at the
    monitor's time: the loop takes a step (its row is `inProgress` only inside its own
    transaction), then the monitor runs to its commit while the loop is in flight.
    The monitor sees the runner pending — although its scheduled time has passed —
    so it does not restart anything; it only moves itself behind the runner. The
    loop, whose state row the monitor patched, retries and carries on: one chain."""
    sim = make_sim("INFO")
    # After the first batch the next run is due just before the monitor.
    sim.mutation(bw_app.set_control, {"name": NAME, "debounceMs": MONITOR_LAG_MS - 1})
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1})
    advance(sim, 1)
    sim.mutation(bw_app.insert_work, {"name": NAME, "value": 2})
    state = must_state(sim)
    runner, monitor = the_runner(sim), job(sim, state["monitorId"])
    advance(sim, MONITOR_LAG_MS - 10)
    assert due_ms(runner) < due_ms(monitor)
    sim.clock.advance_to(due_ms(monitor))  # both due; neither started
    due = {entry.job_id: entry for entry in sim.due_jobs()}
    assert set(due) == {runner["_id"], monitor["_id"]}
    picks = iter([0])  # one step of the loop, then the monitor runs through

    sim.concurrently([due[runner["_id"]], due[monitor["_id"]]], schedule=lambda n: next(picks, 1))

    (monitor_run,) = executions(sim, MONITOR)
    loop_attempts = [run for run in loop_runs(sim) if run.job == runner["_id"]]
    assert loop_attempts[0].seq < monitor_run.seq  # the loop was already running
    assert sim.conflicts == {LOOP: 1}
    assert [run.attempt for run in loop_attempts] == [1, 2]
    assert logs(sim).events() == []
    assert scheduled_by(sim, monitor_run.execution, LOOP) == []
    (moved,) = scheduled_by(sim, monitor_run.execution, MONITOR)
    assert moved.run_at_ms == runner["scheduledTime"] + MONITOR_LAG_MS
    assert job_state(sim, runner["_id"]) == "success"
    assert processed(sim) == [1, 2]
    assert must_state(sim)["generation"] == state["generation"] + 1
    assert len(live_loop_rows(sim)) == 1
    assert [e.state for e in sim.trace.of(JobStateChanged) if e.job == monitor["_id"]] == [
        "success"
    ]


# -- §9 logging ------------------------------------------------------------------------------


class RecordingLog:
    """Stands in for ``ctx.log``: remembers every line."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def debug(self, message: str) -> None:
        self.lines.append(("debug", message))

    def info(self, message: str) -> None:
        self.lines.append(("info", message))

    def warn(self, message: str) -> None:
        self.lines.append(("warn", message))

    def error(self, message: str) -> None:
        self.lines.append(("error", message))


class FakeCtx:
    def __init__(self, level: str | None) -> None:
        self.log = RecordingLog()
        self.env = {} if level is None else {"LOG_LEVEL": level}
        self.now_ms = 1_000.0


RANK = {
    name: rank for rank, name in enumerate(["DEBUG", "TRACE", "INFO", "REPORT", "WARN", "ERROR"])
}


@pytest.mark.parametrize("level", ["DEBUG", "TRACE", "INFO", "REPORT", "WARN", "ERROR", None])
def test_9_log_level_filters_lines_and_events(level: str | None) -> None:
    assert list(LEVELS) == list(RANK)
    configured = level or "REPORT"  # the default
    ctx = FakeCtx(level)
    log = Logger(ctx)
    log.debug("d")
    log.info("i")
    log.warn("w")
    log.error("e")
    log.time("t")
    log.time_end("t")
    log.event("restart", {"name": NAME})
    log.event("report", {"n": 1})

    printed = [message for _, message in ctx.log.lines]
    expected_lines = [
        message
        for message, at in (("d", "DEBUG"), ("i", "INFO"), ("w", "WARN"), ("e", "ERROR"))
        if RANK[configured] <= RANK[at]
    ]
    assert [m for m in printed if m in {"d", "i", "w", "e"}] == expected_lines
    timers = [m for m in printed if m.startswith("t:")]
    assert len(timers) == (2 if RANK[configured] <= RANK["TRACE"] else 0)
    events = [json.loads(m) for m in printed if m.startswith("{")]
    expected_events: list[dict[str, Any]] = []
    if RANK[configured] <= RANK["INFO"]:
        expected_events.append({"component": "worker", "event": "restart", "name": NAME})
    if RANK[configured] <= RANK["INFO"] or configured == "REPORT":
        expected_events.append({"component": "worker", "event": "report", "n": 1})
    assert events == expected_events


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "REPORT", "ERROR"])
def test_9_log_level_filters_the_components_own_lines_and_events(level: str) -> None:
    """End to end: a created worker (debug), a failing loop restarted by the monitor
    (error line and `restart` event)."""
    sim = make_sim(level)
    sim.mutation(bw_app.set_control, {"name": NAME, "fail": True})
    sim.mutation(bw_app.add_work, {"name": NAME, "value": 1, "config": {"monitorLagMs": 10_000}})
    advance(sim, 10_001)

    records = logs(sim)
    assert executions(sim, MONITOR) != []
    assert bool(records.lines("debug")) == (level == "DEBUG")
    assert bool(records.events("restart")) == (RANK[level] <= RANK["INFO"])
    assert any("loop is not running" in line for line in records.lines("error"))


@pytest.mark.parametrize("level", ["LOUD", "VERBOSE", "0"])
def test_9_invalid_log_level_is_an_error(level: str) -> None:
    with pytest.raises(InvalidLogLevelError):
        Logger(FakeCtx(level))
    sim = make_sim(level)
    with pytest.raises(InvalidLogLevelError):
        sim.mutation(bw_app.add_work, {"name": NAME, "value": 1})
    # The whole insert-and-ping transaction rolled back.
    assert sim.query(bw_app.pending_work, {"name": NAME}) == 0
    assert worker(sim) is None
