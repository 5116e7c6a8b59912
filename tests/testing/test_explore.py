"""explore_interleavings visits every interleaving once, and says which one failed."""

from __future__ import annotations

import ast
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from convex_sim import Simulator
from convex_sim.executor import Chooser, ScheduleSpec
from convex_sim.testing import (
    ExplorationTooLargeError,
    InterleavingAssertionError,
    NondeterministicScenarioError,
    explore_interleavings,
)
from tests.apps import race_app

APP = race_app.make_app()
BUMP = (race_app.bump, {"name": "c"})
ADD_SLOT = (race_app.add_slot, {"n": 1})


@dataclass(frozen=True)
class Outcome:
    trace: str
    results: list[Any]
    choices: tuple[int, ...]
    table_sizes: dict[str, int]
    counter: int | None


async def _read_state(db: Any) -> tuple[dict[str, int], int | None]:
    sizes = {table: len(await db.query(table).collect()) for table in ("cells", "slots")}
    cells = await db.query("cells").collect()
    return sizes, (cells[0]["value"] if cells else None)


def _race(calls: Sequence[Any], schedule: ScheduleSpec) -> Outcome:
    sim = Simulator(APP, seed=0)
    results = sim.concurrently(calls, schedule=schedule)
    sizes, counter = sim.peek(_read_state)
    return Outcome(sim.trace.to_jsonl(), results, tuple(sim.last_chooser.choices), sizes, counter)


def _scenario(calls: Sequence[Any]) -> Callable[[Chooser], Outcome]:
    return lambda chooser: _race(calls, chooser)


def _choice_sets(outcomes: list[Outcome]) -> set[tuple[int, ...]]:
    choices = [outcome.choices for outcome in outcomes]
    assert len(set(choices)) == len(choices), "an interleaving was visited twice"
    return set(choices)


def test_two_bumps_explore_exactly_the_interleavings_brute_force_finds() -> None:
    exploration = explore_interleavings(_scenario([BUMP, BUMP]))

    # Independently: replay every list of choices up to the depth and keep what the
    # executor recorded. Lists differing only past a run's end, or in choices taken
    # modulo n, land on the same interleaving, so the set is exactly the interleavings.
    depth = exploration.choice_points
    brute_force = {
        _race([BUMP, BUMP], list(choices)).choices
        for choices in itertools.product(range(2), repeat=depth)
    }
    assert max(len(choices) for choices in brute_force) == depth
    assert _choice_sets(exploration.results) == brute_force
    assert exploration.runs == len(brute_force) == len(exploration.results)
    assert exploration.runs > 2, "two bumps race in more ways than two"


def test_every_interleaving_of_two_bumps_counts_both() -> None:
    exploration = explore_interleavings(_scenario([BUMP, BUMP]))
    for outcome in exploration.results:
        assert sorted(outcome.results) == [1, 2]
        assert outcome.counter == 2
        assert outcome.table_sizes["cells"] == 1
    # Both orders of commit happen, and some interleavings conflict and retry.
    assert {tuple(outcome.results) for outcome in exploration.results} == {(1, 2), (2, 1)}
    assert any('"kind": "conflict"' in outcome.trace for outcome in exploration.results)
    # Runs that differ only in which identical bump started first trace alike; with
    # the results (which call got which value) every run is distinct.
    distinct = {(outcome.trace, tuple(outcome.results)) for outcome in exploration.results}
    assert len(distinct) == exploration.runs


def _steps_per_call(calls: Sequence[Any]) -> list[int]:
    """How many times each call is stepped, from two runs that never interleave.

    Always picking the first runnable runs the calls one after another, first to
    last; while call ``i`` runs, ``len(calls) - i`` are runnable. Always picking the
    last runs them last to first. A call's last step is not a choice when it runs
    alone, so the last call's count comes from the reversed run.
    """
    counts: dict[str, list[int]] = {"first": [], "last": []}

    def record(kind: str) -> Callable[[int], int]:
        def pick(n: int) -> int:
            counts[kind].append(n)
            return 0 if kind == "first" else n - 1

        return pick

    _race(calls, record("first"))
    _race(calls, record("last"))
    k = len(calls)
    forward = [counts["first"].count(k - i) for i in range(k - 1)]
    return [*forward, counts["last"].count(k)]


def test_three_inserts_explore_the_multinomial_number_of_interleavings() -> None:
    calls = [ADD_SLOT] * 3
    exploration = explore_interleavings(_scenario(calls))

    steps = _steps_per_call(calls)
    expected = math.factorial(sum(steps))
    for count in steps:
        expected //= math.factorial(count)
    assert exploration.runs == expected
    assert exploration.choice_points == sum(steps) - 1
    assert len(_choice_sets(exploration.results)) == expected
    assert all(outcome.table_sizes["slots"] == 3 for outcome in exploration.results)


