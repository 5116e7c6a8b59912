"""The trace: JSON-lines export that reads back equal, every event kind, per-execution views.

One scenario (``run_scenario``) makes every kind of event happen: client
calls with int64/float/bytes values, a log line, scheduling, a cancel, a
failed mutation, an OCC conflict and its retry, clock jumps and job state
changes.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from convex_sim import ConvexError, Simulator, Trace, ValidationError, define_app
from convex_sim.trace import (
    Committed,
    Conflict,
    ExecutionStarted,
    Finished,
    FunctionScheduled,
    Retried,
)
from tests.apps import sim_trace

EVERY_KIND = {
    "start",
    "read",
    "write",
    "schedule",
    "cancel",
    "job",
    "commit",
    "finish",
    "failure",
    "conflict",
    "retry",
    "log",
    "clock",
}
KEPT = {"i": 2**63 - 1, "f": -0.0, "b": bytes(range(256)), "s": "ünïcode ✓ \x00"}
CANCELED = {"i": -(2**63), "f": math.inf, "b": b"", "s": ""}


def run_scenario(seed: int = 0) -> Simulator:
    sim = Simulator(define_app(modules=[sim_trace]), seed=seed)
    sim.mutation(sim_trace.store_values, KEPT)
    doomed = sim.mutation(sim_trace.store_values, CANCELED)
    sim.mutation(sim_trace.cancel_job, {"id": doomed["job"]})
    with pytest.raises(ConvexError):
        sim.mutation(sim_trace.fail)
    sim.mutation(sim_trace.bump)
    # Both read the tally, then both commit: the second conflicts and retries.
    results = sim.concurrently(
        [(sim_trace.bump, {}), (sim_trace.bump, {})], schedule=[0, 1, 0, 1, 0, 1, 0, 1]
    )
    assert sorted(results) == [2, 3]
    assert sim.finish_all_scheduled_functions() == 1
    return sim


def started(trace: Trace, function: str) -> list[ExecutionStarted]:
    return [e for e in trace.of(ExecutionStarted) if e.function == function]


def test_trace_round_trips_through_jsonl() -> None:
    sim = run_scenario()
    text = sim.trace.to_jsonl()
    back = Trace.from_jsonl(text)
    assert back == sim.trace
    assert len(back) == len(sim.trace)
    assert back.to_jsonl() == text
    assert [event.seq for event in back] == list(range(len(back)))


def test_trace_round_trip_keeps_int64_float_and_bytes_exactly() -> None:
    sim = run_scenario()
    back = Trace.from_jsonl(sim.trace.to_jsonl())

    first, second = (e.args for e in started(back, "sim_trace:store_values"))
    assert first == KEPT
    assert type(first["i"]) is int
    assert first["i"] == 2**63 - 1
    assert type(first["f"]) is float
    assert math.copysign(1.0, first["f"]) == -1.0  # -0.0 stays negative zero
    assert type(first["b"]) is bytes
    assert second["i"] == -(2**63)
    assert second["f"] == math.inf

    # Results too: the echo job's result comes back as the values it was given.
    (echo,) = started(back, "sim_trace:echo")
    (finished,) = [e for e in back.of(Finished) if e.execution == echo.execution]
    assert finished.result == KEPT
    assert type(finished.result["i"]) is int
    assert type(finished.result["b"]) is bytes
    scheduled = [e.args for e in back.of(FunctionScheduled)]
    assert scheduled == [KEPT, CANCELED]


def test_trace_jsonl_is_one_json_object_per_line() -> None:
    sim = run_scenario()
    lines = sim.trace.to_jsonl().splitlines()
    assert len(lines) == len(sim.trace)
    decoded = [json.loads(line) for line in lines]
    assert [d["kind"] for d in decoded] == [event.kind for event in sim.trace]
    assert [d["seq"] for d in decoded] == list(range(len(lines)))


def test_trace_write_and_read_jsonl_through_a_file(tmp_path: Path) -> None:
    sim = run_scenario()
    path = tmp_path / "trace.jsonl"
    sim.trace.write_jsonl(path)
    assert path.read_text(encoding="utf-8") == sim.trace.to_jsonl()
    assert Trace.read_jsonl(path) == sim.trace
    assert Trace.read_jsonl(str(path)) == sim.trace


def test_trace_every_event_kind_that_occurred_is_present() -> None:
    sim = run_scenario()
    back = Trace.from_jsonl(sim.trace.to_jsonl())
    kinds = Counter(event.kind for event in sim.trace)
    assert set(kinds) == EVERY_KIND
    assert Counter(event.kind for event in back) == kinds
    for kind in EVERY_KIND:
        assert [type(e) for e in back if e.kind == kind] == [
            type(e) for e in sim.trace if e.kind == kind
        ]


def test_trace_events_for_one_execution() -> None:
    sim = run_scenario()
    store = started(sim.trace, "sim_trace:store_values")[0]
    events = sim.trace.for_execution(store.execution)

    assert {e.execution for e in events} == {store.execution}
    assert events[0] == store
    assert {"start", "write", "log", "schedule", "commit", "finish"} <= {e.kind for e in events}
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    # The job it scheduled ran as another execution, with events of its own.
    (echo,) = started(sim.trace, "sim_trace:echo")
    assert echo.execution != store.execution
    assert all(e.execution == echo.execution for e in sim.trace.for_execution(echo.execution))
    assert echo.job == sim.trace.of(FunctionScheduled)[0].job

    # Executions partition the trace, and the read-back trace gives the same views.
    back = Trace.from_jsonl(sim.trace.to_jsonl())
    executions = {e.execution for e in sim.trace}
    assert sum(len(sim.trace.for_execution(x)) for x in executions) == len(sim.trace)
    for execution in executions:
        assert back.for_execution(execution) == sim.trace.for_execution(execution)


def test_trace_of_a_read_back_trace_is_typed() -> None:
    sim = run_scenario()
    back: Any = Trace.from_jsonl(sim.trace.to_jsonl())
    assert back.of(ExecutionStarted) == sim.trace.of(ExecutionStarted)
    assert [e.function for e in back.of(ExecutionStarted)][:2] == [
        "sim_trace:store_values",
        "sim_trace:store_values",
    ]


# -- what the events say about an execution (convex_sim/trace.py's own contract) ----------------


def test_trace_a_mutation_finishes_after_its_commit() -> None:
    # trace.py: Finished is "An execution returned (after its commit, for mutations)".
    sim = run_scenario()
    commits = {e.execution: e.seq for e in sim.trace.of(Committed)}
    finishes = {e.execution: e.seq for e in sim.trace.of(Finished)}
    mutations = {
        e.execution for e in sim.trace.of(ExecutionStarted) if e.function_type == "mutation"
    }
    for execution in mutations & set(commits):
        assert finishes[execution] > commits[execution], f"execution {execution}"
    # An attempt that lost an OCC race never committed, so it never finished either.
    (conflict,) = sim.trace.of(Conflict)
    assert conflict.execution not in finishes


def test_trace_a_retry_starts_with_its_attempt_number() -> None:
    sim = run_scenario()
    (retry,) = sim.trace.of(Retried)
    assert retry.attempt == 2
    (conflicted,) = [e for e in sim.trace.of(ExecutionStarted) if e.execution == retry.execution]
    assert conflicted.attempt == 1
    rerun = next(
        e
        for e in sim.trace.of(ExecutionStarted)
        if e.seq > retry.seq and e.function == conflicted.function
    )
    assert rerun.attempt == retry.attempt


def test_trace_shows_arguments_as_validated_or_as_given_when_rejected() -> None:
    sim = Simulator(define_app(modules=[sim_trace]), seed=0)
    given = {**KEPT, "f": 5}  # v.float64() takes the int and hands the handler 5.0
    sim.mutation(sim_trace.store_values, given)
    (accepted,) = started(sim.trace, "sim_trace:store_values")
    assert type(accepted.args["f"]) is float
    assert accepted.args == {**KEPT, "f": 5.0}
    given["s"] = 7  # mutating the caller's dict afterwards leaves the trace alone
    assert accepted.args["s"] == KEPT["s"]

    with pytest.raises(ValidationError):
        sim.mutation(sim_trace.store_values, {**KEPT, "s": 7})
    rejected = started(sim.trace, "sim_trace:store_values")[-1]
    assert rejected.args["s"] == 7
    assert [type(e).__name__ for e in sim.trace.for_execution(rejected.execution)] == [
        "ExecutionStarted",
        "Failed",
    ]
