"""The small app (``tests/apps/counter.py`` + the ``notes`` component), exercised the way
convex-test users exercise theirs: ``mutation``, ``finish_all_scheduled_functions``,
``query``, ``advance``, ``run`` — plus the determinism a seed buys.
"""

from __future__ import annotations

from typing import Any

import pytest

import batch_worker
from convex_sim import ConvexError, ConvexSimError, Simulator
from convex_sim.clock import ClockError
from convex_sim.functions import FunctionNotFoundError
from convex_sim.trace import ClockAdvanced, ExecutionStarted
from example import example
from example import make_app as make_example_app
from tests.apps import counter
from tests.apps.definitions import make_app


def make_sim(seed: int = 0) -> Simulator:
    return Simulator(make_app(), seed=seed)


def messages(sim: Simulator) -> list[str]:
    return list(sim.query(counter.list_messages))


# -- the convex-test loop ---------------------------------------------------------------------


def test_mutation_then_finish_all_then_query() -> None:
    sim = make_sim()
    start = sim.now
    job_id = sim.mutation(counter.send_later, {"body": "hi", "delayMs": 1000})
    assert messages(sim) == []

    assert sim.finish_all_scheduled_functions() == 1
    assert messages(sim) == ["hi"]
    assert sim.now == start + 1000
    (row,) = sim.scheduled_functions()
    assert row["_id"] == job_id
    assert row["state"] == {"kind": "success"}
    assert sim.finish_all_scheduled_functions() == 0
    assert sim.now == start + 1000


def test_counter_increments_and_reads_back() -> None:
    sim = make_sim()
    assert sim.query(counter.read_counter) is None
    assert sim.mutation(counter.increment) == 1
    assert sim.mutation(counter.increment, {"by": 5}) == 6
    assert sim.query(counter.read_counter) == 6


def test_failed_scheduled_delivery_is_recorded_and_writes_nothing() -> None:
    sim = make_sim()
    job_id = sim.mutation(counter.send_later, {"body": "boom", "delayMs": 0})
    sim.finish_all_scheduled_functions()
    assert messages(sim) == []
    (row,) = sim.scheduled_functions()
    assert row["_id"] == job_id
    assert row["state"]["kind"] == "failed"
    assert "cannot deliver boom" in row["state"]["error"]


def test_clients_reach_public_functions_only() -> None:
    sim = make_sim()
    for reference, args in ((counter.deliver, {"body": "x"}), ("counter:deliver", {"body": "x"})):
        with pytest.raises(FunctionNotFoundError, match="Could not find public function"):
            sim.mutation(reference, args)
    with pytest.raises(FunctionNotFoundError):
        sim.query(counter.secret)
    assert messages(sim) == []

    async def server_side(ctx: Any) -> Any:
        return await ctx.run_query(counter.secret, {})

    assert sim.run(server_side) == "internal"


def test_user_errors_reach_the_client_and_roll_back() -> None:
    sim = make_sim()
    with pytest.raises(ConvexError, match="cannot deliver boom"):
        sim.run(_deliver_boom)
    assert messages(sim) == []


async def _deliver_boom(ctx: Any) -> None:
    await ctx.db.insert("messages", {"body": "before", "sentAt": ctx.now_ms})
    await ctx.run_mutation(counter.deliver, {"body": "boom"})


def test_the_app_calls_its_component() -> None:
    sim = make_sim()
    note_id = sim.mutation(counter.add_note, {"text": "one"})
    sim.mutation(counter.add_note, {"text": "two"})
    assert isinstance(note_id, str)
    assert sim.query(counter.count_notes) == 2

    async def notes_texts(ctx: Any) -> list[str]:
        return sorted(n["text"] for n in await ctx.db.query("notes").collect())

    assert sim.run(notes_texts, component="notes") == ["one", "two"]


# -- advance ------------------------------------------------------------------------------------


