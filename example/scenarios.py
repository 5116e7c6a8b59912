"""The demo's scenarios: small runs of the example app that each show one part of the design.

Each scenario builds a fresh simulator, drives it, and returns it with its
trace complete; the same name and seed always give the same trace. The race
scenarios start two executions at one instant and need an interleaving in
which they really collide: they try the schedules ``seed``, ``seed + 1``, …
(each a seeded order of the racing executions' database calls) and keep the
first that shows the conflict, so the story has one to tell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import batch_worker
from convex_sim import Simulator
from convex_sim.execution_records import ExecutionRecord, executions
from example import example
from example.definition import make_app
from example.example import WORKER_NAME

COMPONENT: Final = "batchWorker"
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
    drive: Callable[[Simulator, int, int], int | None]
    """``(sim, events, seed)`` → the race's schedule, if it has one."""
    default_events: int = 25

    def run(self, *, seed: int = 0, events: int | None = None, log_level: str | None = None) -> Run:
        sim = Simulator(make_app(log_level), seed=seed)
        count = self.default_events if events is None else events
        schedule = self.drive(sim, count, seed)
        return Run(sim=sim, scenario=self.name, seed=seed, schedule=schedule)


# -- helpers --------------------------------------------------------------------------------


def _add(sim: Simulator, values: range, **extra: Any) -> None:
    for value in values:
        sim.mutation(example.add_event, {"value": value, **extra})


def _worker(sim: Simulator) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    async def read(db: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        worker = (
            await db.query("workers")
            .with_index("name", lambda q: q.eq("name", WORKER_NAME))
            .unique()
        )
        state = None if worker is None else await db.get(worker["stateId"])
        return worker, state

    found: tuple[dict[str, Any] | None, dict[str, Any] | None] = sim.peek(read, component=COMPONENT)
    return found


def _events_left(sim: Simulator) -> int:
    async def read(db: Any) -> int:
        return len(await db.query("events").collect())

    count: int = sim.peek(read)
    return count


def _until_next_run_goes_idle(sim: Simulator) -> float:
    """Run loop iterations until the next one will be the cooled-down, going-idle one."""
    while True:
        due_ms = sim.next_due_ms()
        worker, state = _worker(sim)
        if due_ms is None or worker is None or state is None:
            raise RuntimeError("the worker stopped before its going-idle run")
        cooled_at = state["lastWorkTs"] + batch_worker.DEFAULT_COOLDOWN_MS
        if state["lastWorkTs"] > 0 and due_ms >= cooled_at and not _events_left(sim):
            return due_ms
        sim.advance(due_ms - sim.now)


def _loop_conflicted(records: list[ExecutionRecord], table: str) -> bool:
    return any(
        record.conflict is not None
        and record.conflict.table == table
        and record.function.endswith("/loop:loop")
        for record in records
    )


def _first_schedule(seed: int, attempt: Callable[[int], bool]) -> int:
    for schedule in range(seed, seed + SCHEDULES_TRIED):
        if attempt(schedule):
            return schedule
    raise RuntimeError(f"no schedule in {seed}..{seed + SCHEDULES_TRIED - 1} shows the race")


# -- the scenarios ----------------------------------------------------------------------------


def _drain(sim: Simulator, events: int, seed: int) -> None:
    _add(sim, range(1, events + 1))
    sim.finish_all_scheduled_functions()


def _burst_during_cooldown(sim: Simulator, events: int, seed: int) -> None:
    _add(sim, range(1, events + 1))
    sim.advance(1_000)  # drained at once; the loop is polling through its cooldown
    _add(sim, range(events + 1, 2 * events + 1))
    sim.finish_all_scheduled_functions()


def _throw_once(sim: Simulator, events: int, seed: int) -> None:
    sim.faults.fail_next(example.process_batch, message="the worker mutation failed once")
    _add(sim, range(1, events + 1))
    sim.finish_all_scheduled_functions()


def _stop_start(sim: Simulator, events: int, seed: int) -> None:
    _add(sim, range(1, events + 1))
    sim.advance(500)
    sim.mutation(example.stop_worker, {})
    _add(sim, range(events + 1, events + 2))
    sim.advance(5_000)
    sim.mutation(example.start_worker, {})
    sim.finish_all_scheduled_functions()


def _sleep_and_wake(sim: Simulator, events: int, seed: int) -> None:
    _add(sim, range(1, events + 1), sleep_when_idle=True)
    sim.advance(10_000)  # drained, cooled down, asleep for 30 s
    _add(sim, range(events + 1, events + 2), sleep_when_idle=True)
    sim.advance(10_000)
    sim.mutation(example.stop_worker, {})  # a sleeper never settles on its own


def _race_going_idle(sim: Simulator, events: int, seed: int) -> int:
    def attempt(schedule: int, target: Simulator) -> bool:
        _add(target, range(1, events + 1))
        due_ms = _until_next_run_goes_idle(target)
        race_from = len(target.trace)
        target.submit(example.add_event, {"value": events + 1}, at_ms=due_ms)
        target.advance(due_ms - target.now, schedule=schedule)
        return _loop_conflicted(executions(target.trace, race_from), "events")

    schedule = _first_schedule(seed, lambda s: attempt(s, Simulator(make_app(), seed=seed)))
    attempt(schedule, sim)
    sim.finish_all_scheduled_functions()
    return schedule


def _idle_worker(sim: Simulator, events: int) -> None:
    _add(sim, range(1, events + 1))
    sim.finish_all_scheduled_functions()


def _ping_vs_stop(sim: Simulator, events: int, seed: int) -> int:
    calls: list[Any] = [(example.add_event, {"value": events + 1}), (example.stop_worker, {})]

    def attempt(schedule: int, target: Simulator) -> bool:
        _idle_worker(target, events)
        race_from = len(target.trace)
        target.concurrently(calls, schedule=schedule)
        return any(record.conflict is not None for record in executions(target.trace, race_from))

    schedule = _first_schedule(seed, lambda s: attempt(s, Simulator(make_app(), seed=seed)))
    attempt(schedule, sim)
    sim.advance(5_000)
    sim.mutation(example.start_worker, {})
    sim.finish_all_scheduled_functions()
    return schedule


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
            _race_going_idle,
            default_events=1,
        ),
        Scenario(
            "ping-vs-stop",
            "an insert-and-ping races stop on an idle worker: one of them retries",
            _ping_vs_stop,
            default_events=1,
        ),
    )
}
