"""Plain pytest tests through the plugin's ``simulator`` fixture."""

from convex_sim import Simulator, components

from tally import app


def test_add_counts_and_tells_the_ledger(simulator: Simulator) -> None:
    assert simulator.mutation(app.add, {"name": "apples", "by": 2}) == 2
    assert simulator.mutation(app.add, {"name": "apples", "by": 3}) == 5
    assert simulator.query(app.read, {"name": "apples"}) == 5
    # The ledger's table is its own: the app reaches it only through the component's functions.
    assert simulator.run_function(components.ledger.ledger.balance, {"name": "apples"}) == 5


def test_a_scheduled_add_runs_at_its_time(simulator: Simulator) -> None:
    start = simulator.now
    simulator.mutation(app.add_later, {"name": "pears", "by": 4, "delayMs": 1_500})
    simulator.advance(1_499)
    assert simulator.query(app.read, {"name": "pears"}) == 0
    simulator.advance(1)
    assert simulator.query(app.read, {"name": "pears"}) == 4
    assert simulator.now - start == 1_500


def test_names_page_with_a_number_argument(simulator: Simulator) -> None:
    for name in ("a", "b", "c"):
        simulator.mutation(app.add, {"name": name, "by": 1})
    first = simulator.query(app.names, {"paginationOpts": {"numItems": 2.0, "cursor": None}})
    rest = simulator.query(
        app.names, {"paginationOpts": {"numItems": 2, "cursor": first["continueCursor"]}}
    )
    assert first["page"] + rest["page"] == ["a", "b", "c"]
    assert rest["isDone"]


def test_concurrent_adds_conflict_retry_and_lose_nothing(simulator: Simulator) -> None:
    results = simulator.concurrently(
        [(app.add, {"name": "figs", "by": 1}) for _ in range(4)], schedule=3
    )
    assert sorted(results) == [1, 2, 3, 4]
    assert simulator.query(app.read, {"name": "figs"}) == 4
    assert simulator.retries, "four adds of one tally at once should have conflicted"
