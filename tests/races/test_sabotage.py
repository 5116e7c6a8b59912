"""Tests with teeth: each careless-port sabotage (``sabotage.py``) is caught.

A detector is one of the suite's own checks — the state machine, an
exhaustive race enumeration, or the non-interference measurement — run
unchanged against the sabotaged component; it must fail. The same detectors
pass against the real component (``test_machine``, ``test_enumeration``,
``test_noninterference``). Verdicts go to the terminal summary, and a caught
machine failure is replayed from its one-line reproducer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from convex_sim.testing import REPLAY_PREFIX, explore_interleavings
from tests.races.example_machine import ExampleMachine
from tests.races.sabotage import sabotaged
from tests.races.scenarios import going_idle_vs_insert, monitor_vs_live_loop
from tests.races.test_enumeration import (
    check_monitor_leaves_a_live_loop_alone,
    check_no_lost_wakeup,
)
from tests.races.test_noninterference import SEEDS, measure

SABOTAGE_EXAMPLES = 200


def run_the_machine() -> None:
    run_state_machine_as_test(
        ExampleMachine,
        settings=settings(
            max_examples=SABOTAGE_EXAMPLES,
            stateful_step_count=20,
            phases=[Phase.explicit, Phase.generate],  # a verdict is enough: no shrinking
            print_blob=False,
        ),
    )


def enumerate_going_idle_races() -> None:
    explore_interleavings(going_idle_vs_insert, check=check_no_lost_wakeup)


def enumerate_monitor_races() -> None:
    explore_interleavings(
        partial(monitor_vs_live_loop, interleave="transactions"),
        check=check_monitor_leaves_a_live_loop_alone,
    )


def measure_non_interference() -> None:
    steady = sum(measure(seed).steady for seed in SEEDS)
    assert steady == 0, f"{steady} ping/loop conflicts while the worker kept running"


DETECTORS: dict[str, tuple[str, Callable[[], None]]] = {
    "confirm_read_as_snapshot": ("enumeration: going idle vs insert", enumerate_going_idle_races),
    "generation_check_removed": ("state machine", run_the_machine),
    "ping_writes_worker_state": ("non-interference measurement", measure_non_interference),
    "monitor_treats_in_progress_as_alive": (
        "enumeration: monitor vs loop",
        enumerate_monitor_races,
    ),
    "stop_keeps_the_generation": ("state machine", run_the_machine),
}


@pytest.mark.parametrize("sabotage", sorted(DETECTORS))
def test_each_sabotage_is_caught(sabotage: str, race_report: list[str]) -> None:
    detector_name, detector = DETECTORS[sabotage]
    with sabotaged(sabotage), pytest.raises(AssertionError) as caught:
        detector()
    first_line = str(caught.value).strip().splitlines()[0][:140]
    race_report.append(f"sabotage {sabotage}: caught by the {detector_name}: {first_line}")


def test_a_caught_machine_failure_replays_from_its_one_line_reproducer() -> None:
    with sabotaged("stop_keeps_the_generation"):
        with pytest.raises(AssertionError) as caught:
            run_the_machine()
        notes = getattr(caught.value, "__notes__", [])
        (line,) = [note for note in notes if note.startswith(REPLAY_PREFIX)]
        replay = ExampleMachine.replay(line)
    assert replay.error is not None, "the replay did not fail"
    assert type(replay.error) is type(caught.value)
    assert str(replay.error).splitlines()[0] == str(caught.value).splitlines()[0]
    assert replay.identical, "the replayed trace differs from the failing run's"
    clean = ExampleMachine.replay(line)  # the real component survives the same steps
    assert clean.error is None
    assert not clean.identical
