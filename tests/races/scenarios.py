"""Three races of spec §11, each built fresh and run under a given interleaving.

Each scenario sets the example app up to the moment before the race, starts
the racing executions at the same virtual instant under ``schedule``, then
lets time pass (under a fixed seed) and reports what happened. The
enumeration tests run every interleaving of the race through them; the
sabotage tests run them against a broken component.

- :func:`going_idle_vs_insert`: the loop's last, going-idle iteration (cooled
  down, nothing to do) against one insert-and-ping;
- :func:`ping_vs_stop`: an insert-and-ping against ``stop``, the worker idle;
- :func:`monitor_vs_live_loop`: the monitor firing while a loop run, overdue
  but alive, starts at the same instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import batch_worker
from convex_sim import SchedulerDidNotSettleError, Simulator
from convex_sim.executor import Interleave, ScheduleSpec
from convex_sim.testing import ExecutionRecord, executions
from example import example, make_app
from example.example import WORKER_NAME
from example.peek import run_until_going_idle
from tests.races.views import (
    COMPONENT,
    LOOP,
    WorkerView,
    events_left,
    ping_loop_conflicts,
    worker_view,
)

AFTERWARDS_MS = 3 * batch_worker.MONITOR_LAG_MS
MAX_DRAIN_STEPS = 50
MONITOR_SPIN_CAP = 25
"""Jobs run in the monitor race before it counts as 0.2.0's monitor spinning in place."""


@dataclass
class Outcome:
    """What one interleaving of a race led to."""

    during: list[ExecutionRecord]
    """The racing executions (every attempt)."""
    afterwards: list[ExecutionRecord]
    """What ran after the race, until the outcome was taken."""
    after_race: WorkerView
    after: WorkerView
    events_left: int
    totals: Any
    steady_conflicts: int
    """Conflicts between an insert-and-ping and a loop run that changed no status."""
    transition_conflicts: int
    """Conflicts between them where one side changed the worker's status."""
    totals_after_start: Any = None
    """``ping_vs_stop`` only: the totals once ``start`` has resumed the worker."""
    monitor_spun: bool = False
    """``monitor_vs_live_loop`` only: the monitor kept re-arming at the same instant
    (evolution B, 0.2.0) and the race was cut off after ``MONITOR_SPIN_CAP`` jobs."""
    spin_busiest: str = ""
    """The function ``SchedulerDidNotSettleError`` named as having run most."""
    spin_still_due: frozenset[str] = frozenset()
    """The functions it named as still due."""

    @property
    def conflicts(self) -> int:
        return sum(1 for record in self.during if record.conflict is not None)


def _sim() -> Simulator:
    return Simulator(make_app(), seed=0)


def _race_at_next_due(
    sim: Simulator,
    calls: list[tuple[Any, dict[str, Any]]],
    schedule: ScheduleSpec,
    interleave: Interleave,
) -> None:
    """Start ``calls`` at the instant the next job falls due, racing it (and it alone)."""
    due_ms = sim.next_due_ms()
    assert due_ms is not None, "nothing is scheduled to race against"
    for reference, args in calls:
        sim.submit(reference, args, at_ms=due_ms)
    sim.advance(due_ms - sim.now, schedule=schedule, interleave=interleave)


def _drain(sim: Simulator) -> None:
    """Run due jobs, one due time at a time, until no event is left (the cheapest way to
    see each row processed: the cooldown polls and going idle are not waited for)."""
    for _ in range(MAX_DRAIN_STEPS):
        due_ms = sim.next_due_ms()
        if not events_left(sim) or due_ms is None:
            return
        sim.advance(due_ms - sim.now, schedule=0)


def _outcome(sim: Simulator, race_from: int, *, wait_ms: float | None = None) -> Outcome:
    """What the race did; then drain (or, with ``wait_ms``, just let that much time pass)."""
    during = executions(sim.trace, race_from)
    race_end = len(sim.trace)
    after_race = worker_view(sim)
    if wait_ms is None:
        _drain(sim)
    else:
        sim.advance(wait_ms, schedule=0)
    by_execution = {record.execution: record for record in executions(sim.trace, race_from)}
    found = ping_loop_conflicts(during, by_execution)
    return Outcome(
        during=during,
        afterwards=executions(sim.trace, race_end),
        after_race=after_race,
        after=worker_view(sim),
        events_left=events_left(sim),
        totals=sim.query(example.get_totals),
        steady_conflicts=sum(1 for c in found if not c.at_transition),
        transition_conflicts=sum(1 for c in found if c.at_transition),
    )


