"""The story's world (documents and scheduled functions rebuilt from the trace) is the database's.

If the replay of committed writes drifted from what the database holds, every
explanation built on it (a ping's decision, a loop's generation) would be
wrong; so it is compared with the database itself, after every scenario and
after random runs.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim import Simulator
from convex_sim.convex_json import to_json
from convex_sim.story import World
from convex_sim.trace import Trace
from example import example, make_app
from example.scenarios import SCENARIOS
from tests.apps.s2_to_s5_app import new_sim

TABLES = [
    ("", "events"),
    ("", "totals"),
    ("batchWorker", "workers"),
    ("batchWorker", "workerState"),
]


def _database(sim: Simulator, component: str, table: str) -> list[Any]:
    async def read(db: Any) -> list[Any]:
        return list(await db.query(table).collect())

    rows = sim.peek(read, component=component or None)
    return sorted((to_json(row) for row in rows), key=lambda row: row["_id"])


def _replayed(trace: Trace, component: str, table: str) -> list[Any]:
    world = World(trace)
    rows = [to_json(row) for row in world.documents(component, table, len(trace))]
    return sorted(rows, key=lambda row: row["_id"])


def _jobs(sim: Simulator) -> dict[str, str]:
    rows = sim.scheduled_functions(component="batchWorker")
    return {str(row["_id"]): row["state"]["kind"] for row in rows}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_after_each_scenario_the_replayed_documents_are_the_databases(name: str) -> None:
    sim = SCENARIOS[name].run().sim
    for component, table in TABLES:
        assert _replayed(sim.trace, component, table) == _database(sim, component, table), (
            f"{name}: {component}/{table}"
        )
    world = World(sim.trace)
    replayed = {row.job: row.states[-1][1] for row in world.jobs}
    for job, state in _jobs(sim).items():
        assert replayed[job] == state, f"{name}: job {job}"


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 1_000),
    script=st.lists(
        st.sampled_from(["add", "add", "advance", "stop", "start", "burst"]),
        min_size=1,
        max_size=12,
    ),
)
def test_after_random_runs_the_replayed_documents_are_the_databases(
    seed: int, script: list[str]
) -> None:
    sim = Simulator(make_app(), seed=seed)
    value = 0
    for action in script:
        if action in ("add", "burst"):
            calls = [(example.add_event, {"value": value + n}) for n in range(3)]
            if action == "burst":
                calls.append((example.stop_worker, {}))
            sim.concurrently(calls[: 1 if action == "add" else None])
            value += 3
        elif action == "advance":
            sim.advance(700)
        else:
            sim.mutation(example.stop_worker if action == "stop" else example.start_worker, {})
    sim.advance(5_000)
    for component, table in TABLES:
        assert _replayed(sim.trace, component, table) == _database(sim, component, table)


def test_a_nested_call_that_raised_and_was_caught_left_nothing_in_the_world() -> None:
    from convex_sim import internal

    sim = new_sim()

    async def run(ctx: Any) -> Any:
        return await ctx.run_mutation(internal.s5_calls.add_and_call_failing, {"name": "middle"})

    assert sim.run(run) == "caught"
    names = [row["name"] for row in World(sim.trace).documents("", "items", len(sim.trace))]
    assert names == ["middle"]
    assert _database(sim, "", "items")[0]["name"] == "middle"
    assert list(World(sim.trace).jobs) == []  # the failed call's schedule was rolled back too


def test_a_saved_trace_replays_into_the_same_world(tmp_path: Any) -> None:
    sim = SCENARIOS["stop-start"].run().sim
    path = tmp_path / "run.jsonl"
    sim.trace.write_jsonl(path)
    saved = Trace.read_jsonl(path)
    for component, table in TABLES:
        assert _replayed(saved, component, table) == _replayed(sim.trace, component, table)