def test_a_failing_check_names_the_run_and_a_schedule_that_replays_it() -> None:
    seen: list[Outcome] = []

    def run(chooser: Chooser) -> Outcome:
        seen.append(_race([BUMP, BUMP], chooser))
        return seen[-1]

    def first_call_commits_first(outcome: Outcome) -> None:
        assert outcome.results == [1, 2], f"second call committed first: {outcome.results}"

    with pytest.raises(InterleavingAssertionError) as caught:
        explore_interleavings(run, check=first_call_commits_first)

    error = caught.value
    message = str(error)
    assert "second call committed first: [2, 1]" in message
    assert error.run_number == len(seen) > 1
    assert f"interleaving {len(seen)} " in message
    found = re.search(r"schedule=(\[[\d, ]*\])", message)
    assert found is not None, message
    choices = ast.literal_eval(found.group(1))
    assert choices == error.choices == list(seen[-1].choices)
    assert isinstance(error.__cause__, AssertionError)

    replayed = _race([BUMP, BUMP], choices)
    assert replayed.trace == seen[-1].trace
    assert replayed.results == [2, 1]


def test_an_assertion_inside_the_scenario_is_reported_the_same_way() -> None:
    def run(chooser: Chooser) -> None:
        outcome = _race([BUMP, BUMP], chooser)
        assert outcome.results[0] == 1, "first call saw the other's write"

    with pytest.raises(InterleavingAssertionError, match="first call saw") as caught:
        explore_interleavings(run)
    assert _race([BUMP, BUMP], caught.value.choices).results[0] == 2


def test_other_errors_keep_their_type_and_gain_the_schedule_that_replays_them() -> None:
    def run(chooser: Chooser) -> None:
        if _race([BUMP, BUMP], chooser).results == [2, 1]:
            raise LookupError("second call committed first")

    with pytest.raises(LookupError) as caught:
        explore_interleavings(run)
    (note,) = caught.value.__notes__
    found = re.search(r"schedule=(\[[\d, ]*\])", note)
    assert found is not None, note
    assert _race([BUMP, BUMP], ast.literal_eval(found.group(1))).results == [2, 1]


def test_a_scenario_seeded_differently_each_run_is_refused() -> None:
    seeds = itertools.count()

    def run(chooser: Chooser) -> None:
        # Mimics a scenario that draws its shape from a fresh seed each run.
        seed = next(seeds)
        Simulator(APP, seed=seed).concurrently([BUMP] * (2 + seed % 2), schedule=chooser)

    with pytest.raises(NondeterministicScenarioError, match=r"choice point 0 found 3 .* found 2"):
        explore_interleavings(run)


def test_a_scenario_that_ends_early_on_replay_is_refused() -> None:
    runs = itertools.count()

    def run(chooser: Chooser) -> None:
        calls = [BUMP, BUMP] if next(runs) == 0 else [BUMP]
        Simulator(APP, seed=0).concurrently(calls, schedule=chooser)

    with pytest.raises(NondeterministicScenarioError, match="ended after 0 choice points"):
        explore_interleavings(run)


def test_more_interleavings_than_max_runs_raise_rather_than_truncate() -> None:
    total = explore_interleavings(_scenario([ADD_SLOT, ADD_SLOT])).runs
    assert explore_interleavings(_scenario([ADD_SLOT, ADD_SLOT]), max_runs=total).runs == total
    with pytest.raises(ExplorationTooLargeError, match=f"max_runs={total - 1}"):
        explore_interleavings(_scenario([ADD_SLOT, ADD_SLOT]), max_runs=total - 1)


def test_a_scenario_without_concurrency_is_one_run() -> None:
    exploration = explore_interleavings(_scenario([BUMP]))
    assert (exploration.runs, exploration.choice_points) == (1, 0)
    assert exploration.results[0].counter == 1


def test_a_check_that_returns_false_fails_the_interleaving() -> None:
    # The counter always ends at 2: a predicate asking for 3 must fail, at the first run.
    with pytest.raises(InterleavingAssertionError, match="returned False") as caught:
        explore_interleavings(_scenario([BUMP, BUMP]), check=lambda o: o.counter == 3)
    assert caught.value.run_number == 1
    assert f"replay it with schedule={caught.value.choices!r}" in str(caught.value)


def test_a_check_that_returns_true_or_none_passes_every_interleaving() -> None:
    answers = explore_interleavings(_scenario([BUMP, BUMP]), check=lambda o: o.counter == 2)
    asserts = explore_interleavings(_scenario([BUMP, BUMP]), check=lambda o: None)
    assert answers.runs == asserts.runs > 1


def test_a_check_that_answers_neither_none_nor_a_bool_is_refused() -> None:
    with pytest.raises(TypeError, match=r"must return None, True or False.*returned 2"):
        explore_interleavings(_scenario([BUMP, BUMP]), check=lambda o: o.counter)


def test_an_error_in_the_check_carries_the_interleaving_that_replays_it() -> None:
    def broken(outcome: Outcome) -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError) as caught:
        explore_interleavings(_scenario([BUMP, BUMP]), check=broken)
    (note,) = caught.value.__notes__
    assert note.startswith("in interleaving 1; replay it with schedule=[")
