"""Failing on purpose: a careless add makes two tallies of a name, and says how to rerun it."""

from typing import Any

from convex_sim import Simulator
from convex_sim.testing import (
    ExecutionRecord,
    SimulatorMachine,
    drawn_chooser,
    explore_interleavings,
    recorded,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

from tally import app, make_app


async def tallies_named(db: Any, name: str = "n") -> int:
    return len([row for row in await db.query("tallies").collect() if row["name"] == name])


CARELESS_PAIR = [
    (app.add_from_snapshot, {"name": "n", "by": 1}),
    (app.add_from_snapshot, {"name": "n", "by": 2}),
]


def test_an_exploration_finds_the_second_tally() -> None:
    def run(chooser: Any) -> float:
        sim = Simulator(make_app())
        sim.concurrently(CARELESS_PAIR, schedule=chooser)
        return sim.peek(tallies_named)

    explore_interleavings(run, check=lambda tallies: tallies == 1)


@settings(max_examples=50, database=None)
@given(data=st.data())
def test_a_drawn_interleaving_finds_the_second_tally(simulator_factory: Any, data: Any) -> None:
    sim = simulator_factory()
    sim.concurrently(CARELESS_PAIR, schedule=drawn_chooser(data))
    assert sim.peek(tallies_named) == 1


class CarelessMachine(SimulatorMachine):
    """Careless adds race each other; a name must still have one tally."""

    def make_simulator(self) -> Simulator:
        return Simulator(make_app(), seed=self.seed)

    @rule(by=st.integers(1, 3))
    @recorded
    def add_carelessly(self, by: int) -> None:
        self.call_soon(app.add_from_snapshot, {"name": "m", "by": by})

    def check_after_step(self, new: list[ExecutionRecord]) -> None:
        tallies = self.sim.peek(lambda db: tallies_named(db, "m"))
        assert tallies <= 1, f"{tallies} tallies named 'm'"


TestCareless = CarelessMachine.TestCase
TestCareless.settings = settings(
    max_examples=100, stateful_step_count=10, deadline=None, database=None
)
