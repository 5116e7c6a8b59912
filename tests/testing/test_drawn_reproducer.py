"""A failing ``@given`` test with a drawn chooser prints the ``schedule=`` that reruns it."""

from __future__ import annotations

import ast
import re

import pytest

from convex_sim import Simulator
from tests.apps import race_app

pytest_plugins = ["pytester"]

FAILING_RACE = """
from hypothesis import given, settings, strategies as st

from convex_sim import Simulator
from convex_sim.testing import drawn_chooser
from tests.apps import race_app


@settings(database=None, derandomize=True)
@given(st.data())
def test_first_call_commits_first(data):
    sim = Simulator(race_app.make_app(), seed=1)
    bump = (race_app.bump, {"name": "c"})
    assert sim.concurrently([bump, bump], schedule=drawn_chooser(data)) == [1, 2]
"""


def failure_report(result: pytest.RunResult) -> list[str]:
    """The FAILURES section only: with ``CI`` set, pytest repeats whole messages in its summary."""
    lines = result.outlines
    ends = [i for i, line in enumerate(lines) if "short test summary info" in line]
    return lines[: ends[0]] if ends else lines


def test_the_failing_example_ends_with_one_schedule_line_that_reruns_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_race=FAILING_RACE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    lines = [line for line in failure_report(result) if "drawn interleaving: schedule=" in line]
    assert len(lines) == 1, result.stdout.str()
    found = re.search(r"drawn interleaving: schedule=(\[[\d, ]*\])$", lines[0])
    assert found is not None, lines[0]
    schedule = ast.literal_eval(found.group(1))
    bump = (race_app.bump, {"name": "c"})
    rerun = Simulator(race_app.make_app(), seed=1).concurrently([bump, bump], schedule=schedule)
    assert rerun == [2, 1]


def test_a_passing_run_prints_no_schedule(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_race=FAILING_RACE.replace("== [1, 2]", "in ([1, 2], [2, 1])"))
    result = pytester.runpytest("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    assert "drawn interleaving" not in result.stdout.str()
