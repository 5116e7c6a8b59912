"""Named OCC races (convex-semantics.md §4.1–§4.7, §5.3, §6.6), each forced by an explicit
schedule: ``[0] * k + [1] * many`` lets the first call take ``k`` steps, then runs the
second to completion, then lets the first finish."""

from __future__ import annotations

import re
from typing import Any

import pytest

from convex_sim import OccFailureError, Simulator
from convex_sim.database import Database
from convex_sim.occ import RetryPolicy
from convex_sim.trace import Conflict, Retried
from tests.apps import race_app

SECOND_RUNS_THROUGH = [1] * 50


def first_then_second(k: int) -> list[int]:
    """``k`` steps of the first call, then all of the second, then the rest of the first."""
    return [0] * k + SECOND_RUNS_THROUGH


@pytest.fixture
def sim() -> Simulator:
    return Simulator(race_app.make_app(), seed=0)


def notes(sim: Simulator) -> list[str]:
    async def read(ctx: Any) -> list[str]:
        result: list[str] = await ctx.run_query(race_app.notes, {})
        return result

    return sim.run(read)  # type: ignore[no-any-return]


def test_lost_update_is_prevented_by_one_conflict_and_one_retry(sim: Simulator) -> None:
    sim.mutation(race_app.bump, {"name": "c"})
    results = sim.concurrently(
        [(race_app.bump, {"name": "c"}), (race_app.bump, {"name": "c"})],
        schedule=first_then_second(2),
    )
    assert sorted(results) == [2, 3]
    assert results[1] == 2  # the second ran through; the first retried on top of it
    conflicts = sim.trace.of(Conflict)
    assert len(conflicts) == 1
    assert conflicts[0].table == "cells"
    assert len(sim.trace.of(Retried)) == 1
    assert sim.retries == {"race_app:bump": 1}


def test_the_conflict_names_both_transactions_the_interval_and_the_key(sim: Simulator) -> None:
    sim.mutation(race_app.bump, {"name": "c"})
    sim.concurrently(
        [(race_app.bump, {"name": "c"}), (race_app.bump, {"name": "c"})],
        schedule=first_then_second(2),
    )
    (conflict,) = sim.trace.of(Conflict)
    starts = {e.execution for e in sim.trace if e.kind == "start"}
    assert conflict.execution in starts
    assert conflict.conflicting_execution in starts
    assert conflict.execution != conflict.conflicting_execution
    assert conflict.index in ("by_name", "by_id")  # the unique() range or the patch target
    start, end = re.fullmatch(r"\[([0-9a-f]*), ([0-9a-f]*)\)", conflict.interval).groups()  # type: ignore[union-attr]
    assert start <= conflict.key < end


def test_write_skew_is_prevented(sim: Simulator) -> None:
    async def staff(ctx: Any) -> None:
        for name in ("alice", "bob"):
            await ctx.db.insert("doctors", {"name": name, "onCall": True})

    sim.run(staff)
    results = sim.concurrently(
        [(race_app.go_off_call, {"name": "alice"}), (race_app.go_off_call, {"name": "bob"})],
        schedule=first_then_second(2),
    )
    assert sorted(results) == [False, True]

    async def on_call(ctx: Any) -> int:
        return sum(d["onCall"] for d in await ctx.db.query("doctors").collect())

    assert sim.run(on_call) == 1


def test_write_skew_happens_without_the_conflict_check(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Database, "check", lambda self, transaction: None)

    async def staff(ctx: Any) -> None:
        for name in ("alice", "bob"):
            await ctx.db.insert("doctors", {"name": name, "onCall": True})

    sim.run(staff)
    results = sim.concurrently(
        [(race_app.go_off_call, {"name": "alice"}), (race_app.go_off_call, {"name": "bob"})],
        schedule=first_then_second(2),
    )
    assert results == [True, True]  # nobody left on call: the anomaly the check prevents


