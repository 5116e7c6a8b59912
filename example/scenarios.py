"""The demo's scenarios: small runs of the example app that each show one part of the design.

Each scenario builds a fresh simulator, drives it, and returns it with its
trace complete; the same name and seed always give the same trace. The race
scenarios (spec §11's no-lost-wakeup and ping-against-stop races) start two
executions at one instant and need an interleaving in which they really
collide: they try the schedules ``seed``, ``seed + 1``, … (each a seeded
order of the racing executions' database calls), each on a fresh simulator,
and carry on with the first that shows the conflict, so the story has one to
tell.

They drive the example app of batch-worker-spec.md §10 through §5–§8.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from convex_sim import Simulator
from convex_sim.execution_records import executions
from example import example
from example.definition import make_app
from example.peek import COMPONENT, run_until_going_idle

__all__ = ["COMPONENT", "SCENARIOS", "Run", "Scenario"]
SCHEDULES_TRIED: Final = 200
"""How many interleavings a race scenario tries before it gives up looking for a conflict."""


@dataclass(frozen=True)
class Run:
    """A finished scenario: the simulator (its trace, its documents) and how it was made."""

    sim: Simulator
    scenario: str
    seed: int
    schedule: int | None = None
    """The interleaving a race scenario picked (None for the others)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    drive: Callable[[Simulator, int], None]
    """``(sim, events)``: the whole run; for a race, what happens after the race."""
    default_events: int = 25
    race: Callable[[Simulator, int, int], bool] | None = None
    """``(sim, events, schedule)``: set up and run the race; True when it showed the conflict."""

    def run(self, *, seed: int = 0, events: int | None = None, log_level: str | None = None) -> Run:
        count = self.default_events if events is None else events
        if self.race is None:
            sim = Simulator(make_app(log_level), seed=seed)
            self.drive(sim, count)
            return Run(sim=sim, scenario=self.name, seed=seed)
        for schedule in range(seed, seed + SCHEDULES_TRIED):
            sim = Simulator(make_app(log_level), seed=seed)
            if self.race(sim, count, schedule):
                self.drive(sim, count)
                return Run(sim=sim, scenario=self.name, seed=seed, schedule=schedule)
        last = seed + SCHEDULES_TRIED - 1
        raise RuntimeError(f"{self.name}: no schedule in {seed}..{last} shows the race")


def _add(sim: Simulator, values: range, **extra: Any) -> None:
    for value in values:
        sim.mutation(example.add_event, {"value": value, **extra})


# -- the scenarios ----------------------------------------------------------------------------


def _drain(sim: Simulator, events: int) -> None:
    _add(sim, range(1, events + 1))
    sim.finish_all_scheduled_functions()


def _burst_during_cooldown(sim: Simulator, events: int) -> None:
    _add(sim, range(1, events + 1))
    sim.advance(1_000)  # drained at once; the loop is polling through its cooldown
    _add(sim, range(events + 1, 2 * events + 1))
    sim.finish_all_scheduled_functions()


def _throw_once(sim: Simulator, events: int) -> None:
    sim.faults.fail_next(example.process_batch, message="the worker mutation failed once")
    _add(sim, range(1, events + 1))
    sim.finish_all_scheduled_functions()


def _stop_start(sim: Simulator, events: int) -> None:
    _add(sim, range(1, events + 1))
    sim.advance(500)
    sim.mutation(example.stop_worker, {})
    _add(sim, range(events + 1, events + 2))
    sim.advance(5_000)
    sim.mutation(example.start_worker, {})
    sim.finish_all_scheduled_functions()


def _sleep_and_wake(sim: Simulator, events: int) -> None:
    _add(sim, range(1, events + 1), sleep_when_idle=True)
    sim.advance(10_000)  # drained, cooled down, asleep for 30 s
    _add(sim, range(events + 1, events + 2), sleep_when_idle=True)
    sim.advance(10_000)
    sim.mutation(example.stop_worker, {})  # a sleeper never settles on its own


def _race_going_idle(sim: Simulator, events: int, schedule: int) -> bool:
    """The going-idle run against one insert-and-ping: does the loop's confirming read
    (of ``events``) conflict?"""
    _add(sim, range(1, events + 1))
    due_ms = run_until_going_idle(sim)
    race_from = len(sim.trace)
    sim.submit(example.add_event, {"value": events + 1}, at_ms=due_ms)
    sim.advance(due_ms - sim.now, schedule=schedule)
    return any(
        record.conflict is not None
        and record.conflict.table == "events"
        and record.function.endswith("/loop:loop")
        for record in executions(sim.trace, race_from)
    )


def _ping_vs_stop(sim: Simulator, events: int, schedule: int) -> bool:
    """An insert-and-ping against stop, the worker idle: does either conflict?"""
    _drain(sim, events)
    race_from = len(sim.trace)
    calls: list[Any] = [(example.add_event, {"value": events + 1}), (example.stop_worker, {})]
    sim.concurrently(calls, schedule=schedule)
    return any(record.conflict is not None for record in executions(sim.trace, race_from))


def _after_the_race(sim: Simulator, events: int) -> None:
    sim.finish_all_scheduled_functions()


def _start_after_the_race(sim: Simulator, events: int) -> None:
    sim.advance(5_000)
    sim.mutation(example.start_worker, {})
    sim.finish_all_scheduled_functions()


SCENARIOS: Final = {
    scenario.name: scenario
    for scenario in (
        Scenario("drain", "add events, watch the loop drain them and go idle", _drain),
        Scenario(
            "burst-during-cooldown",
            "more events while the loop polls through its cooldown: the next poll finds them",
            _burst_during_cooldown,
            default_events=5,
        ),
        Scenario(
            "throw-once",
            "the worker mutation raises once: the run fails, the monitor restarts the loop",
            _throw_once,
            default_events=5,
        ),
        Scenario(
            "stop-start",
            "stop mid-cooldown: pings are ignored until start resumes the worker",
            _stop_start,
            default_events=5,
        ),
        Scenario(
            "sleep-and-wake",
            "a work query that asks for timeoutMs: the worker sleeps, a ping wakes it",
            _sleep_and_wake,
            default_events=5,
        ),
        Scenario(
            "race-going-idle",
            "an insert-and-ping races the going-idle run: the confirming read conflicts",
            _after_the_race,
            default_events=1,
            race=_race_going_idle,
        ),
        Scenario(
            "ping-vs-stop",
            "an insert-and-ping races stop on an idle worker: one of them retries",
            _start_after_the_race,
            default_events=1,
            race=_ping_vs_stop,
        ),
    )
}
