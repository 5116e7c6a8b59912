"""Same schedule, same run: a seed or a recorded list of choices replays a race exactly."""

from __future__ import annotations

from convex_sim import Simulator
from tests.apps import race_app

CALLS = [(race_app.bump, {"name": "c"})] * 4 + [(race_app.add_slot, {"n": 1})]


def _race(schedule: object) -> tuple[str, list[object], list[int]]:
    sim = Simulator(race_app.make_app(), seed=3)
    results = sim.concurrently(CALLS, schedule=schedule)  # type: ignore[arg-type]
    return sim.trace.to_jsonl(), results, sim.last_chooser.choices


def test_the_same_seed_gives_a_byte_identical_trace() -> None:
    first, first_results, _ = _race(11)
    second, second_results, _ = _race(11)
    assert first == second
    assert first_results == second_results


def test_recorded_choices_replay_the_run_and_other_seeds_differ() -> None:
    trace, results, choices = _race(5)
    assert choices, "a four-way race must involve choices"
    replayed, replayed_results, replayed_choices = _race(list(choices))
    assert replayed == trace
    assert replayed_results == results
    assert replayed_choices == choices
    assert any(_race(seed)[0] != trace for seed in range(6, 12))


def test_the_reproducer_is_a_schedule_argument() -> None:
    sim = Simulator(race_app.make_app(), seed=3)
    sim.concurrently(CALLS, schedule=2)
    assert sim.last_chooser.reproducer() == f"schedule={sim.last_chooser.choices!r}"
