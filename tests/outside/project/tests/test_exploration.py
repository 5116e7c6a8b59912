"""Every interleaving of two adds: the count is right in each, and how many there were."""

from convex_sim import Simulator
from convex_sim.testing import explore_interleavings

from tally import app, make_app


def test_two_adds_are_right_in_every_interleaving() -> None:
    def run(chooser):
        sim = Simulator(make_app())
        sim.concurrently(
            [(app.add, {"name": "n", "by": 1}), (app.add, {"name": "n", "by": 2})],
            schedule=chooser,
        )
        return sim.query(app.read, {"name": "n"})

    exploration = explore_interleavings(run, check=lambda count: count == 3)
    assert exploration.runs > 1