@pytest.mark.parametrize(("snapshot", "expected_count", "conflicts"), [(True, 0, 0), (False, 1, 1)])
def test_a_snapshot_read_takes_no_dependency(
    sim: Simulator, snapshot: bool, expected_count: int, conflicts: int
) -> None:
    results = sim.concurrently(
        [(race_app.count_then_log, {"snapshot": snapshot}), (race_app.add_slot, {"n": 1})],
        schedule=first_then_second(2),
    )
    assert results[0] == expected_count
    assert len(sim.trace.of(Conflict)) == conflicts


@pytest.mark.parametrize(("inserted", "conflicts"), [(5, 1), (20, 0)])
def test_first_on_an_empty_range_conflicts_with_an_insert_into_it(
    sim: Simulator, inserted: int, conflicts: int
) -> None:
    results = sim.concurrently(
        [(race_app.first_in_range, {"lo": 0, "hi": 10}), (race_app.add_slot, {"n": inserted})],
        schedule=first_then_second(2),
    )
    assert len(sim.trace.of(Conflict)) == conflicts
    assert results[0] == (inserted if conflicts else None)


@pytest.mark.parametrize(("inserted", "conflicts"), [(5, 0), (0, 1)])
def test_take_one_conflicts_only_with_inserts_up_to_its_first_row(
    sim: Simulator, inserted: int, conflicts: int
) -> None:
    sim.mutation(race_app.add_slot, {"n": 1})
    results = sim.concurrently(
        [(race_app.first_in_range, {"lo": 0, "hi": 10}), (race_app.add_slot, {"n": inserted})],
        schedule=first_then_second(2),
    )
    assert len(sim.trace.of(Conflict)) == conflicts
    assert results[0] == (0 if conflicts else 1)


def test_reads_of_a_failed_nested_mutation_still_conflict(sim: Simulator) -> None:
    results = sim.concurrently(
        [(race_app.catch_nested_failure, {}), (race_app.add_slot, {"n": 3})],
        schedule=first_then_second(3),
    )
    assert results[0] == "committed"
    assert len(sim.trace.of(Conflict)) == 1
    assert notes(sim) == ["outer"]  # the nested mutation's own insert was rolled back


def test_retries_exhausted_gives_the_backends_error() -> None:
    # No backoff, and a round-robin schedule: every round, one commits and the rest conflict.
    sim = Simulator(
        race_app.make_app(),
        retry_policy=RetryPolicy(client_base_ms=0.0, client_cap_ms=0.0),
    )
    sim.mutation(race_app.bump, {"name": "c"})
    turn = iter(range(10**6))
    results = sim.concurrently(
        [(race_app.bump, {"name": "c"})] * 8, schedule=lambda n: next(turn) % n
    )
    failures = [r for r in results if isinstance(r, OccFailureError)]
    assert failures, results
    assert re.fullmatch(
        r'Documents read from or written to the "cells" table changed while this mutation '
        r"was being run and on every subsequent retry\. Another call to this mutation changed "
        r'the document with ID "[0-9a-z]+"\. See https://docs\.convex\.dev/error#1',
        str(failures[0]),
    )
    assert failures[0].code == "OptimisticConcurrencyControlFailure"
    successes = [r for r in results if isinstance(r, int)]
    assert sim.run(lambda ctx: ctx.db.query("cells").first())["value"] == 1 + len(successes)


def test_a_scheduled_mutation_canceled_while_it_runs_never_commits(sim: Simulator) -> None:
    job_id = sim.mutation(race_app.schedule_note, {"delayMs": 0})
    (due,) = sim.due_jobs()
    results = sim.concurrently(
        [due, (race_app.cancel_job, {"id": job_id})], schedule=first_then_second(2)
    )
    assert results == [None, None]
    assert notes(sim) == []
    (row,) = sim.scheduled_functions()
    assert row["state"] == {"kind": "canceled"}
    assert len(sim.trace.of(Conflict)) == 1
