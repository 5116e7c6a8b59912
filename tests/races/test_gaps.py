"""Where 0.2.0 itself breaks a §11 invariant under an injected fault: expected failures.

Each test drives one gap straight to its violation and asserts the invariant
as the spec states it; ``xfail(strict=True)`` makes the suite fail the day
the behaviour changes, so a fix (or a regression in the emulator) is noticed.
The state machine keeps its faults inside what 0.2.0 survives, naming these
gaps where it does.
"""

from __future__ import annotations

import pytest

import batch_worker
from convex_sim import SchedulerDidNotSettleError, Simulator
from example import example, make_app
from tests.apps import bw_app
from tests.batch_worker.support import cancel
from tests.races.example_machine import (
    GAP_MONITOR_CANCELED_THEN_LOOP_DIES,
    GAP_SLEEPING_RUN_FAILS,
    GAP_STUCK_LONGER_THAN_LAG,
)
from tests.races.views import events_left, worker_view

TEN_MINUTES = 10 * 60_000


@pytest.mark.xfail(reason=GAP_STUCK_LONGER_THAN_LAG, raises=SchedulerDidNotSettleError, strict=True)
def test_a_runner_stuck_longer_than_the_lag_is_waited_out() -> None:
    """The monitor finds the stuck run ``pending``, re-arms behind its ``scheduledTime``
    (already past), fires again at once, and so on: in virtual time, where an
    execution takes no time, it never stops (in production: a storm of monitor runs
    until the platform's retry gets through)."""
    sim = Simulator(make_app(), seed=0)
    sim.faults.stick_next(
        batch_worker.loop.loop, 2 * batch_worker.MONITOR_LAG_MS, component="batchWorker"
    )
    sim.mutation(example.add_event, {"value": 1})
    sim.advance(TEN_MINUTES, max_steps=5_000)
    assert events_left(sim) == 0


@pytest.mark.xfail(reason=GAP_MONITOR_CANCELED_THEN_LOOP_DIES, raises=AssertionError, strict=True)
def test_a_loop_that_dies_after_its_monitor_was_canceled_is_restarted() -> None:
    """§11 at least once: the loop dies, and the monitor an operator canceled is not
    replaced (``ensure monitored`` trusts ``monitorId``); pings see ``running`` and
    do nothing, so the worker stays wedged."""
    sim = Simulator(make_app(), seed=0)
    sim.mutation(example.add_event, {"value": 1})
    monitor = worker_view(sim).monitor
    assert monitor is not None
    cancel(sim, monitor["_id"])  # by hand, as an operator would
    sim.faults.fail_next(example.process_batch)
    sim.advance(1)
    sim.faults.clear()
    sim.mutation(example.add_event, {"value": 2})
    sim.advance(TEN_MINUTES)
    assert events_left(sim) == 0, f"{events_left(sim)} events never processed"


@pytest.mark.xfail(reason=GAP_SLEEPING_RUN_FAILS, raises=AssertionError, strict=True)
def test_a_sleeping_worker_whose_wake_up_run_fails_wakes_again() -> None:
    """§7.8/§11: a worker asleep for ``timeoutMs`` (idle, with a runner) promises to look
    for work when it wakes. If that run fails, the monitor finds the status ``idle``
    and cancels itself, and only a ping revives the worker."""
    sim = Simulator(bw_app.make_app(), seed=0)
    sim.mutation(bw_app.set_control, {"name": "w", "idle": {"timeoutMs": 30_000}})
    sim.mutation(bw_app.ping_worker, {"name": "w"})
    sim.advance(1)
    assert sim.query(bw_app.status, {"name": "w"}) == {"kind": "idle"}, "asleep"
    sim.mutation(bw_app.insert_work, {"name": "w", "value": 1})  # found by the wake-up run
    sim.faults.fail_next(bw_app.do_work)
    sim.advance(TEN_MINUTES)
    assert sim.query(bw_app.pending_work, {"name": "w"}) == 0, "the work was never processed"
