"""The stepper under the explorer: moving through a run and what is true at each point."""

from __future__ import annotations

from convex_sim.story import build_story, installed_explainers
from convex_sim.story.stepper import Stepper
from convex_sim.trace import Committed, ExecutionStarted
from example.explore import TABLES
from example.scenarios import SCENARIOS


def _stepper(name: str = "drain") -> Stepper:
    sim = SCENARIOS[name].run(events=3 if name == "drain" else None).sim
    return Stepper(build_story(sim.trace, installed_explainers()), TABLES)


def test_it_steps_one_await_one_execution_one_moment_and_back() -> None:
    stepper = _stepper()
    assert stepper.position == 0
    assert stepper.forward_await()
    assert stepper.position == 1
    assert stepper.forward_execution()
    assert isinstance(stepper.events[stepper.position], ExecutionStarted)
    at_execution = stepper.position
    assert stepper.forward_moment()
    later = stepper.events[stepper.position].time_ms
    assert later > stepper.events[at_execution].time_ms
    assert stepper.back()
    assert stepper.position == at_execution
    assert stepper.back()
    assert stepper.back()
    assert stepper.position == 0
    assert not stepper.back()


def test_the_view_follows_the_run() -> None:
    stepper = _stepper()
    first = stepper.view()
    assert first.clock == "t+0.000s"
    assert first.event.startswith("starts mutation add_event(value=1)")
    assert first.step is not None
    assert first.step.lane == "client"
    workers = next(table for table in first.tables if table.table == "workers")
    assert workers.documents == []  # nothing committed yet
    while not isinstance(stepper.events[stepper.position], Committed):
        stepper.forward_await()
    committed = stepper.view()
    workers = next(table for table in committed.tables if table.table == "workers")
    (worker,) = workers.documents
    assert worker["status"] == {"kind": "running"}
    assert "status" in workers.changed[str(worker["_id"])]
    assert [job.state for job in committed.jobs] == ["pending", "pending"]  # loop, monitor
    assert committed.explanation[0].startswith("add_event (value=1): inserted events; ping: cr")


def test_the_last_moment_shows_the_worker_idle_and_its_jobs_finished() -> None:
    stepper = _stepper()
    while stepper.forward_moment():
        pass
    view = stepper.view()
    assert view.position == view.total - 1
    workers = next(table for table in view.tables if table.table == "workers")
    assert workers.documents[0]["status"] == {"kind": "idle"}
    states = {job.function: job.state for job in view.jobs}
    assert states["monitor"] == "canceled"
    assert {job.state for job in view.jobs if job.function == "loop"} == {"success"}


def test_a_conflicting_attempt_is_in_flight_with_its_conflict() -> None:
    stepper = _stepper("race-going-idle")
    while not stepper.view().event.startswith("conflict at commit"):
        assert stepper.forward_await(), "the race's conflict was never reached"
    view = stepper.view()
    assert view.step is not None
    assert view.step.conflict
    assert any(line.startswith("⚡ conflict at commit") for line in view.explanation)
    assert view.awaits[-1] == view.event
