"""A failing test's traceback shows the user's frames, not the emulator's machinery.

The plugin hides the emulator's frames when the user's code (or a misuse the
emulator reports) caused the failure, and keeps them when the emulator itself
broke, so a bug in it is still reported where it happened.
"""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

APP = """
import sys

import pytest

from convex_sim import define_app, mutation, query, v


@mutation(args={"n": v.number()})
async def record(ctx, args):
    await ctx.db.insert("things", {"n": args["n"]})
    if args["n"] > 1:
        raise ValueError(f"n is too big: {args['n']}")  # the user's line
    return None


@mutation(args={"n": v.number()})
async def record_twice(ctx, args):
    await ctx.run_mutation(record, {"n": args["n"]})


@query(args={})
async def count(ctx, args):
    return len(await ctx.db.query("things").collect())


@pytest.fixture
def convex_sim_app():
    return define_app(modules=[sys.modules[__name__]])
"""


def failure_text(pytester: pytest.Pytester, body: str, *options: str) -> str:
    pytester.makepyfile(test_user=APP + body)
    result = pytester.runpytest("-p", "no:cacheprovider", *options)
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    start = text.index("_ ", text.index("= FAILURES ="))
    marker = (
        " convex_sim reproducer " if " convex_sim reproducer " in text else " short test summary"
    )
    end = text.rindex("\n", 0, text.index(marker))
    return text[start:end]


def lines(report: str) -> list[str]:
    return report.strip("\n").splitlines()


def emulator_frames(report: str) -> list[str]:
    return re.findall(r"^\S*convex_sim/\S+\.py:\d+", report, flags=re.MULTILINE)


def test_a_handler_that_raises_shows_the_test_and_the_handler_only(
    pytester: pytest.Pytester,
) -> None:
    report = failure_text(
        pytester,
        """
def test_recording(simulator):
    simulator.mutation(record, {"n": 1})
    simulator.mutation(record, {"n": 2})
""",
    )
    assert len(lines(report)) <= 25, report
    assert 'simulator.mutation(record, {"n": 2})' in report
    assert "# the user's line" in report
    assert "ValueError: n is too big: 2" in report
    assert emulator_frames(report) == [], report


def test_a_nested_call_shows_each_user_frame_on_the_way(pytester: pytest.Pytester) -> None:
    report = failure_text(
        pytester,
        """
def test_nested(simulator):
    simulator.mutation(record_twice, {"n": 5})
""",
    )
    assert len(lines(report)) <= 25, report
    assert "await ctx.run_mutation(record" in report
    assert "# the user's line" in report
    assert emulator_frames(report) == [], report


def test_a_misuse_reported_by_the_emulator_shows_the_users_call(
    pytester: pytest.Pytester,
) -> None:
    report = failure_text(
        pytester,
        """
def test_misuse(simulator):
    simulator.mutation(record, {"n": "three"})
""",
    )
    assert len(lines(report)) <= 25, report
    assert 'simulator.mutation(record, {"n": "three"})' in report
    assert "ValidationError" in report
    assert emulator_frames(report) == [], report


def test_a_failed_exploration_check_shows_the_users_check(pytester: pytest.Pytester) -> None:
    report = failure_text(
        pytester,
        """
from convex_sim.testing import explore_interleavings


def test_exploring(convex_sim_app):
    from convex_sim import Simulator

    def run(chooser):
        sim = Simulator(convex_sim_app)
        sim.concurrently([(record, {"n": 0}), (record, {"n": 1})], schedule=chooser)
        return sim.query(count, {})

    explore_interleavings(run, check=lambda n: n == 3)
""",
    )
    assert len(lines(report)) <= 25, report
    assert "explore_interleavings(run, check=lambda n: n == 3)" in report
    assert "check <lambda> returned False" in report or "returned False" in report
    assert emulator_frames(report) == [], report


def test_a_failing_state_machine_shows_the_users_check(pytester: pytest.Pytester) -> None:
    # A machine's TestCase is a unittest test: pytest hands over its failure later
    # than a plain test's, and the emulator's frames must be hidden all the same.
    report = failure_text(
        pytester,
        """
from hypothesis import settings
from hypothesis.stateful import rule

from convex_sim import Simulator
from convex_sim.testing import SimulatorMachine, recorded


class Machine(SimulatorMachine):
    def make_simulator(self):
        return Simulator(define_app(modules=[sys.modules[__name__]]), seed=self.seed)

    @rule()
    @recorded
    def record_two(self):
        self.sim.mutation(record, {"n": 0})
        self.sim.mutation(record, {"n": 0})

    def check_after_step(self, new):
        assert self.sim.query(count, {}) < 2, "two things recorded"  # the user's check


TestMachine = Machine.TestCase
TestMachine.settings = settings(max_examples=5, database=None)
""",
    )
    assert "# the user's check" in report
    assert "convex-sim replay: {" in report
    assert emulator_frames(report) == [], report


def test_when_the_emulator_itself_breaks_its_frames_stay(pytester: pytest.Pytester) -> None:
    report = failure_text(
        pytester,
        """
def test_broken_emulator(simulator):
    simulator.clock._now_ms = "soon"  # corrupt the emulator's own state
    simulator.mutation(record, {"n": 1})
""",
    )
    frames = emulator_frames(report)
    assert any("convex_sim/simulator.py" in frame for frame in frames), report
    assert len(frames) >= 3, report  # down to where it broke
    assert "TypeError" in report


def test_full_trace_shows_every_frame(pytester: pytest.Pytester) -> None:
    report = failure_text(
        pytester,
        """
def test_recording(simulator):
    simulator.mutation(record, {"n": 2})
""",
        "--full-trace",
    )
    frames = emulator_frames(report)
    assert any("convex_sim/simulator.py" in frame for frame in frames), report
    assert any("convex_sim/executor.py" in frame for frame in frames), report
    assert "# the user's line" in report
