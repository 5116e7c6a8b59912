"""A state machine over the app: adds race scheduled adds, and nothing is lost."""

from typing import Any

from convex_sim import Simulator, components
from convex_sim.testing import ExecutionRecord, SimulatorMachine, recorded
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

from tally import app, make_app


class TallyMachine(SimulatorMachine):
    """Adds now and later; the tally and the ledger agree after every step."""

    def make_simulator(self) -> Simulator:
        return Simulator(make_app(), seed=self.seed)

    @rule(by=st.integers(1, 3))
    @recorded
    def add_now(self, by: int) -> None:
        self.call_soon(app.add, {"name": "m", "by": by})

    @rule(by=st.integers(1, 3), delay=st.sampled_from([0, 100, 1_000]))
    @recorded
    def add_later(self, by: int, delay: int) -> None:
        self.call_soon(app.add_later, {"name": "m", "by": by, "delayMs": delay})

    def check_after_step(self, new: list[ExecutionRecord]) -> None:
        tally = self.sim.query(app.read, {"name": "m"})
        ledger = self.sim.run_function(components.ledger.ledger.balance, {"name": "m"})
        assert tally == ledger, f"tally {tally} and ledger {ledger} disagree"

    def settle(self) -> None:
        self.start_queued_calls()
        self.sim.finish_all_scheduled_functions()


TestTally = TallyMachine.TestCase
TestTally.settings = settings(max_examples=15, stateful_step_count=8, deadline=None)


def test_the_machine_knows_its_rules() -> None:
    rules: Any = [name for name in dir(TallyMachine) if name.startswith("add_")]
    assert rules == ["add_later", "add_now"]
