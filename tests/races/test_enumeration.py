"""Every interleaving of three §11 races, enumerated exhaustively (retries included).

Each race starts its executions at the same virtual instant; the explorer
runs it once per distinct sequence of choices, so every order is covered,
retries after conflicts included. Two granularities:

- **operations**: a choice at every awaited ``ctx`` operation — every order
  of the executions' reads, writes and commits;
- **transactions**: a choice only where a transaction starts, commits or
  retries (``interleave="transactions"``). A transaction reads its begin
  snapshot and keeps its writes private until commit, so these orders
  decide everything; the first two races check that claim by comparing the
  outcomes of both granularities. The monitor race is too large for the
  first (more than 100 000 operation-level interleavings) and runs only at
  the second.

Counts go to the terminal summary ("races covered").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from convex_sim.testing import Exploration, explore_interleavings
from tests.batch_worker.support import MONITOR
from tests.races.example_machine import (
    check_no_job_cancels_itself,
    check_one_chain,
    check_status_matches_state,
)
from tests.races.scenarios import (
    Outcome,
    going_idle_vs_insert,
    monitor_vs_live_loop,
    ping_vs_stop,
)
from tests.races.views import ADD_EVENT, LOOP, is_transition


def _summary(name: str, level: str, exploration: Exploration[Outcome]) -> str:
    outcomes = exploration.results
    conflicted = sum(1 for outcome in outcomes if outcome.conflicts)
    steady = sum(outcome.steady_conflicts for outcome in outcomes)
    transition = sum(outcome.transition_conflicts for outcome in outcomes)
    return (
        f"{name}, {level}: {exploration.runs} interleavings, {conflicted} with an OCC "
        f"conflict (ping/loop conflicts: {steady} while running, {transition} at transitions), "
        f"{len({signature(o) for o in outcomes})} distinct outcomes"
    )


def signature(outcome: Outcome) -> tuple[Any, ...]:
    """What an interleaving led to, without the trace's order of events."""
    view = outcome.after_race
    return (
        view.status,
        view.generation,
        outcome.events_left,
        repr(outcome.totals),
        repr(outcome.totals_after_start),
        outcome.conflicts,
        outcome.steady_conflicts,
        outcome.transition_conflicts,
        outcome.after.status,
        tuple(sorted((r.function, r.committed) for r in outcome.during)),
    )


def explore_both(
    scenario: Callable[..., Outcome], check: Callable[[Outcome], None]
) -> tuple[Exploration[Outcome], Exploration[Outcome]]:
    """Every interleaving at both granularities; they must reach the same outcomes."""
    operations = explore_interleavings(scenario, check=check)
    transactions = explore_interleavings(partial(scenario, interleave="transactions"), check=check)
    assert {signature(o) for o in operations.results} == {
        signature(o) for o in transactions.results
    }, "interleaving whole transactions missed an outcome"
    assert transactions.runs < operations.runs
    return operations, transactions


def check_no_lost_wakeup(outcome: Outcome) -> None:
    check_one_chain(outcome.after_race)
    check_status_matches_state(outcome.after_race)
    assert outcome.events_left == 0, "the inserted row was never processed: a lost wakeup"
    assert outcome.totals == {"total": 3.0, "count": 2}
    assert outcome.steady_conflicts == 0


def test_going_idle_iteration_against_insert_and_ping(race_report: list[str]) -> None:
    exploration, transactions = explore_both(going_idle_vs_insert, check_no_lost_wakeup)
    outcomes = exploration.results
    name = "going-idle loop vs insert+ping"
    race_report.append(_summary(name, "operations", exploration))
    race_report.append(_summary(name, "transactions", transactions))
    # Both sides of the race happen: the insert commits first (the confirm read makes
    # the loop conflict and retry), or the loop goes idle first (the ping wakes it).
    assert any(o.transition_conflicts for o in outcomes)
    assert any(not o.conflicts for o in outcomes)
    assert exploration.runs > 1_000


def check_stop_wins(outcome: Outcome) -> None:
    check_one_chain(outcome.after_race)
    check_status_matches_state(outcome.after_race)
    assert outcome.after_race.status == "stopped"
    assert outcome.after.status == "stopped", "a ping resumed a stopped worker"
    late_loops = [r for r in outcome.afterwards if r.function == LOOP and r.changed_anything]
    assert not late_loops, "a loop run wrote after stop committed"
    assert outcome.steady_conflicts == 0
    assert outcome.totals_after_start == {"total": 2.0, "count": 1}, "start did not resume"


def test_ping_against_stop(race_report: list[str]) -> None:
    exploration, transactions = explore_both(ping_vs_stop, check_stop_wins)
    race_report.append(_summary("ping vs stop", "operations", exploration))
    race_report.append(_summary("ping vs stop", "transactions", transactions))
    outcomes = exploration.results
    # Both orders happen: the ping wakes the worker and stop then stops it, or stop
    # commits first and the ping (retried after its conflict) finds it stopped.
    woke = [
        o for o in outcomes if any(r.function == ADD_EVENT and is_transition(r) for r in o.during)
    ]
    assert woke, "the ping never won the race"
    assert len(woke) < len(outcomes), "stop never won the race"


def check_monitor_leaves_a_live_loop_alone(outcome: Outcome) -> None:
    if outcome.monitor_spun:
        # 0.2.0's known defect (evolution B), allowed only where it is explained: the
        # loop was still in flight (racing, or backing off after a conflict) when the
        # monitor found its row pending and re-armed at scheduledTime + lag, now.
        loops = [r for r in outcome.during if r.function == LOOP]
        assert loops, "the monitor spun with no loop in flight"
        monitors = [r for r in outcome.during if r.function == MONITOR]
        spin_times = {r.started.time_ms for r in monitors}
        assert spin_times == {loops[0].started.time_ms}, "the spin moved the clock"
        check_no_job_cancels_itself(outcome.during)
        # The scheduler's error names the spinning function, and what it left due.
        assert outcome.spin_busiest == MONITOR
        assert outcome.spin_still_due, "the scheduler stopped with nothing due"
        assert outcome.spin_still_due <= {MONITOR, LOOP}
        return
    check_one_chain(outcome.after_race)
    check_status_matches_state(outcome.after_race)
    restarts = [
        r
        for r in outcome.during
        if r.function == MONITOR and r.committed and any(s.function == LOOP for s in r.scheduled)
    ]
    assert not restarts, "the monitor restarted a loop that was alive"
    check_no_job_cancels_itself(outcome.during)
    assert outcome.totals == {"total": 3.0, "count": 2}


def test_monitor_against_a_live_loop(race_report: list[str]) -> None:
    exploration = explore_interleavings(
        partial(monitor_vs_live_loop, interleave="transactions"),
        check=check_monitor_leaves_a_live_loop_alone,
    )
    outcomes = exploration.results
    race_report.append(_summary("monitor vs live loop", "transactions", exploration))
    # Both: the monitor runs first (finds the loop pending, re-arms behind it), or the
    # loop commits first and re-arms the monitor, canceling the one about to run.
    ran = [o for o in outcomes if any(r.function == MONITOR for r in o.during)]
    assert ran, "the monitor never ran in the race"
    assert len(ran) < len(outcomes), "the loop never won the race"
    # Where the monitor's commit made the loop retry, 0.2.0's monitor spins in place.
    spun = [o for o in outcomes if o.monitor_spun]
    assert spun, "the 0.2.0 monitor never re-armed in the past behind a retrying loop"
    assert len(spun) < len(ran)
    race_report.append(f"monitor vs live loop: the 0.2.0 monitor spun in {len(spun)} of them")
