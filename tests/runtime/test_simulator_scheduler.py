"""Driving the scheduler through ``Simulator``: long chains, jobs that never settle,
``advance`` windows, and jobs due in the past (``tests/apps/sim_chain.py``).
"""

from __future__ import annotations

import inspect

import pytest

from convex_sim import SchedulerDidNotSettleError, Simulator, define_app
from convex_sim.clock import ClockError
from convex_sim.settle import DEFAULT_MAX_STEPS
from tests.apps import s6_jobs, sim_chain

CHAIN = 10_000


def make_sim() -> Simulator:
    return Simulator(define_app(modules=[sim_chain, s6_jobs]))


def count(sim: Simulator) -> int:
    progress = sim.query(sim_chain.progress)
    return 0 if progress is None else int(progress["count"])


def test_chain_of_10000_self_rescheduling_mutations_drains() -> None:
    sim = make_sim()
    sim.mutation(sim_chain.start_chain, {"links": CHAIN, "delayMs": 0})
    assert sim.finish_all_scheduled_functions(max_steps=CHAIN) == CHAIN
    assert count(sim) == CHAIN
    rows = sim.scheduled_functions()
    assert len(rows) == CHAIN
    assert {row["state"]["kind"] for row in rows} == {"success"}
    assert sim.finish_all_scheduled_functions() == 0


def test_finish_all_raises_when_a_job_reschedules_itself_forever() -> None:
    sim = make_sim()
    start = sim.now
    sim.mutation(sim_chain.start_forever, {"delayMs": 10})
    with pytest.raises(SchedulerDidNotSettleError, match="50"):
        sim.finish_all_scheduled_functions(max_steps=50)
    # Exactly max_steps ran; the next link is still waiting.
    assert count(sim) == 50
    assert sim.query(sim_chain.progress)["lastAt"] == start + 500
    pending = [r for r in sim.scheduled_functions() if r["state"]["kind"] == "pending"]
    assert len(pending) == 1
    assert pending[0]["scheduledTime"] == start + 510

    with pytest.raises(SchedulerDidNotSettleError):
        sim.finish_all_scheduled_functions(max_steps=5)
    assert count(sim) == 55


def test_the_error_names_the_function_that_kept_rescheduling_and_times_from_t0() -> None:
    sim = make_sim()
    start = sim.now
    sim.mutation(sim_chain.start_forever, {"delayMs": 10})
    with pytest.raises(SchedulerDidNotSettleError) as caught:
        sim.finish_all_scheduled_functions(max_steps=50)
    error = caught.value
    assert error.max_steps == 50
    assert dict(error.ran) == {"sim_chain:forever": 50}
    assert dict(error.still_due) == {"sim_chain:forever": 1}
    message = str(error)
    assert "ran most: sim_chain:forever ×50" in message
    assert "still due: sim_chain:forever ×1 (first at t0 + 510 ms)" in message
    assert f"stopped at t0 + 500 ms (t0 = {int(start)}" in message
    assert str(int(start + 510)) not in message  # no raw epoch times for the jobs
    # The clock stays at the last job that ran, not at the one the limit held back.
    assert sim.now == start + 500


def test_advance_and_finish_all_share_one_documented_step_limit() -> None:
    for method in (Simulator.advance, Simulator.finish_all_scheduled_functions):
        assert inspect.signature(method).parameters["max_steps"].default == DEFAULT_MAX_STEPS
    sim = make_sim()
    sim.mutation(sim_chain.start_forever, {"delayMs": 0})
    with pytest.raises(SchedulerDidNotSettleError) as caught:
        sim.advance(1_000)
    assert caught.value.max_steps == DEFAULT_MAX_STEPS
    assert count(sim) == DEFAULT_MAX_STEPS
    assert f"max_steps={DEFAULT_MAX_STEPS}" in str(caught.value)


def test_finish_all_jumps_the_clock_from_job_to_job() -> None:
    sim = make_sim()
    start = sim.now
    sim.mutation(sim_chain.start_chain, {"links": 5, "delayMs": 100})
    assert sim.finish_all_scheduled_functions() == 5
    assert count(sim) == 5
    assert sim.now == start + 500
    assert sim.query(sim_chain.progress)["lastAt"] == start + 500


def test_advance_runs_jobs_scheduled_during_the_window_that_fall_due_inside_it() -> None:
    sim = make_sim()
    start = sim.now
    sim.mutation(sim_chain.start_chain, {"links": 5, "delayMs": 100})
    sim.advance(350)
    assert count(sim) == 3  # at +100, +200 and +300; the link at +400 waits
    assert sim.now == start + 350
    pending = [r for r in sim.scheduled_functions() if r["state"]["kind"] == "pending"]
    assert [r["scheduledTime"] for r in pending] == [start + 400]
    sim.advance(1000)
    assert count(sim) == 5
    assert sim.now == start + 1350


def test_a_job_due_in_the_past_runs_now_and_the_clock_stays_put() -> None:
    sim = make_sim()
    sim.advance(60_000)
    now = sim.now
    job_id = sim.mutation(s6_jobs.schedule_at_offset, {"offsetMs": -30_000})
    assert sim.finish_all_scheduled_functions() == 1
    assert sim.now == now
    (run,) = sim.query(s6_jobs.runs)
    assert run["job"] == job_id
    assert run["now"] == now
    with pytest.raises(ClockError):
        sim.advance(-30_000)
    assert sim.now == now


def test_advance_stops_a_job_that_reschedules_itself_without_delay() -> None:
    sim = Simulator(define_app(modules=[sim_chain]), seed=0)
    sim.mutation(sim_chain.start_forever, {"delayMs": 0})
    with pytest.raises(SchedulerDidNotSettleError, match="ran 50 scheduled functions"):
        sim.advance(1_000, max_steps=50)
