"""A hypothesis test: a fresh simulator per example from ``simulator_factory``."""

from convex_sim import components
from convex_sim.testing import seeds
from hypothesis import given, settings
from hypothesis import strategies as st

from tally import app


@settings(max_examples=25)
@given(amounts=st.lists(st.integers(1, 5), min_size=1, max_size=5), seed=seeds())
def test_concurrent_adds_keep_tally_and_ledger_equal(simulator_factory, amounts, seed) -> None:
    sim = simulator_factory()
    sim.concurrently([(app.add, {"name": "t", "by": amount}) for amount in amounts], schedule=seed)
    tally = sim.query(app.read, {"name": "t"})
    ledger = sim.run_function(components.ledger.ledger.balance, {"name": "t"})
    assert tally == ledger == sum(amounts)
