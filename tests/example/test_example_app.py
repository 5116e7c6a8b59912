"""The example app (batch-worker-spec.md §10, last bullet): events summed into totals.

``add_event`` inserts an event and pings the worker ``events``; the loop hands
up to 10 events at a time to ``process_batch``, which adds them into the
``all`` total and deletes them. Each scenario runs at the default log level
(``REPORT``: the component prints nothing on a happy path) and at ``DEBUG``
(its debug lines show up in the trace, read back through ``LogRecords``).
"""

from __future__ import annotations

import pytest

import batch_worker
from convex_sim import Simulator
from convex_sim.trace import ExecutionStarted
from example import example, make_app
from tests.batch_worker.support import advance

PROCESS_BATCH = "example:process_batch"
LEVELS = [None, "DEBUG"]


def make_sim(log_level: str | None) -> Simulator:
    return Simulator(make_app(log_level=log_level), seed=0)


def batches(sim: Simulator) -> list[ExecutionStarted]:
    """Every execution of the worker mutation (each one a batch)."""
    return [e for e in sim.trace.of(ExecutionStarted) if e.function == PROCESS_BATCH]


def check_logs(sim: Simulator, log_level: str | None) -> None:
    """DEBUG: the component's debug lines are there; default (REPORT): nothing at all."""
    records = batch_worker.LogRecords.from_trace(sim.trace)
    if log_level == "DEBUG":
        debug = [r for r in records.records if r.level == "debug"]
        assert debug == records.records
        functions = {r.function for r in debug}
        assert "batchWorker/lib:ping" in functions
        assert "batchWorker/loop:loop" in functions
        assert any(f"[ping {example.WORKER_NAME}]" in r.message for r in debug)
        assert any(f"[loop {example.WORKER_NAME}] idle" in r.message for r in debug)
    else:
        assert records.records == []
        assert records.lines() == []
        assert records.events() == []


@pytest.mark.parametrize("log_level", LEVELS)
def test_one_event_of_5_gives_total_5_count_1(log_level: str | None) -> None:
    sim = make_sim(log_level)
    assert sim.query(example.get_totals) is None

    sim.mutation(example.add_event, {"value": 5})
    sim.finish_all_scheduled_functions()

    assert sim.query(example.get_totals) == {"total": 5, "count": 1}
    assert len(batches(sim)) == 1
    check_logs(sim, log_level)


@pytest.mark.parametrize("log_level", LEVELS)
def test_25_events_sum_to_325_in_exactly_3_batches(log_level: str | None) -> None:
    sim = make_sim(log_level)
    for value in range(1, 26):
        sim.mutation(example.add_event, {"value": value})
    sim.finish_all_scheduled_functions()

    assert sim.query(example.get_totals) == {"total": 325, "count": 25}
    assert [len(b.args["ids"]) for b in batches(sim)] == [10, 10, 5]
    check_logs(sim, log_level)


@pytest.mark.parametrize("events", [25, 5000])
def test_adding_events_then_draining_ends_exactly_one_cooldown_later(events: int) -> None:
    # The last batch runs at t0 (delay-0 chains do not drift), then the loop cools down
    # for COOLDOWN_MS and goes idle on the confirming read: at t0 + 2000 exactly.
    sim = make_sim(None)
    start = sim.now
    for value in range(events):
        sim.mutation(example.add_event, {"value": value})
    sim.finish_all_scheduled_functions()
    assert sim.query(example.get_totals) == {"total": events * (events - 1) // 2, "count": events}
    assert sim.now - start == 2000
    assert {e.time_ms for e in batches(sim)} == {start}


@pytest.mark.parametrize("log_level", LEVELS)
def test_status_idle_after_draining_and_a_new_event_after_idle_is_processed(
    log_level: str | None,
) -> None:
    sim = make_sim(log_level)
    assert sim.query(example.worker_status) is None
    for value in (1, 2, 3):
        sim.mutation(example.add_event, {"value": value})
    assert sim.query(example.worker_status) == {"kind": "running"}
    sim.finish_all_scheduled_functions()
    assert sim.query(example.worker_status) == {"kind": "idle"}
    assert sim.query(example.get_totals) == {"total": 6, "count": 3}

    sim.mutation(example.add_event, {"value": 4})
    assert sim.query(example.worker_status) == {"kind": "running"}
    sim.finish_all_scheduled_functions()

    assert sim.query(example.get_totals) == {"total": 10, "count": 4}
    assert sim.query(example.worker_status) == {"kind": "idle"}
    assert len(batches(sim)) == 2
    check_logs(sim, log_level)


def test_events_arriving_while_the_worker_runs_are_all_counted() -> None:
    sim = make_sim(None)
    for value in range(1, 11):
        sim.mutation(example.add_event, {"value": value})
        advance(sim, 150)  # the loop drains and polls in between
    sim.finish_all_scheduled_functions()

    assert sim.query(example.get_totals) == {"total": 55, "count": 10}
    assert sim.query(example.worker_status) == {"kind": "idle"}
    assert sum(len(b.args["ids"]) for b in batches(sim)) == 10


def test_stop_worker_halts_processing_until_start_worker() -> None:
    sim = make_sim(None)
    sim.mutation(example.add_event, {"value": 1})
    sim.mutation(example.stop_worker, {})
    sim.mutation(example.add_event, {"value": 2})
    advance(sim, 120_000)
    assert sim.query(example.worker_status) == {"kind": "stopped"}
    assert sim.query(example.get_totals) is None, "a stopped worker processes nothing"
    sim.mutation(example.start_worker, {})
    advance(sim, 10_000)
    assert sim.query(example.get_totals) == {"total": 3.0, "count": 2}
    assert sim.query(example.worker_status) == {"kind": "idle"}


def test_add_event_passes_its_config_to_the_ping() -> None:
    sim = make_sim(None)
    sim.mutation(example.add_event, {"value": 1, "config": {"debounceMs": 500}})

    async def stored_config(ctx: object) -> object:
        (worker,) = await ctx.db.query("workers").collect()  # type: ignore[attr-defined]
        return worker["config"]

    assert sim.run(stored_config, component="batchWorker") == {"debounceMs": 500}
    advance(sim, 499)
    assert sim.query(example.get_totals) is None, "the first batch waits for the debounce"
    advance(sim, 2)
    assert sim.query(example.get_totals) == {"total": 1.0, "count": 1}
