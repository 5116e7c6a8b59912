"""convex-semantics.md §4 (transactions and OCC), one execution at a time.

``sim.concurrently`` is not there yet, so conflicts are provoked with the OCC
probe of ``tests/apps/s4_probe.py``: the probe's body lets "another client"
(``sim.run``) commit while the probe's transaction is still open, then the
probe commits. What the probe read decides whether that commit conflicts,
which makes the read-set shapes of §4.2 observable from outside: a conflict is
a retry, a ``Conflict`` event naming table and index, and a second attempt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from convex_sim import (
    ConvexError,
    Id,
    OccFailureError,
    Simulator,
    api,
)
from convex_sim.trace import Retried
from tests.apps.s2_to_s5_app import insert, new_sim, read_all
from tests.apps.s4_probe import run_probe

Write = Callable[[Any], Awaitable[Any]]


@pytest.fixture
def sim() -> Simulator:
    return new_sim()


def _other_client(sim: Simulator, write: Write) -> Any:
    """Commit ``write`` now, as a concurrent client whose commit lands mid-probe."""
    return sim.run(write)


def _insert_item(name: str, n: float) -> Write:
    async def write(ctx: Any) -> Id:
        doc_id: Id = await ctx.db.insert("items", {"name": name, "n": n})
        return doc_id

    return write


def _patch(doc_id: str, fields: dict[str, Any]) -> Write:
    async def write(ctx: Any) -> None:
        await ctx.db.patch(doc_id, fields)

    return write


def _probe_with(sim: Simulator, read: Write, interfere: Write, *, write: bool = True) -> Any:
    """Run ``read`` in the probe; on the first attempt only, commit ``interfere`` after it."""

    async def body(ctx: Any, attempt: int) -> Any:
        result = await read(ctx)
        if attempt == 1:
            _other_client(sim, interfere)
        return result

    return run_probe(sim, body, write=write)


# -- §4.1 serializable -----------------------------------------------------------------------------


def test_4_1_a_lost_update_is_prevented_the_retry_reads_the_new_value(sim: Simulator) -> None:
    (counter,) = insert(sim, "counters", [{"name": "c", "value": 0}])

    async def bump(ctx: Any) -> None:
        row = await ctx.db.get(counter)
        await ctx.db.patch(counter, {"value": row["value"] + 1})

    async def body(ctx: Any, attempt: int) -> float:
        row = await ctx.db.get(counter)
        if attempt == 1:
            _other_client(sim, bump)
        await ctx.db.patch(counter, {"value": row["value"] + 10})
        return float(row["value"])

    outcome = run_probe(sim, body)
    assert outcome.attempts == 2
    assert outcome.result == 1.0  # the retry saw the other client's commit
    assert read_all(sim, "counters")[0]["value"] == 11.0  # neither update was lost
    assert sim.retries == {"s4_probe:probe": 1}


# -- §4.2 read-set shapes --------------------------------------------------------------------------


def test_4_2_get_records_a_point_on_by_id_even_when_the_result_is_null(sim: Simulator) -> None:
    created: list[Id] = []

    async def body(ctx: Any, attempt: int) -> bool:
        if attempt == 1:
            # Committed after this transaction began: invisible to it, but get reads its key.
            created.append(_other_client(sim, _insert_item("late", 1)))
        document = await ctx.db.get(created[0])
        return document is not None

    outcome = run_probe(sim, body)
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_id")]
    assert outcome.attempts == 2
    assert outcome.result is True  # the retry sees it


def test_4_2_a_get_reads_only_its_own_point(sim: Simulator) -> None:
    mine, other = insert(sim, "items", [{"name": "mine", "n": 1}, {"name": "other", "n": 2}])

    async def read(ctx: Any) -> Any:
        return (await ctx.db.get(mine))["n"]

    outcome = _probe_with(sim, read, _patch(other, {"n": 20}))
    assert outcome.conflicts == []
    assert outcome.attempts == 1

    outcome = _probe_with(sim, read, _patch(mine, {"n": 10}))
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_id")]
    assert outcome.result == 10.0


def _first_by_n(order: str = "asc") -> Write:
    async def read(ctx: Any) -> Any:
        row = await ctx.db.query("items").with_index("by_n").order(order).first()
        return None if row is None else row["n"]

    return read


def test_4_2_an_ascending_scan_reads_from_the_range_start_to_the_last_row_handed_out(
    sim: Simulator,
) -> None:
    insert(sim, "items", [{"name": "a", "n": 1}, {"name": "b", "n": 5}])
    outcome = _probe_with(sim, _first_by_n(), _insert_item("before", 0))
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_n")]
    assert outcome.result == 0.0


def test_4_2_a_descending_scan_reads_from_the_range_end_down_to_the_last_row(
    sim: Simulator,
) -> None:
    insert(sim, "items", [{"name": "a", "n": 1}, {"name": "b", "n": 5}])
    outcome = _probe_with(sim, _first_by_n("desc"), _insert_item("below", 3))
    assert outcome.conflicts == []
    assert outcome.result == 5.0
    outcome = _probe_with(sim, _first_by_n("desc"), _insert_item("above", 9))
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_n")]
    assert outcome.result == 9.0


def _names_a(ctx: Any) -> Any:
    return ctx.db.query("items").with_index("by_name", lambda q: q.eq("name", "a"))


def test_4_2_an_exhausted_scan_reads_the_whole_range(sim: Simulator) -> None:
    insert(sim, "items", [{"name": "a", "n": 1}, {"name": "a", "n": 2}, {"name": "b", "n": 3}])

    async def read(ctx: Any) -> int:
        return len(await _names_a(ctx).collect())

    outcome = _probe_with(sim, read, _insert_item("b", 4))  # outside the range
    assert outcome.conflicts == []
    outcome = _probe_with(sim, read, _insert_item("a", 9))  # after the last row, inside
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_name")]
    assert outcome.result == 3


def test_4_2_rows_a_filter_rejects_are_in_the_read_set(sim: Simulator) -> None:
    rejected, _, after = insert(
        sim,
        "items",
        [
            {"name": "r", "n": 1, "tag": "drop"},
            {"name": "k", "n": 2, "tag": "keep"},
            {"name": "k2", "n": 3, "tag": "keep"},
        ],
    )

    async def read(ctx: Any) -> Any:
        rows = (
            await ctx.db.query("items")
            .with_index("by_n")
            .filter(lambda q: q.eq(q.field("tag"), "keep"))
            .take(1)
        )
        return [row["n"] for row in rows]

    outcome = _probe_with(sim, read, _patch(after, {"meta": "beyond the returned row"}))
    assert outcome.conflicts == []
    assert outcome.result == [2.0]
    outcome = _probe_with(sim, read, _patch(rejected, {"meta": "rejected, but read"}))
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_n")]


@pytest.mark.parametrize("operation", ["patch", "replace", "delete"])
def test_4_2_patch_replace_and_delete_read_their_target(sim: Simulator, operation: str) -> None:
    target, bystander = insert(sim, "items", [{"name": "t", "n": 1}, {"name": "b", "n": 2}])

    def writer(doc_id: str) -> Write:
        async def write(ctx: Any) -> None:
            if operation == "delete":
                await ctx.db.delete(doc_id)
            elif operation == "patch":
                await ctx.db.patch(doc_id, {"tag": "probe"})
            else:
                await ctx.db.replace(doc_id, {"name": "replaced", "n": 7})

        return write

    outcome = _probe_with(sim, writer(bystander), _patch(target, {"tag": "first"}))
    assert outcome.conflicts == []
    outcome = _probe_with(sim, writer(target), _patch(target, {"tag": "second"}))
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_id")]
    assert outcome.attempts == 2


def test_4_2_two_inserts_never_conflict_with_each_other(sim: Simulator) -> None:
    insert(sim, "items", [{"name": "existing", "n": 0}])

    async def write(ctx: Any) -> None:
        await ctx.db.insert("items", {"name": "probe", "n": 1})

    outcome = _probe_with(sim, write, _insert_item("other", 1))
    assert outcome.conflicts == []
    assert outcome.attempts == 1
    assert sorted(row["name"] for row in read_all(sim, "items")) == ["existing", "other", "probe"]


# -- §4.3 consequences -----------------------------------------------------------------------------


def test_4_3_first_on_an_empty_range_covers_the_whole_range(sim: Simulator) -> None:
    insert(sim, "items", [{"name": "b", "n": 1}])

    async def read(ctx: Any) -> Any:
        row = await _names_a(ctx).first()
        return None if row is None else row["n"]

    outcome = _probe_with(sim, read, _insert_item("a", 1_000))
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_name")]
    assert outcome.result == 1_000.0


def test_4_3_unique_with_one_match_covers_the_whole_range(sim: Simulator) -> None:
    insert(sim, "items", [{"name": "a", "n": 1}, {"name": "b", "n": 2}])

    def delete(doc_id: str) -> Write:
        async def write(ctx: Any) -> None:
            await ctx.db.delete(doc_id)

        return write

    async def body(ctx: Any, attempt: int) -> Any:
        row = await _names_a(ctx).unique()
        if attempt == 1:
            # Another "a", sorting after the match, lives for one commit (so the retry's
            # unique() still finds a single row): that commit lands in the range read.
            late = _other_client(sim, _insert_item("a", 50))
            _other_client(sim, delete(late))
        return row["n"]

    outcome = run_probe(sim, body)
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_name")]
    assert outcome.result == 1.0


def test_4_3_take_one_does_not_conflict_with_an_insert_after_the_first_row(
    sim: Simulator,
) -> None:
    insert(sim, "items", [{"name": "a", "n": 1}, {"name": "b", "n": 5}])
    outcome = _probe_with(sim, _first_by_n(), _insert_item("between", 3))
    assert outcome.conflicts == []
    assert outcome.attempts == 1
    assert outcome.result == 1.0


# -- §4.4 the conflict rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "change", "conflicts"),
    [
        ("in", {"tag": "unindexed field"}, True),  # key unchanged, inside the interval
        ("out", {"name": "a"}, True),  # new key moves into the interval
        ("in", {"name": "z"}, True),  # old key was inside the interval
        ("out", {"tag": "unindexed field"}, False),  # both keys outside
        ("out", {"name": "c"}, False),  # moves, but never inside
    ],
)
def test_4_4_a_write_conflicts_if_its_old_or_new_key_lies_in_a_read_interval(
    sim: Simulator, who: str, change: dict[str, Any], conflicts: bool
) -> None:
    inside, outside = insert(sim, "items", [{"name": "a", "n": 1}, {"name": "b", "n": 2}])

    async def read(ctx: Any) -> int:
        return len(await _names_a(ctx).collect())

    target = inside if who == "in" else outside
    outcome = _probe_with(sim, read, _patch(target, change))
    expected = [("items", "by_name")] if conflicts else []
    assert [(c.table, c.index) for c in outcome.conflicts] == expected


# -- §4.5 read-only transactions -------------------------------------------------------------------


def test_4_5_a_mutation_that_writes_nothing_commits_without_conflict(sim: Simulator) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 1}])

    async def read(ctx: Any) -> Any:
        return (await ctx.db.get(doc_id))["n"]

    outcome = _probe_with(sim, read, _patch(doc_id, {"n": 2}), write=False)
    assert outcome.conflicts == []
    assert outcome.attempts == 1
    assert outcome.result == 1.0  # what its snapshot held
    assert sim.conflicts == {}


def test_4_5_a_query_never_sees_an_occ_error(sim: Simulator) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 1}])

    async def body(ctx: Any, attempt: int) -> Any:
        before = await ctx.db.query("items").collect()
        _other_client(sim, _patch(doc_id, {"n": 2}))
        _other_client(sim, _insert_item("b", 3))
        after = await ctx.db.get(doc_id)
        return [len(before), after["n"]]

    outcome = run_probe(sim, body, kind="query")
    assert outcome.attempts == 1
    assert outcome.conflicts == []
    assert outcome.result == [1, 1.0]  # a consistent snapshot, no error


# -- §4.6 retries ----------------------------------------------------------------------------------


def test_4_6_a_mutation_that_conflicts_every_time_fails_after_five_attempts(
    sim: Simulator,
) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "hot", "n": 0}])
    attempts = 0
    retries_before = len(sim.trace.of(Retried))

    async def body(ctx: Any, attempt: int) -> None:
        nonlocal attempts
        attempts = attempt
        await ctx.db.get(doc_id)
        _other_client(sim, _patch(doc_id, {"n": float(attempt)}))

    with pytest.raises(OccFailureError) as caught:
        run_probe(sim, body)
    assert attempts == 5
    error = caught.value
    assert error.code == "OptimisticConcurrencyControlFailure"
    message = str(error)
    assert message.startswith(
        'Documents read from or written to the "items" table changed while this mutation was '
        "being run and on every subsequent retry."
    )
    assert f'changed the document with ID "{doc_id}"' in message
    assert message.endswith("See https://docs.convex.dev/error#1")
    retried = sim.trace.of(Retried)[retries_before:]
    assert [event.attempt for event in retried] == [2, 3, 4, 5]
    for n, event in enumerate(retried):
        assert 0 <= event.backoff_ms <= min(100 * 2**n, 2_000)
        assert event.backoff_ms.is_integer(), "virtual time leaves the millisecond grid"
    assert [row["name"] for row in read_all(sim, "probe_marks")] == []


def test_4_6_each_attempt_reruns_from_scratch_with_a_new_random_seed(sim: Simulator) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 0}])
    draws: list[float] = []

    async def body(ctx: Any, attempt: int) -> None:
        draws.append(ctx.random.random())
        await ctx.db.get(doc_id)
        if attempt == 1:
            _other_client(sim, _patch(doc_id, {"n": 1}))

    outcome = run_probe(sim, body)
    assert outcome.attempts == 2
    assert len(draws) == 2
    assert draws[0] != draws[1]


def test_4_6_a_retry_starts_after_its_backoff_with_a_later_date_now(sim: Simulator) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 0}])
    times: list[float] = []
    retries_before = len(sim.trace.of(Retried))

    async def body(ctx: Any, attempt: int) -> None:
        times.append(ctx.now_ms)
        await ctx.db.get(doc_id)
        if attempt == 1:
            _other_client(sim, _patch(doc_id, {"n": 1}))

    run_probe(sim, body)
    (retry,) = sim.trace.of(Retried)[retries_before:]
    assert retry.backoff_ms > 0
    assert times[1] >= times[0] + retry.backoff_ms


def test_4_6_a_thrown_user_error_is_returned_and_never_retried(sim: Simulator) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 0}])
    attempts = 0

    async def body(ctx: Any, attempt: int) -> None:
        nonlocal attempts
        attempts = attempt
        await ctx.db.get(doc_id)
        await ctx.db.insert("items", {"name": "doomed", "n": 1})
        _other_client(sim, _patch(doc_id, {"n": 1}))
        raise ConvexError({"reason": "user error"})

    with pytest.raises(ConvexError) as caught:
        run_probe(sim, body)
    assert caught.value.data == {"reason": "user error"}
    assert attempts == 1
    assert sim.conflicts == {}
    assert "doomed" not in [row["name"] for row in read_all(sim, "items")]


# -- §4.7 snapshot reads ---------------------------------------------------------------------------


def test_4_7_snapshot_query_does_not_see_callers_pending_writes(sim: Simulator) -> None:
    insert(sim, "items", [{"name": "committed", "n": 0}])

    async def run(ctx: Any) -> Any:
        await ctx.db.insert("items", {"name": "pending", "n": 1})
        return {
            "snapshot": await ctx.run_query(api.s5_calls.all_names, {}, use_stale_snapshot=True),
            "normal": await ctx.run_query(api.s5_calls.all_names, {}),
        }

    assert sim.run(run) == {"snapshot": ["committed"], "normal": ["committed", "pending"]}


def test_4_7_snapshot_query_reads_at_the_callers_begin_timestamp(sim: Simulator) -> None:
    insert(sim, "items", [{"name": "before", "n": 0}])

    async def body(ctx: Any, attempt: int) -> Any:
        _other_client(sim, _insert_item(f"after-begin-{attempt}", 1))
        return await ctx.run_query(api.s5_calls.all_names, {}, use_stale_snapshot=True)

    outcome = run_probe(sim, body)
    assert outcome.result == ["before"]
    assert sorted(row["name"] for row in read_all(sim, "items")) == ["after-begin-1", "before"]


@pytest.mark.parametrize(("snapshot", "conflicts"), [(True, 0), (False, 1)])
def test_4_7_snapshot_query_adds_no_read_dependency(
    sim: Simulator, snapshot: bool, conflicts: int
) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "a", "n": 0}])

    async def read(ctx: Any) -> Any:
        row = await ctx.run_query(
            api.s5_calls.get_item, {"id": doc_id}, use_stale_snapshot=snapshot
        )
        return row["n"]

    outcome = _probe_with(sim, read, _patch(doc_id, {"n": 5}))
    assert len(outcome.conflicts) == conflicts
    assert outcome.attempts == 1 + conflicts


def test_4_7_only_mutations_may_use_a_stale_snapshot(sim: Simulator) -> None:
    with pytest.raises(Exception, match="`useStaleSnapshot` is only supported in mutations"):
        sim.query(api.s5_calls.query_uses_stale_snapshot, {})
