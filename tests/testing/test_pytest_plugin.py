"""The pytest plugin: a seeded simulator fixture, and a reproducer when a test fails."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

APP_FIXTURE = """
import pytest

from tests.apps import race_app


@pytest.fixture
def convex_sim_app():
    return race_app.make_app()
"""


def test_the_seed_option_seeds_the_simulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        APP_FIXTURE
        + """
def test_seeded(simulator, convex_sim_seed):
    assert simulator.seed == convex_sim_seed == 7


def test_fresh_each_time(simulator):
    assert simulator.mutation(race_app.bump, {"name": "c"}) == 1
"""
    )
    result = pytester.runpytest("--convex-sim-seed", "7")
    result.assert_outcomes(passed=2)


def test_the_default_seed_is_zero(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        APP_FIXTURE
        + """
def test_seeded(simulator):
    assert simulator.seed == 0
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_failing_test_reports_the_seed_the_schedule_and_the_rerun_command(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_race=APP_FIXTURE
        + """
BUMP = (race_app.bump, {"name": "c"})


def test_race(simulator):
    simulator.concurrently([BUMP, BUMP], schedule=[1, 0, 1])
    assert False, "the race was lost"


def test_passes(simulator):
    pass
"""
    )
    result = pytester.runpytest("--convex-sim-seed", "3")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*the race was lost*",
            "*- convex_sim reproducer -*",
            "seed: 3",
            "last schedule: schedule=[[]1, 0, 1*",
            "rerun: pytest 'test_race.py::test_race' --convex-sim-seed 3",
        ]
    )
    assert result.stdout.str().count("convex_sim reproducer") == 1


def test_the_rerun_command_replays_the_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_seeded_race=APP_FIXTURE
        + """
def test_race(simulator):
    results = simulator.concurrently([(race_app.bump, {"name": "c"})] * 2)
    assert results == [1, 2], repr(results)
"""
    )
    outcomes = {
        seed: pytester.runpytest("--convex-sim-seed", str(seed)).parseoutcomes()
        for seed in range(8)
    }
    failing = [seed for seed, outcome in outcomes.items() if outcome.get("failed")]
    assert failing, "some seed makes the second call commit first"
    seed = failing[0]
    again = pytester.runpytest("test_seeded_race.py::test_race", "--convex-sim-seed", str(seed))
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines([f"seed: {seed}", "*AssertionError: [[]2, 1[]]*"])


def test_without_an_app_fixture_the_error_says_what_to_define(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
def test_needs_app(simulator):
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*define a fixture named convex_sim_app*define_app(...)*"])
    assert "convex_sim reproducer" not in result.stdout.str()
