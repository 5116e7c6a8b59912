"""``simulator_factory``: a fresh seeded simulator per call, accepted inside ``@given``."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

APP_FIXTURE = """
import pytest
from pathlib import Path
from hypothesis import given, settings, strategies as st

from tests.apps import race_app


@pytest.fixture
def convex_sim_app():
    return race_app.make_app()


async def counter(db):
    cells = await db.query("cells").collect()
    return cells[0]["value"] if cells else 0
"""


def test_the_factory_works_inside_given_and_each_example_starts_empty(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        APP_FIXTURE
        + """
@settings(max_examples=15, database=None)
@given(bumps=st.integers(0, 3))
def test_fresh_per_example(simulator_factory, bumps):
    sim = simulator_factory()
    for _ in range(bumps):
        sim.mutation(race_app.bump, {"name": "c"})
    assert sim.peek(counter) == bumps
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_simulator_fixture_inside_given_is_still_refused_by_hypothesis(
    pytester: pytest.Pytester,
) -> None:
    # Why the factory exists: one simulator would be shared by every example.
    pytester.makepyfile(
        APP_FIXTURE
        + """
@given(bumps=st.integers(0, 3))
def test_shared(simulator, bumps):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*uses a function-scoped fixture 'simulator'*"])


def test_the_factory_seeds_from_the_option_unless_told_otherwise(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        APP_FIXTURE
        + """
def test_seeds(simulator_factory, convex_sim_seed):
    assert simulator_factory().seed == convex_sim_seed == 5
    assert simulator_factory(seed=2).seed == 2
    assert simulator_factory() is not simulator_factory()


def test_store_paths_are_opened_and_closed(simulator_factory):
    sim = simulator_factory(store=Path("deployment.db"))
    sim.mutation(race_app.bump, {"name": "c"})
    restarted = simulator_factory(store="deployment.db")
    assert sim.closed
    assert restarted.peek(counter) == 1
    restarted.mutation(race_app.bump, {"name": "c"})


def test_the_store_left_open_is_closed_when_the_test_ends():
    from convex_sim import Simulator

    reopened = Simulator(race_app.make_app(), store="deployment.db")
    assert reopened.peek(counter) == 2
    reopened.close()
"""
    )
    pytester.runpytest("-p", "no:cacheprovider", "--convex-sim-seed", "5").assert_outcomes(
        passed=3
    )


def test_a_failing_given_test_reports_the_last_simulator_made(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_race=APP_FIXTURE
        + """
BUMP = (race_app.bump, {"name": "c"})


@settings(database=None, derandomize=True)
@given(schedule=st.lists(st.integers(0, 1), max_size=6))
def test_first_call_commits_first(simulator_factory, schedule):
    sim = simulator_factory()
    assert sim.concurrently([BUMP, BUMP], schedule=schedule) == [1, 2]
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- convex_sim reproducer -*",
            "seed: 0",
            "last schedule: schedule=[[]1*",
            "rerun: pytest 'test_race.py::test_first_call_commits_first' --convex-sim-seed 0",
        ]
    )


def test_the_factory_refuses_calls_after_its_test_ended(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        APP_FIXTURE
        + """
KEPT = []


def test_keeps_it(simulator_factory):
    KEPT.append(simulator_factory)


def test_calls_it_later():
    with pytest.raises(RuntimeError, match="outside the test that requested it"):
        KEPT[0]()
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_tests_that_use_no_simulator_need_no_app(pytester: pytest.Pytester) -> None:
    # The binding runs for every test; it must not ask for convex_sim_app unless needed.
    pytester.makepyfile("def test_plain():\n    pass\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
