"""Every drawn schedule is a valid ``schedule=`` and its recorded choices replay it."""

from __future__ import annotations

from typing import Any

from hypothesis import find, given, note
from hypothesis import strategies as st

from convex_sim import Simulator
from convex_sim.executor import ScheduleSpec
from convex_sim.testing import choice_lists, drawn_chooser, schedules, seeds
from tests.apps import race_app

APP = race_app.make_app()
BUMP = (race_app.bump, {"name": "c"})
CALLS = [BUMP] * 3 + [(race_app.add_slot, {"n": 1})]


def _race(schedule: ScheduleSpec) -> tuple[str, list[Any], list[int]]:
    sim = Simulator(APP, seed=1)
    results = sim.concurrently(CALLS, schedule=schedule)
    return sim.trace.to_jsonl(), results, list(sim.last_chooser.choices)


@given(schedules())
def test_every_drawn_schedule_runs_and_its_choices_replay_it(schedule: int | list[int]) -> None:
    trace, results, choices = _race(schedule)
    assert sorted(results[:3]) == [1, 2, 3]
    assert _race(choices) == (trace, results, choices)


@given(st.data())
def test_a_drawn_chooser_records_choices_that_replay_the_run(data: st.DataObject) -> None:
    chooser = drawn_chooser(data)
    trace, results, choices = _race(chooser)
    note(chooser.reproducer())
    assert choices == chooser.choices
    assert len(choices) > 0, "a four-way race makes choices"
    assert _race(choices) == (trace, results, choices)


def test_a_race_found_by_drawing_replays_from_its_record() -> None:
    found: list[list[int]] = []

    def second_call_commits_first(data: st.DataObject) -> bool:
        sim = Simulator(APP, seed=1)
        results = sim.concurrently([BUMP, BUMP], schedule=drawn_chooser(data))
        if results != [2, 1]:
            return False
        found.append(list(sim.last_chooser.choices))
        return True

    find(st.data(), second_call_commits_first)
    assert found
    for choices in found:
        assert Simulator(APP, seed=1).concurrently([BUMP, BUMP], schedule=choices) == [2, 1]


def test_schedules_shrink_toward_always_the_first_runnable() -> None:
    assert find(schedules(), lambda schedule: True) == []
    assert find(choice_lists(), lambda choices: len(choices) >= 2) == [0, 0]
    assert find(seeds(), lambda seed: seed >= 2**32 - 1) == 2**32 - 1
