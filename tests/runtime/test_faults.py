"""Injected faults (``sim.faults``): failures, jobs stuck pending, a lagging scheduler."""

from __future__ import annotations

from typing import Any

import pytest

import batch_worker
from convex_sim import ConvexSimError, InjectedFault, Simulator
from convex_sim.trace import FaultInjected, JobStateChanged
from example import example, make_app

LOOP = "batchWorker/loop:loop"
WORKER_MUTATION = "example:process_batch"


def _sim() -> Simulator:
    return Simulator(make_app(), seed=0)


def _events_left(sim: Simulator) -> int:
    async def read(db: Any) -> int:
        return len(await db.query("events").collect())

    count: int = sim.peek(read)
    return count


def _loop_rows(sim: Simulator) -> list[dict[str, Any]]:
    rows = sim.scheduled_functions(component="batchWorker")
    return [row for row in rows if row["name"] == "loop.js:loop"]


def test_a_failing_client_mutation_raises_and_writes_nothing() -> None:
    sim = _sim()
    sim.faults.fail_next(example.add_event)
    with pytest.raises(InjectedFault, match=r"injected fault \(in example:add_event\)"):
        sim.mutation(example.add_event, {"value": 1})
    assert _events_left(sim) == 0
    assert sim.query(example.worker_status) is None
    (fault,) = sim.trace.of(FaultInjected)
    assert (fault.fault, fault.function, fault.job) == ("fail", "example:add_event", "")
    # Used up: the next call runs normally.
    sim.mutation(example.add_event, {"value": 1})
    assert _events_left(sim) == 1
    assert not sim.faults.armed


def test_times_counts_executions_and_clear_drops_the_rest() -> None:
    sim = _sim()
    sim.faults.fail_next(example.add_event, times=3, message="boom")
    for _ in range(2):
        with pytest.raises(InjectedFault, match="boom"):
            sim.mutation(example.add_event, {"value": 1})
    assert sim.faults.planned()["fail"] == {"example:add_event": 1}
    sim.faults.clear()
    sim.mutation(example.add_event, {"value": 1})
    assert _events_left(sim) == 1


def test_a_failing_nested_worker_mutation_fails_the_loop_job_and_rolls_it_back() -> None:
    sim = _sim()
    sim.mutation(example.add_event, {"value": 5})
    sim.faults.fail_next(example.process_batch)
    first_loop = _loop_rows(sim)[0]["_id"]
    sim.advance(1)
    (row,) = [row for row in _loop_rows(sim) if row["_id"] == first_loop]
    assert row["state"]["kind"] == "failed"
    assert "InjectedFault" in row["state"]["error"]
    assert _events_left(sim) == 1, "the failed run's deletes were rolled back"
    assert sim.query(example.get_totals) is None
    (fault,) = sim.trace.of(FaultInjected)
    assert (fault.function, fault.job) == (WORKER_MUTATION, first_loop)
    # The monitor restarts the loop a lag later, and the event is processed then.
    sim.advance(batch_worker.MONITOR_LAG_MS + 1)
    assert sim.query(example.get_totals) == {"total": 5.0, "count": 1}


def test_a_stuck_job_stays_pending_then_runs_late() -> None:
    sim = _sim()
    sim.faults.stick_next(batch_worker.loop.loop, 30_000, component="batchWorker")
    start = sim.now
    sim.mutation(example.add_event, {"value": 2})
    (runner,) = _loop_rows(sim)
    sim.advance(29_990)
    assert [row["state"]["kind"] for row in _loop_rows(sim)] == ["pending"]
    assert _events_left(sim) == 1
    sim.advance(20)
    (fault,) = sim.trace.of(FaultInjected)
    assert (fault.fault, fault.function, fault.job) == ("delay", LOOP, runner["_id"])
    assert fault.time_ms == pytest.approx(start, abs=0.01), "held back when it fell due"
    assert sim.query(example.get_totals) == {"total": 2.0, "count": 1}
    succeeded = [e for e in sim.trace.of(JobStateChanged) if e.job == runner["_id"]]
    assert [e.state for e in succeeded] == ["success"]
    assert succeeded[0].time_ms == pytest.approx(start + 30_000, abs=0.01)


def test_a_lagging_scheduler_starts_every_job_late_until_cleared() -> None:
    sim = _sim()
    sim.faults.scheduler_lag_ms = 120_000
    start = sim.now
    sim.mutation(example.add_event, {"value": 3})
    sim.advance(119_990)
    assert _events_left(sim) == 1
    sim.advance(20)
    assert _events_left(sim) == 0
    delays = list(sim.trace.of(FaultInjected))
    assert delays
    assert all(e.fault == "delay" for e in delays)
    assert delays[0].time_ms == pytest.approx(start, abs=0.01)
    sim.faults.clear()
    # The run scheduled under the lag keeps its later start; what is scheduled
    # after the clear runs on time.
    sim.advance(120_000)
    assert sim.query(example.worker_status) == {"kind": "idle"}
    delayed = len(list(sim.trace.of(FaultInjected)))
    sim.mutation(example.add_event, {"value": 4})
    sim.advance(1)
    assert _events_left(sim) == 0, "no lag once cleared"
    assert len(list(sim.trace.of(FaultInjected))) == delayed


def test_the_same_faults_give_the_same_trace() -> None:
    def run() -> str:
        sim = _sim()
        sim.faults.fail_next(example.process_batch, times=2)
        sim.faults.stick_next(batch_worker.monitor.monitor, 5_000, component="batchWorker")
        sim.faults.scheduler_lag_ms = 700
        for value in range(4):
            sim.mutation(example.add_event, {"value": value})
        sim.advance(200_000)
        return sim.trace.to_jsonl()

    assert run() == run()


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (lambda f: f.fail_next(example.add_event, times=0), "times must be a positive int"),
        (lambda f: f.fail_next(example.add_event, times=True), "times must be a positive int"),
        (lambda f: f.stick_next(example.add_event, -1), "stick_next for_ms must be"),
        (lambda f: f.stick_next(example.add_event, float("nan")), "stick_next for_ms must be"),
        (lambda f: setattr(f, "scheduler_lag_ms", -5), "scheduler_lag_ms must be"),
    ],
)
def test_bad_plans_are_refused_with_the_argument_named(plan: Any, message: str) -> None:
    sim = _sim()
    with pytest.raises(ValueError, match=message):
        plan(sim.faults)
    assert not sim.faults.armed


def test_unknown_functions_and_components_are_refused() -> None:
    sim = _sim()
    with pytest.raises(ConvexSimError, match="no component is mounted as 'nope'"):
        sim.faults.fail_next(batch_worker.loop.loop, component="nope")
    with pytest.raises(ConvexSimError, match="example:missing"):
        sim.faults.fail_next("example:missing")
    assert not sim.faults.armed
