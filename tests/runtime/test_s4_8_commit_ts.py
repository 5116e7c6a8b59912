"""§4.8: ``ctx.db.vars.commit_ts`` becomes the commit timestamp (int64 ns) at commit."""

from __future__ import annotations

import pytest

from convex_sim import Simulator, ValidationError, v
from convex_sim.scheduler import SchedulingError
from convex_sim.values import COMMIT_TS
from tests.apps import commit_ts_app


@pytest.fixture
def sim() -> Simulator:
    return Simulator(commit_ts_app.make_app(), seed=0)


def test_4_8_placeholder_reads_back_as_itself_and_sorts_as_int64_max(sim: Simulator) -> None:
    result = sim.mutation(commit_ts_app.stamp, {"n": 1})
    assert result["readBackIsPlaceholder"] is True
    assert result["own"] == 2  # eq on the placeholder finds this transaction's own rows
    assert result["numericUseFails"] is True


def test_4_8_writes_resolve_to_one_strictly_increasing_int64_per_transaction(
    sim: Simulator,
) -> None:
    first = sim.mutation(commit_ts_app.stamp, {"n": 1})["ts"]
    second = sim.mutation(commit_ts_app.stamp, {"n": 2})["ts"]
    assert type(first) is int
    assert type(second) is int
    assert first < second
    assert first >= int(sim.now * 1_000_000) - 1_000_000  # nanoseconds, near the clock
    rows = sim.query(commit_ts_app.all_stamps)
    assert sorted(rows) == [[first, 1], [first, 1], [second, 2], [second, 2]]


def test_4_8_placeholder_passes_through_nested_mutations(sim: Simulator) -> None:
    returned = sim.mutation(commit_ts_app.via_nested)
    (row,) = sim.query(commit_ts_app.all_stamps)
    assert returned == row[0]
    assert type(returned) is int


def test_4_8_placeholder_cannot_be_a_scheduled_argument_or_query_result(sim: Simulator) -> None:
    with pytest.raises(SchedulingError, match="cannot be passed to a scheduled function"):
        sim.mutation(commit_ts_app.schedule_with_placeholder)
    assert sim.scheduled_functions() == []
    with pytest.raises(ValidationError, match="cannot be returned from a query"):
        sim.query(commit_ts_app.query_returning_placeholder)


def test_4_8_commit_ts_validator_accepts_int64_or_the_placeholder() -> None:
    assert v.commit_ts().validate(5) == 5
    assert v.commit_ts().validate(COMMIT_TS) is COMMIT_TS
    with pytest.raises(ValidationError):
        v.commit_ts().validate(5.0)
    with pytest.raises(ValidationError):
        v.int64().validate(COMMIT_TS)