def _spun(sim: Simulator, race_from: int, spin: SchedulerDidNotSettleError) -> Outcome:
    """The outcome of a race cut off while the monitor spun: nothing ran afterwards."""
    view = worker_view(sim)
    return Outcome(
        during=executions(sim.trace, race_from),
        afterwards=[],
        after_race=view,
        after=view,
        events_left=events_left(sim),
        totals=sim.query(example.get_totals),
        steady_conflicts=0,
        transition_conflicts=0,
        monitor_spun=True,
        spin_busiest=spin.ran.most_common(1)[0][0],
        spin_still_due=frozenset(spin.still_due),
    )


def going_idle_vs_insert(schedule: ScheduleSpec, interleave: Interleave = "operations") -> Outcome:
    """§11 no lost wakeup: the going-idle iteration against one insert-and-ping."""
    sim = _sim()
    sim.mutation(example.add_event, {"value": 1})
    run_until_going_idle(sim, schedule=0)
    race_from = len(sim.trace)
    _race_at_next_due(sim, [(example.add_event, {"value": 2})], schedule, interleave)
    return _outcome(sim, race_from)


def ping_vs_stop(schedule: ScheduleSpec, interleave: Interleave = "operations") -> Outcome:
    """An insert-and-ping against ``stop``, the worker idle (the ping would wake it)."""
    sim = _sim()
    _idle_worker(sim)
    race_from = len(sim.trace)
    sim.concurrently(
        [(example.add_event, {"value": 2}), (example.stop_worker, {})],
        schedule=schedule,
        interleave=interleave,
    )
    outcome = _outcome(sim, race_from, wait_ms=AFTERWARDS_MS)
    sim.mutation(example.start_worker, {})
    _drain(sim)
    outcome.totals_after_start = sim.query(example.get_totals)
    return outcome


def _idle_worker(sim: Simulator) -> None:
    """A worker that went idle with nothing to do: pinged once by hand, then its first
    loop run (nothing to do, never worked, so cooled down) went idle at once."""
    ping = {
        "name": WORKER_NAME,
        "workQuery": sim.function_handle(example.get_batch),
        "workerMutation": sim.function_handle(example.process_batch),
        "config": {},
    }
    sim.run_function(batch_worker.lib.ping, ping, component=COMPONENT)
    sim.advance(1, schedule=0)
    assert worker_view(sim).status == "idle"


def monitor_vs_live_loop(schedule: ScheduleSpec, interleave: Interleave = "operations") -> Outcome:
    """§8: the monitor fires while the loop's next run, overdue but alive, starts too.

    The loop run is held back (a scheduler that fell behind) until exactly
    the monitor's time, so both start at the same instant.
    """
    sim = _sim()
    sim.mutation(example.add_event, {"value": 1})
    view = worker_view(sim)
    assert view.state is not None
    runner, monitor = view.runner, view.monitor
    assert runner is not None
    assert monitor is not None
    runner_due = runner["scheduledTime"]
    monitor_due = monitor["scheduledTime"]
    sim.faults.stick_next(batch_worker.loop.loop, monitor_due - runner_due, component="batchWorker")
    sim.mutation(example.add_event, {"value": 2})
    sim.advance(monitor_due - sim.now - 1, schedule=0)  # the runner falls due and is held
    race_from = len(sim.trace)
    try:
        sim.advance(1, schedule=schedule, interleave=interleave, max_steps=MONITOR_SPIN_CAP)
    except SchedulerDidNotSettleError as spin:
        # The monitor committed while the loop was in flight, so the loop conflicted and
        # backs off, and 0.2.0's monitor re-arms at runner.scheduledTime + lag: now. It
        # fires again at the same instant, for ever; virtual time never reaches the
        # loop's retry (evolution B, fixed in 0.3.6 by never arming in the past).
        return _spun(sim, race_from, spin)
    started = {(r.function, r.started.time_ms) for r in executions(sim.trace, race_from)}
    assert (LOOP, monitor_due) in started, "the held loop run did not start with the monitor"
    return _outcome(sim, race_from)
