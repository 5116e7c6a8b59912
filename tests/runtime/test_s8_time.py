"""convex-semantics.md §8.1, end to end: frozen ``Date.now()`` and seeded ``Math.random``.

To show that time is frozen *during* an execution, the mutation is driven a
checkpoint at a time (``tests/apps/sim_stepping.py``) while the test moves the
virtual clock between its steps.
"""

from __future__ import annotations

import pytest

from convex_sim import Simulator, define_app
from tests.apps import s8_time
from tests.apps.sim_stepping import start_mutation


def make_sim(seed: int = 0) -> Simulator:
    return Simulator(define_app(modules=[s8_time]), seed=seed)


def test_8_1_now_frozen_during_an_execution_and_fresh_for_the_next() -> None:
    sim = make_sim()
    started_at = sim.now
    execution = start_mutation(sim, s8_time.observe_time)
    steps = 0
    while execution.step():
        sim.advance(1000)  # time passes for everyone else while it is suspended
        steps += 1
    assert steps >= 3
    assert sim.now == started_at + 1000 * steps
    # Every read of Date.now() (ctx.now_ms, convex_sim.now(), a nested query's) saw
    # the time the execution started at.
    assert execution.result == [started_at] * len(execution.result)

    # The next execution starts from the clock as it is now.
    later = sim.mutation(s8_time.observe_time)
    assert later == [sim.now] * len(later)
    assert sim.query(s8_time.now_in_query) == sim.now


def test_8_1_now_follows_the_virtual_clock_between_executions() -> None:
    sim = make_sim()
    first = sim.mutation(s8_time.observe_time)[0]
    sim.advance(250)
    second = sim.mutation(s8_time.observe_time)[0]
    assert second - first == 250


def test_8_1_random_is_seeded_same_seed_same_values_different_seed_differs() -> None:
    first = make_sim(seed=1).mutation(s8_time.draw, {"count": 5})
    again = make_sim(seed=1).mutation(s8_time.draw, {"count": 5})
    other = make_sim(seed=2).mutation(s8_time.draw, {"count": 5})
    assert first == again
    assert first != other
    assert all(0.0 <= value < 1.0 for value in first + other)
    assert len(set(first)) == 5


def test_8_1_random_is_seeded_per_execution() -> None:
    sim = make_sim(seed=1)
    one = sim.mutation(s8_time.draw, {"count": 3})
    two = sim.mutation(s8_time.draw, {"count": 3})
    assert one != two
    # The sequence of executions replays exactly under the same seed, queries included.
    replay = make_sim(seed=1)
    assert replay.mutation(s8_time.draw, {"count": 3}) == one
    assert replay.mutation(s8_time.draw, {"count": 3}) == two
    assert replay.query(s8_time.draw_in_query, {"count": 2}) == sim.query(
        s8_time.draw_in_query, {"count": 2}
    )


@pytest.mark.parametrize("seed", [0, 7])
def test_8_1_ids_come_from_the_seeded_generator(seed: int) -> None:
    ids = [make_sim(seed=seed).mutation(s8_time.insert_one) for _ in range(2)]
    other = make_sim(seed=seed + 1).mutation(s8_time.insert_one)
    assert ids[0] == ids[1]
    assert other != ids[0]
