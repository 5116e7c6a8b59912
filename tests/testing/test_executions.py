"""``executions``: the trace folded into top-level executions and what their calls did."""

from __future__ import annotations

import pytest

from convex_sim import Simulator
from convex_sim.executor import ScheduleError
from convex_sim.testing import executions
from example import example, make_app
from tests.apps import race_app


def test_nested_calls_writes_and_schedules_belong_to_the_top_level_execution() -> None:
    sim = Simulator(make_app(), seed=0)
    sim.mutation(example.add_event, {"value": 3})
    sim.advance(1)
    add, loop = executions(sim.trace)[:2]
    assert add.function == "example:add_event"
    assert [call.function for call in add.calls] == ["batchWorker/lib:ping"]
    assert {(w.operation, w.table) for w in add.writes} >= {
        ("insert", "events"),
        ("insert", "workers"),
    }
    assert {s.function for s in add.scheduled} == {
        "batchWorker/loop:loop",
        "batchWorker/monitor:monitor",
    }
    assert add.committed
    assert loop.function == "batchWorker/loop:loop"
    assert [c.function for c in loop.called("example:process_batch")] == ["example:process_batch"]
    assert ("delete", "events") in {(w.operation, w.table) for w in loop.writes}
    assert loop.started.job is not None


def test_a_conflicted_attempt_and_its_retry_are_separate_records() -> None:
    sim = Simulator(race_app.make_app(), seed=0)
    sim.concurrently([(race_app.bump, {"name": "c"})] * 2, schedule=[0, 1, 0, 1, 0, 1])
    records = executions(sim.trace)
    conflicted = [r for r in records if r.conflict is not None]
    assert conflicted, "the schedule interleaves the two bumps"
    assert all(not r.committed for r in conflicted)
    assert sum(r.committed for r in records) == 2
    later = executions(sim.trace, since=len(sim.trace))
    assert later == []


def test_failures_are_recorded_and_a_failed_run_committed_nothing() -> None:
    sim = Simulator(make_app(), seed=0)
    sim.mutation(example.add_event, {"value": 3})
    sim.faults.fail_next(example.process_batch)
    sim.advance(1)
    loop = next(r for r in executions(sim.trace) if r.function == "batchWorker/loop:loop")
    assert loop.failure is not None
    assert loop.failure.error == "InjectedFault"
    assert not loop.committed
    assert [f.function for f in loop.faults] == ["example:process_batch"]


def test_interleaving_whole_transactions_offers_fewer_choices_and_the_same_results() -> None:
    def race(interleave: str) -> tuple[int, list[int]]:
        sim = Simulator(race_app.make_app(), seed=0)
        sim.concurrently(
            [(race_app.bump, {"name": "c"})] * 3,
            schedule=1,
            interleave=interleave,  # type: ignore[arg-type]
        )
        return len(sim.last_chooser.choices), sorted(
            r.commit.ts for r in executions(sim.trace) if r.commit is not None
        )

    operation_choices, _ = race("operations")
    transaction_choices, _ = race("transactions")
    assert 0 < transaction_choices < operation_choices
    with pytest.raises(ScheduleError, match="interleave must be 'operations' or 'transactions'"):
        race("statements")
