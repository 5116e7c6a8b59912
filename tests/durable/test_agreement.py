"""A deployment closed and reopened between every call behaves as one that stayed open.

The same random program of client calls, scheduled mutations and actions,
and clock moves runs on a memory simulator that stays open and on a SQLite
simulator that is closed and reopened (same seed) before every step; after
each step both hold the same documents, ids and creation times included,
the same scheduled-function rows and the same clock. Whatever a simulator
kept only in memory and failed to carry across a reopen shows up here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim import Simulator
from tests.apps import durable_app

steps = st.lists(
    st.one_of(
        st.tuples(st.just("note"), st.sampled_from(["a", "b", "c"])),
        st.tuples(st.just("bump"), st.sampled_from([0, 10, 500])),
        st.tuples(st.just("race"), st.sampled_from([0, 10])),
        st.tuples(st.just("action"), st.sampled_from([0, 10, 500])),
        st.tuples(st.just("advance"), st.sampled_from([0, 5, 10, 600, 7 * 24 * 3_600_000])),
        st.tuples(st.just("finish"), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)


def apply(sim: Simulator, step: tuple[str, Any]) -> None:
    kind, value = step
    if kind == "note":
        sim.mutation(durable_app.add_note, {"body": value})
    elif kind == "bump":
        sim.mutation(durable_app.schedule_bump, {"delayMs": value})
    elif kind == "race":
        sim.mutation(durable_app.schedule_bump, {"delayMs": value, "count": 3})
    elif kind == "action":
        sim.mutation(durable_app.schedule_action, {"delayMs": value})
    elif kind == "advance":
        sim.advance(value)
    else:
        sim.finish_all_scheduled_functions()


def state(sim: Simulator) -> tuple[Any, ...]:
    async def read(db: Any) -> list[Any]:
        return [
            [(str(doc["_id"]), doc) for doc in await db.query(table).collect()]
            for table in ("notes", "counters")
        ]

    return sim.now, sim.peek(read), sim.scheduled_functions()


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("agreement")
    return (directory / f"example{n}.sqlite" for n in itertools.count())


@settings(max_examples=60)
@given(program=steps, seed=st.integers(0, 3))
def test_reopening_between_every_step_changes_nothing(
    paths: Iterator[Path], program: list[tuple[str, Any]], seed: int
) -> None:
    path = next(paths)
    with Simulator(durable_app.make_app(), seed=seed) as kept_open:
        for step in program:
            apply(kept_open, step)
            with Simulator(durable_app.make_app(), store=path, seed=seed) as reopened:
                apply(reopened, step)
                assert state(reopened) == state(kept_open)
