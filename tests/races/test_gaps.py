"""Where a release itself breaks a §11 invariant under an injected fault: expected failures.

Each test drives one gap straight to its violation and asserts the invariant
as the spec states it, on both releases; ``xfail(strict=True)`` makes the
suite fail the day the behaviour changes, so a fix (or a regression in the
emulator) is noticed. 0.3.6 fixes the stuck runner (evolution B), so that
test passes under it; the others are gaps 0.3.6 keeps, and say so. The state
machine keeps its faults inside what 0.2.0 survives, naming these gaps where
it does.
"""

from __future__ import annotations

from typing import Any

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


def _gap(reason: str, raises: type[BaseException], *, fixed_in_0_3_6: bool) -> Any:
    """The two releases as parameters, each an expected failure where the gap is open."""
    mark = pytest.mark.xfail(reason=reason, raises=raises, strict=True)
    kept = pytest.mark.xfail(reason=f"{reason} (0.3.6 keeps this gap)", raises=raises, strict=True)
    return pytest.mark.parametrize(
        "release",
        [
            pytest.param("0.2.0", marks=mark),
            pytest.param("0.3.6", marks=() if fixed_in_0_3_6 else kept),
        ],
    )


@_gap(GAP_STUCK_LONGER_THAN_LAG, SchedulerDidNotSettleError, fixed_in_0_3_6=True)
def test_a_runner_stuck_longer_than_the_lag_is_waited_out(release: str) -> None:
    """The monitor finds the stuck run ``pending``, re-arms behind its ``scheduledTime``
    (already past), fires again at once, and so on: in virtual time, where an
    execution takes no time, it never stops (in production: a storm of monitor runs
    until the platform's retry gets through). 0.3.6 replaces the stuck run."""
    sim = Simulator(make_app(release=release), seed=0)
    sim.faults.stick_next(
        batch_worker.loop.loop, 2 * batch_worker.MONITOR_LAG_MS, component="batchWorker"
    )
    sim.mutation(example.add_event, {"value": 1})
    sim.advance(TEN_MINUTES, max_steps=5_000)
    assert events_left(sim) == 0


@_gap(GAP_MONITOR_CANCELED_THEN_LOOP_DIES, AssertionError, fixed_in_0_3_6=False)
def test_a_loop_that_dies_after_its_monitor_was_canceled_is_restarted(release: str) -> None:
    """§11 at least once: the loop dies, and the monitor an operator canceled is not
    replaced (``ensure monitored`` trusts ``monitorId``); pings see ``running`` and
    do nothing, so the worker stays wedged. On 0.3.6 only ``lib.kick`` recovers it."""
    sim = Simulator(make_app(release=release), seed=0)
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


@_gap(GAP_SLEEPING_RUN_FAILS, AssertionError, fixed_in_0_3_6=False)
def test_a_sleeping_worker_whose_wake_up_run_fails_wakes_again(release: str) -> None:
    """§7.8/§11: a worker asleep for ``timeoutMs`` (idle, with a runner) promises to look
    for work when it wakes. If that run fails, the monitor finds the status ``idle``
    and cancels itself, and only a ping revives the worker."""
    sim = Simulator(bw_app.make_app(release=release), seed=0)
    sim.mutation(bw_app.set_control, {"name": "w", "idle": {"timeoutMs": 30_000}})
    sim.mutation(bw_app.ping_worker, {"name": "w"})
    sim.advance(1)
    assert sim.query(bw_app.status, {"name": "w"}) == {"kind": "idle"}, "asleep"
    sim.mutation(bw_app.insert_work, {"name": "w", "value": 1})  # found by the wake-up run
    sim.faults.fail_next(bw_app.do_work)
    sim.advance(TEN_MINUTES)
    assert sim.query(bw_app.pending_work, {"name": "w"}) == 0, "the work was never processed"


GAP_WAITING_RUN_STUCK = "0.3.6: a sleeping worker's wake-up run stuck pending"


@_gap(GAP_WAITING_RUN_STUCK, AssertionError, fixed_in_0_3_6=False)
def test_a_sleeping_worker_whose_wake_up_run_sticks_is_restarted(release: str) -> None:
    """Evolution B's kept gap: the monitor (lag 10 s) fires before the stuck run is a
    minute late, finds the status ``idle`` and cancels itself; a later ping keeps the
    stuck run (a past time counts as sooner) and no monitor is left."""
    sim = Simulator(bw_app.make_app(release=release), seed=0)
    config = {"monitorLagMs": 10_000}
    sim.mutation(bw_app.set_control, {"name": "w", "idle": {"timeoutMs": 5_000}})
    sim.mutation(bw_app.ping_worker, {"name": "w", "config": config})
    sim.advance(3_000)
    assert sim.query(bw_app.status, {"name": "w"}) == {"kind": "idle"}, "asleep"
    sim.faults.stick_next(batch_worker.loop.loop, TEN_MINUTES, component="batchWorker")
    sim.advance(30_000)
    sim.mutation(bw_app.add_work, {"name": "w", "value": 1, "config": config})
    sim.advance(5 * 60_000)
    assert sim.query(bw_app.pending_work, {"name": "w"}) == 0, "the work was never processed"