def test_advance_runs_due_jobs_in_time_order_and_leaves_later_ones() -> None:
    sim = make_sim()
    start = sim.now
    sim.mutation(counter.send_later, {"body": "a", "delayMs": 300})
    sim.mutation(counter.send_later, {"body": "b", "delayMs": 100})
    later = sim.mutation(counter.send_later, {"body": "c", "delayMs": 5000})

    sim.advance(1000)
    assert messages(sim) == ["b", "a"]
    assert [m["sentAt"] for m in sim.run(_all_messages)] == [start + 100, start + 300]
    assert sim.now == start + 1000
    pending = [r for r in sim.scheduled_functions() if r["state"]["kind"] == "pending"]
    assert [r["_id"] for r in pending] == [later]

    sim.advance(3999)
    assert messages(sim) == ["b", "a"]
    sim.advance(1)
    assert messages(sim) == ["b", "a", "c"]
    assert sim.now == start + 5000


async def _all_messages(ctx: Any) -> list[dict[str, Any]]:
    return list(await ctx.db.query("messages").collect())


def test_advance_with_nothing_due_only_moves_the_clock() -> None:
    sim = make_sim()
    start = sim.now
    sim.advance(0)
    assert sim.now == start
    sim.advance(12.5)
    assert sim.now == start + 12.5
    assert messages(sim) == []


# -- the clock ----------------------------------------------------------------------------------


def test_virtual_clock_never_goes_backwards() -> None:
    sim = make_sim()
    sim.mutation(counter.send_later, {"body": "a", "delayMs": 700})
    sim.mutation(counter.send_later, {"body": "b", "delayMs": 200})
    sim.advance(100)
    before = sim.now
    with pytest.raises(ClockError):
        sim.advance(-1)
    assert sim.now == before

    sim.advance(150)
    sim.finish_all_scheduled_functions()
    sim.advance(50)
    times = [event.time_ms for event in sim.trace]
    assert times == sorted(times)
    jumps = [event.to_ms for event in sim.trace.of(ClockAdvanced)]
    assert jumps == sorted(jumps)
    assert len(jumps) >= 3


# -- determinism --------------------------------------------------------------------------------


def _scenario(seed: int) -> tuple[Simulator, list[str]]:
    sim = make_sim(seed)
    ids = [
        sim.mutation(counter.send, {"body": "first"}),
        sim.mutation(counter.send_later, {"body": "later", "delayMs": 50}),
        sim.mutation(counter.send_later, {"body": "boom", "delayMs": 75}),
        sim.mutation(counter.add_note, {"text": "n"}),
    ]
    sim.mutation(counter.increment, {"by": 3})
    sim.finish_all_scheduled_functions()
    sim.advance(10)
    ids += [row["_id"] for row in sim.run(_all_messages)]
    return sim, [str(i) for i in ids]


def test_same_seed_gives_a_byte_identical_trace() -> None:
    first, first_ids = _scenario(seed=11)
    second, second_ids = _scenario(seed=11)
    assert first_ids == second_ids
    assert first.trace.to_jsonl().encode() == second.trace.to_jsonl().encode()
    assert first.scheduled_functions() == second.scheduled_functions()


def test_different_seed_gives_different_ids() -> None:
    first, first_ids = _scenario(seed=11)
    other, other_ids = _scenario(seed=12)
    assert len(first_ids) == len(other_ids)
    assert all(a != b for a, b in zip(first_ids, other_ids, strict=True))
    assert first.trace.to_jsonl() != other.trace.to_jsonl()
    # Same calls, same outcome: only the ids differ.
    assert messages(first) == messages(other) == ["first", "later"]


def test_run_function_reaches_internal_functions_as_a_top_level_execution() -> None:
    sim = Simulator(make_example_app(), seed=0)
    sim.mutation(example.add_event, {"value": 4})
    with pytest.raises(ConvexSimError, match="is not a function of app"):
        sim.mutation(batch_worker.loop.loop, {"name": "events", "generation": 1})
    sim.run_function(
        batch_worker.loop.loop, {"name": "events", "generation": 1}, component="batchWorker"
    )
    assert sim.query(example.get_totals) == {"total": 4.0, "count": 1}
    started = [e for e in sim.trace.of(ExecutionStarted) if e.function == "batchWorker/loop:loop"]
    assert [(e.parent, e.job) for e in started] == [(None, None)]
    with pytest.raises(ConvexSimError, match="no component is mounted as 'nope'"):
        sim.run_function(batch_worker.loop.loop, {}, component="nope")
