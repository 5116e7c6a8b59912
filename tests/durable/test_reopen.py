"""The reopen rules, one by one: what a restarted deployment does with what it finds.

A process death is modelled two ways. Where it matters *when* inside a
function the process died (a scheduled mutation mid-transaction, an action
mid-run), a child process kills itself with SIGKILL from inside the handler.
Elsewhere, :func:`crash` closes the store under a simulator without letting
it save anything: the file then holds exactly what the commits wrote, which
is all a killed process leaves behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from convex_sim import (
    SchemaMismatchError,
    Simulator,
    SimulatorClosedError,
    StoreInUseError,
    v,
)
from convex_sim.clock import DEFAULT_START_MS
from convex_sim.resume import LOST_ACTION_ERROR
from convex_sim.scheduler import JOB_RETENTION_MS
from convex_sim.store import MemoryStore, SqliteStore
from convex_sim.store.sqlite_layout import StoreFormatError
from convex_sim.trace import JobStateChanged, Resumed
from tests.apps import durable_app

ROOT = Path(__file__).resolve().parents[2]


def crash(sim: Simulator) -> None:
    """Drop the simulator as a killed process would: nothing saved after the last commit."""
    sim.runtime.database.store.close()


def die_in(handler: str, path: Path, function: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CONVEX_SIM_DIE_IN": handler}
    argv = [sys.executable, "-m", "tests.durable.reopen_child", str(path), function]
    code = subprocess.run(argv, env=env, cwd=ROOT, check=False, timeout=120).returncode
    assert code == -9


def notes(sim: Simulator) -> list[dict[str, Any]]:
    async def read(db: Any) -> list[dict[str, Any]]:
        return list(await db.query("notes").collect())

    return sim.peek(read)


def test_a_scheduled_mutation_running_when_the_process_died_runs_exactly_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    die_in("bump", path, "schedule_bump")
    with Simulator(durable_app.make_app(), store=path) as sim:
        (row,) = sim.scheduled_functions()
        assert row["state"] == {"kind": "pending"}  # its inProgress never committed
        assert sim.query(durable_app.counter) == 0
        # The clock resumes at the last commit (the scheduling), before the job's time.
        assert sim.next_due_ms() == row["scheduledTime"] == sim.now + 1000
        sim.advance(1000)
        assert sim.query(durable_app.counter) == 1
        sim.advance(3_600_000)
        assert sim.query(durable_app.counter) == 1
        (row,) = sim.scheduled_functions()
        assert row["state"] == {"kind": "success"}


def test_an_action_running_when_the_process_died_ends_failed_and_never_runs_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    die_in("bump_then_work", path, "schedule_action")
    with Simulator(durable_app.make_app(), store=path) as sim:
        (row,) = sim.scheduled_functions()
        assert row["state"] == {"kind": "failed", "error": LOST_ACTION_ERROR}
        assert row["completedTime"] == sim.now
        (resumed,) = sim.trace.of(Resumed)
        assert (resumed.pending, resumed.lost_actions) == (0, 1)
        assert [e.state for e in sim.trace.of(JobStateChanged)] == ["failed"]
        assert sim.query(durable_app.counter) == 1  # its first step had committed
        sim.advance(3_600_000)
        assert sim.query(durable_app.counter) == 1


def test_a_killed_holder_releases_the_file(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    die_in("bump", path, "schedule_bump")
    Simulator(durable_app.make_app(), store=path).close()


def test_the_clock_resumes_at_the_last_commit_and_creation_times_keep_rising(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    sim = Simulator(durable_app.make_app(), store=path)
    sim.advance(5_000)
    sim.mutation(durable_app.add_note, {"body": "a"})
    last_commit = sim.now
    sim.advance(60_000)  # no commit: a crash loses this
    crash(sim)
    with Simulator(durable_app.make_app(), store=path) as reopened:
        assert reopened.now == last_commit == DEFAULT_START_MS + 5_000
        reopened.mutation(durable_app.add_note, {"body": "b"})
        times = [note["_creationTime"] for note in notes(reopened)]
        assert times == sorted(times)
        assert len(set(times)) == 2
        reopened.advance(1_000)
    # A clean close keeps the clock as it was at the close.
    with Simulator(durable_app.make_app(), store=path) as reopened:
        assert reopened.now == last_commit + 1_000
    # A start time after the store's is time that passed while it was down.
    with Simulator(durable_app.make_app(), store=path, start_ms=last_commit + 10**6) as later:
        assert later.now == last_commit + 10**6
    with Simulator(durable_app.make_app(), store=path, start_ms=0) as earlier:
        assert earlier.now == last_commit + 10**6


def test_the_same_seed_never_hands_out_an_id_already_in_the_store(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    sim = Simulator(durable_app.make_app(), store=path, seed=3)
    for body in ("a", "b", "c"):
        sim.mutation(durable_app.add_note, {"body": body})
    before = {str(note["_id"]): note for note in notes(sim)}
    crash(sim)
    for seed in (3, 4):
        with Simulator(durable_app.make_app(), store=path, seed=seed) as reopened:
            new_id = str(reopened.mutation(durable_app.add_note, {"body": f"new {seed}"}))
            assert new_id not in before
            after = {str(note["_id"]): note for note in notes(reopened)}
            assert {key: after[key] for key in before} == before


def test_a_reopened_seed_continues_deterministically(tmp_path: Path) -> None:
    """Two files with the same history give the same ids and trace after reopening."""
    digests = []
    for name in ("one", "two"):
        path = tmp_path / f"{name}.sqlite"
        sim = Simulator(durable_app.make_app(), store=path, seed=9)
        sim.mutation(durable_app.add_note, {"body": "a"})
        sim.mutation(durable_app.schedule_bump, {"delayMs": 10})
        crash(sim)
        with Simulator(durable_app.make_app(), store=path, seed=9) as reopened:
            reopened.mutation(durable_app.add_note, {"body": "b"})
            reopened.finish_all_scheduled_functions()
            digests.append((reopened.trace.digest(), [str(n["_id"]) for n in notes(reopened)]))
    assert digests[0] == digests[1]


def test_finished_rows_are_still_cleaned_up_seven_days_after_completion(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with Simulator(durable_app.make_app(), store=path) as sim:
        sim.mutation(durable_app.schedule_bump, {"delayMs": 0})
        sim.advance(0)
        (row,) = sim.scheduled_functions()
        completed = row["completedTime"]
    with Simulator(durable_app.make_app(), store=path) as sim:
        sim.advance(completed + JOB_RETENTION_MS - sim.now - 1)
        assert len(sim.scheduled_functions()) == 1
        sim.advance(1)
        assert sim.scheduled_functions() == []


def test_a_second_simulator_on_an_open_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    first = Simulator(durable_app.make_app(), store=path)
    with pytest.raises(StoreInUseError, match=r"db\.sqlite is already open for writing"):
        Simulator(durable_app.make_app(), store=path)
    first.mutation(durable_app.add_note, {"body": "still mine"})  # the first is unharmed
    first.close()
    with Simulator(durable_app.make_app(), store=path) as second:
        assert [note["body"] for note in notes(second)] == ["still mine"]


def test_a_closed_simulator_refuses_calls_but_keeps_its_trace() -> None:
    with Simulator(durable_app.make_app()) as sim:
        sim.mutation(durable_app.add_note, {"body": "a"})
    assert sim.closed
    assert len(sim.trace) > 0
    sim.close()  # twice is harmless
    with pytest.raises(SimulatorClosedError, match="was closed"):
        sim.mutation(durable_app.add_note, {"body": "b"})
    with pytest.raises(SimulatorClosedError):
        sim.advance(10)


def test_a_memory_store_is_held_by_one_simulator_and_resumes_in_the_next() -> None:
    store = MemoryStore()
    first = Simulator(durable_app.make_app(), store=store)
    first.mutation(durable_app.schedule_bump, {"delayMs": 500})
    with pytest.raises(StoreInUseError, match="already in use"):
        Simulator(durable_app.make_app(), store=store)
    first.advance(100)
    first.close()
    with Simulator(durable_app.make_app(), store=store) as second:
        assert second.now == DEFAULT_START_MS + 100
        assert second.next_due_ms() == DEFAULT_START_MS + 500
        second.finish_all_scheduled_functions()
        assert second.query(durable_app.counter) == 1


def test_documents_that_no_longer_match_the_schema_are_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with Simulator(durable_app.make_app(), store=path) as sim:
        note_id = str(sim.mutation(durable_app.add_note, {"body": "not a number"}))
    before = _dump(path)
    with pytest.raises(SchemaMismatchError) as caught:
        Simulator(durable_app.make_app(note_body=v.number()), store=path)
    message = str(caught.value)
    assert "table 'notes'" in message
    assert note_id in message
    assert "Path: .body" in message
    assert "Validator: v.float64()" in message
    assert (caught.value.table, caught.value.document_id) == ("notes", note_id)
    assert _dump(path) == before  # nothing was written
    # The refused open released the file; the old schema still opens it.
    with Simulator(durable_app.make_app(note_body=v.union(v.string(), v.number())), store=path):
        pass


def test_an_index_added_to_the_schema_is_back_filled_and_a_dropped_one_forgotten(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    with Simulator(durable_app.make_app(), store=path) as sim:
        for body in ("b", "a", "c"):
            sim.mutation(durable_app.add_note, {"body": body})

    async def by_body(db: Any) -> list[str]:
        rows = await db.query("notes").with_index("by_body").collect()
        return [row["body"] for row in rows]

    with Simulator(durable_app.make_app(extra_index=True), store=path) as sim:
        assert sim.peek(by_body) == ["a", "b", "c"]
        sim.mutation(durable_app.add_note, {"body": "aa"})
        assert sim.peek(by_body) == ["a", "aa", "b", "c"]
    with Simulator(durable_app.make_app(), store=path) as sim:
        store = sim.runtime.database.store
        number = store.table_number("", "notes", create=False)
        assert number is not None
        assert "by_body" not in store.indexes(number)


def test_a_read_only_open_sees_a_live_store_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with Simulator(durable_app.make_app(), store=path) as sim:
        sim.mutation(durable_app.add_note, {"body": "a"})
        reader = SqliteStore(path, read_only=True)
        try:
            number = reader.table_number("", "notes", create=False)
            assert number is not None
            assert reader.statistics().documents >= 1
            with pytest.raises(PermissionError, match="read-only"):
                reader.save_state({"x": 1})
        finally:
            reader.close()


def test_a_file_that_is_not_a_store_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE mine (x)")
    with pytest.raises(StoreFormatError, match=r"not a convex_sim store \(it holds the tables"):
        Simulator(durable_app.make_app(), store=path)
    assert _dump(path) == ["BEGIN TRANSACTION;", "CREATE TABLE mine (x);", "COMMIT;"]


def _dump(path: Path) -> list[str]:
    import sqlite3

    connection = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()
