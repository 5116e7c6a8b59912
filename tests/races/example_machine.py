"""A state machine over the example app and its batch worker, with faults (spec §11).

Rules: insert-and-ping (racing whatever runs next), let time pass, run what
is due under a drawn interleaving, run the loop up to the iteration that
will go idle (so the next insert races it), stop, start, change the
worker's config, and inject faults — the worker mutation raises for its next calls, the next
loop run sticks ``pending`` a while, the scheduler lags by minutes, an
operator cancels the runner or the monitor by hand.

After every step it checks the §11 invariants that hold at all times; at the
end it clears the faults, lets time pass and checks the liveness ones.

The faults stay inside what 0.2.0 survives. Each limit names the gap it
steps around, and ``test_gaps.py`` shows each gap as an expected failure:

- :data:`GAP_STUCK_LONGER_THAN_LAG` — a runner stuck ``pending`` for longer
  than the monitor lag makes the monitor re-arm itself at a time already
  past, again and again (0.3 added stuck-runner detection);
- :data:`GAP_MONITOR_CANCELED_THEN_LOOP_DIES` — ``ensure monitored`` (§5.3)
  trusts a recorded ``monitorId`` without checking that it is still pending,
  so a monitor canceled by hand is not replaced until it would have fired;
  if the loop dies before then, nothing restarts it and pings do nothing.
"""

from __future__ import annotations

import contextlib
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.stateful import rule

import batch_worker
from convex_sim import InjectedFault, Simulator
from convex_sim.executor import ScheduleSpec
from convex_sim.jobs import SELF_CANCEL_WARNING
from convex_sim.testing import ExecutionRecord, SimulatorMachine, executions, recorded, schedules
from example import example, make_app
from tests.races.views import (
    COMPONENT,
    LOOP,
    LOOP_ROW,
    START,
    STOP,
    WorkerView,
    deleted_by_loops,
    events_left,
    handed_to_worker,
    inserted_events,
    is_transition,
    next_run_goes_idle,
    ping_loop_conflicts,
    worker_view,
)

GAP_STUCK_LONGER_THAN_LAG: Final = "0.2.0: a runner stuck pending past the monitor lag"
GAP_MONITOR_CANCELED_THEN_LOOP_DIES: Final = "0.2.0: a hand-canceled monitor, then a dead loop"
GAP_SLEEPING_RUN_FAILS: Final = "0.2.0: a sleeping worker's wake-up run fails"
"""Not reachable here (the example's work query never asks for ``timeoutMs``); see test_gaps."""

MAX_STUCK_MS: Final = batch_worker.MONITOR_REFRESH_WITHIN_MS - 1_000
"""Below the smallest monitor lag (10 s): see GAP_STUCK_LONGER_THAN_LAG."""
SCHEDULER_LAGS_MS: Final = [0, 30_000, 180_000]
MONITOR_LAGS_MS: Final = [None, 10_000, 20_000, 60_000]
SETTLE_STEP_MS: Final = 10_000
MAX_COOLDOWN_POLLS: Final = 50
SETTLE_LIMIT_MS: Final = 30 * 60_000


class ExampleMachine(SimulatorMachine):
    """The example app under concurrent inserts, stops, config changes and faults."""

    def __init__(self) -> None:
        super().__init__()
        self.config: dict[str, Any] = {}
        self.by_execution: dict[int, ExecutionRecord] = {}
        self.stopped = False
        self.monitor_canceled_by_hand: str | None = None
        self.faults_injected = False
        self.longest_lag_ms = float(batch_worker.MONITOR_LAG_MS)
        self.longest_scheduler_lag_ms = 0.0

    def make_simulator(self) -> Simulator:
        return Simulator(make_app(), seed=self.seed)

    # -- client calls (they start with the next jobs to fall due) ----------------------------

    @rule(values=st.lists(st.integers(1, 50), min_size=1, max_size=3))
    @recorded
    def insert_and_ping(self, values: list[int]) -> None:
        """One to three ``add_event`` calls, pinging with the current config."""
        for value in values:
            args: dict[str, Any] = {"value": value}
            if self.config:
                args["config"] = dict(self.config)
            self.call_soon(example.add_event, args)

    @rule(schedule=schedules())
    @recorded
    def reach_the_end_of_cooldown(self, schedule: ScheduleSpec) -> None:
        """Run loop iterations up to the one that will find nothing and go idle (§7.6-7.9),
        so that what is queued next races exactly that iteration."""
        for _ in range(MAX_COOLDOWN_POLLS):
            due_ms = self.sim.next_due_ms()
            if due_ms is None or next_run_goes_idle(self.sim) is not False:
                return
            self._start_queued_at(max(due_ms, self.sim.now))
            self.sim.advance(
                max(due_ms - self.sim.now, 0), schedule=schedule, max_steps=self.max_jobs_per_step
            )

    @rule(action=st.sampled_from(["stop", "start"]))
    @recorded
    def stop_or_start(self, action: str) -> None:
        self.call_soon(example.stop_worker if action == "stop" else example.start_worker, {})

    @rule(debounce_ms=st.sampled_from([None, 0, 50, 500]), lag_ms=st.sampled_from(MONITOR_LAGS_MS))
    @recorded
    def change_config(self, debounce_ms: int | None, lag_ms: int | None) -> None:
        """Later inserts ping with this config (the ping stores it, §6.1)."""
        self.config = {
            key: value
            for key, value in (("debounceMs", debounce_ms), ("monitorLagMs", lag_ms))
            if value is not None
        }
        if lag_ms is not None:
            self.longest_lag_ms = max(self.longest_lag_ms, float(lag_ms))

    # -- faults -----------------------------------------------------------------------------------

    @rule(
        kind=st.sampled_from(["fail_worker_mutation", "stick_next_loop_run", "lag_scheduler"]),
        amount=st.integers(0, 1_000_000),
    )
    @recorded
    def inject_fault(self, kind: str, amount: int) -> None:
        """The worker mutation raises for its next 1-3 calls; the next loop run sticks
        ``pending`` for up to :data:`MAX_STUCK_MS`; or the scheduler lags by minutes."""
        faults = self.sim.faults
        if kind == "fail_worker_mutation":
            if self.monitor_canceled_by_hand is not None:
                return  # GAP_MONITOR_CANCELED_THEN_LOOP_DIES
            faults.fail_next(example.process_batch, 1 + amount % 3)
            self.faults_injected = True
        elif kind == "stick_next_loop_run":
            faults.stick_next(
                batch_worker.loop.loop, 1 + amount % MAX_STUCK_MS, component=COMPONENT
            )
        else:
            lag_ms = SCHEDULER_LAGS_MS[amount % len(SCHEDULER_LAGS_MS)]
            faults.scheduler_lag_ms = lag_ms
            self.longest_scheduler_lag_ms = max(self.longest_scheduler_lag_ms, float(lag_ms))

    @rule(
        action=st.sampled_from(["cancel_runner", "cancel_monitor", "rerun_loop"]),
        pick=st.integers(0, 1_000),
    )
    @recorded
    def operator(self, action: str, pick: int) -> None:
        """What an operator does by hand from the dashboard: cancel the runner or the
        monitor, or re-run an old loop job (``pick`` chooses it: canceled and failed
        runs first, newest first)."""
        if action == "rerun_loop":
            self._rerun_loop_by_hand(pick)
            return
        view = worker_view(self.sim)
        if action == "cancel_runner":
            if self.monitor_canceled_by_hand is None:  # GAP_MONITOR_CANCELED_THEN_LOOP_DIES
                self._cancel_by_hand("runnerId")
            return
        runner = view.runner
        alive = runner is not None and runner["state"]["kind"] == "pending"
        if self.sim.faults.planned()["fail"] or not alive:
            return  # GAP_MONITOR_CANCELED_THEN_LOOP_DIES: only while the loop is alive
        canceled = self._cancel_by_hand("monitorId")
        if canceled is not None:
            self.monitor_canceled_by_hand = canceled

    def _rerun_loop_by_hand(self, pick: int) -> None:
        """§10/§11: unless its generation is the state's, the re-run must write nothing."""
        view = worker_view(self.sim)
        rows = [row for row in view.jobs.values() if row["name"] == LOOP_ROW]
        if not rows:
            return
        # What an operator retries first: the runs that did not succeed, newest first.
        rows.sort(
            key=lambda row: (row["state"]["kind"] in ("canceled", "failed"), row["_creationTime"]),
            reverse=True,
        )
        args = rows[pick % len(rows)]["args"][0]
        start = len(self.sim.trace)
        with contextlib.suppress(InjectedFault):
            self.sim.run_function(batch_worker.loop.loop, args, component=COMPONENT)
        (run,) = [r for r in executions(self.sim.trace, start) if r.function == LOOP]
        if args["generation"] != view.generation:
            wrote = [(write.operation, write.table) for write in run.writes]
            assert not run.changed_anything, (
                f"a loop run with generation {args['generation']}, re-run by hand while the "
                f"state's is {view.generation}, wrote {wrote}"
            )

    def _cancel_by_hand(self, field: str) -> str | None:
        async def cancel(ctx: Any) -> str | None:
            workers = await ctx.db.query("workers").collect()
            if not workers:
                return None
            state = await ctx.db.get(workers[0]["stateId"])
            job_id = None if state is None else state.get(field)
            row = None if job_id is None else await ctx.db.system.get(job_id)
            if row is None or row["state"]["kind"] != "pending":
                return None
            await ctx.scheduler.cancel(job_id)
            return str(job_id)

        canceled: str | None = self.sim.run(cancel, component=COMPONENT)
        return canceled

    # -- invariants that hold after every step ---------------------------------------------------

    def check_after_step(self, new: list[ExecutionRecord]) -> None:
        for record in new:
            self.by_execution[record.execution] = record
        view = worker_view(self.sim)
        check_one_chain(view)
        check_superseded_runs_write_nothing(new)
        self._check_stop_is_final(new)
        check_status_matches_state(view)
        check_pings_do_not_conflict_with_a_running_loop(new, self.by_execution)
        check_no_job_cancels_itself(new)
        self._forget_hand_canceled_monitor(view)

    def _check_stop_is_final(self, new: list[ExecutionRecord]) -> None:
        """§11: after stop commits, no loop iteration writes until start commits."""
        committed = sorted(
            (r for r in new if r.commit is not None), key=lambda r: r.commit.ts if r.commit else 0
        )
        for record in committed:
            if record.function == STOP and is_transition(record):
                self.stopped = True
            elif record.function == START and is_transition(record):
                self.stopped = False
            elif record.function == LOOP and self.stopped:
                assert not record.changed_anything, (
                    f"loop run {record.execution} (generation {record.args['generation']}) "
                    f"wrote after stop: {[(w.operation, w.table) for w in record.writes]}"
                )

    def _forget_hand_canceled_monitor(self, view: WorkerView) -> None:
        canceled = self.monitor_canceled_by_hand
        if canceled is None:
            return
        monitor = view.monitor
        rearmed = monitor is not None and monitor["_id"] != canceled
        if rearmed or view.status != "running":
            self.monitor_canceled_by_hand = None

    # -- liveness, at the end ----------------------------------------------------------------------

    def settle(self) -> None:
        sim = self.sim
        sim.faults.clear()
        self.start_queued_calls()
        if worker_view(sim).status == "stopped":
            sim.mutation(example.start_worker, {})
        cleared_at = sim.now
        while events_left(sim) or worker_view(sim).status == "running":
            assert sim.now - cleared_at <= SETTLE_LIMIT_MS, (
                f"not drained {SETTLE_LIMIT_MS} ms after the faults were cleared: "
                f"{events_left(sim)} events left, worker {worker_view(sim).status}"
            )
            sim.advance(SETTLE_STEP_MS, max_steps=self.max_jobs_per_step)
        bound = self.longest_scheduler_lag_ms + 3 * self.longest_lag_ms + SETTLE_STEP_MS
        assert sim.now - cleared_at <= bound, (
            f"draining took {sim.now - cleared_at} ms after the faults were cleared; "
            f"the monitor should restart a dead loop within about the lag (bound {bound} ms)"
        )
        check_every_row_processed(executions(sim.trace), faults=self.faults_injected)
        totals = sim.query(example.get_totals)
        inserted = inserted_events(executions(sim.trace))
        if inserted:
            assert totals == {"total": sum(inserted.values()), "count": len(inserted)}


# -- the checks, usable on their own --------------------------------------------------------------


def check_one_chain(view: WorkerView) -> None:
    """§11: at most one pending loop run carries the state's generation."""
    live = view.live_loops()
    assert len(live) <= 1, (
        f"{len(live)} live loop chains at generation {view.generation}: "
        f"{[row['_id'] for row in live]}"
    )


def check_superseded_runs_write_nothing(new: list[ExecutionRecord]) -> None:
    """§11/§7.2: a run exits without writing unless its generation is the state's.

    A live run always moves the generation from its own ``g`` to ``g + 1``, so
    the next run it schedules must carry ``g + 1``; a stale run that carried
    on would schedule the state's generation + 1 instead.
    """
    for record in new:
        if record.function != LOOP or not record.committed:
            continue
        generation = int(record.args["generation"])
        loops = [s for s in record.scheduled if s.function == LOOP]
        assert len(loops) <= 1, f"loop run {record.execution} scheduled {len(loops)} loop runs"
        for scheduled in loops:
            assert int(scheduled.args["generation"]) == generation + 1, (
                f"loop run {record.execution} with generation {generation} scheduled generation "
                f"{scheduled.args['generation']}: it ran on although superseded"
            )


def check_status_matches_state(view: WorkerView) -> None:
    """§5/§6: the status and the loop state agree whenever nothing is running."""
    if view.worker is None:
        return
    assert view.state is not None, "the worker's workerState row is missing"
    status = view.status
    runner = view.runner
    if status == "running":
        assert runner is not None, "running, but no loop run is recorded"
        assert runner["args"][0]["generation"] == view.generation, (
            f"running, but the recorded runner carries generation "
            f"{runner['args'][0]['generation']}, the state {view.generation}"
        )
        if runner["state"]["kind"] != "pending":
            monitor = view.monitor
            restarting = monitor is not None and monitor["state"]["kind"] == "pending"
            assert restarting, (
                f"the loop run is {runner['state']['kind']} and no monitor will restart it"
            )
        return
    assert view.state.get("runnerId") is None, f"{status}, yet a runner is recorded"
    assert view.state.get("monitorId") is None, f"{status}, yet a monitor is recorded"
    # Going idle and stopping retire the chain (§5.5, §6.3): no loop run ever scheduled,
    # pending or not, may still carry the state's generation, so any stray run of one
    # (retried, re-run by hand) would be superseded. (A worker asleep after
    # ``timeoutMs`` is idle with a live runner; the example's work query never asks.)
    current = [
        row["_id"]
        for row in view.jobs.values()
        if row["name"] == LOOP_ROW and row["args"][0]["generation"] == view.generation
    ]
    assert not current, f"{status}, yet loop runs {current} carry the state's generation"


def check_pings_do_not_conflict_with_a_running_loop(
    new: list[ExecutionRecord], by_execution: dict[int, ExecutionRecord]
) -> None:
    """§2/§11: inserts-and-pings and a running loop conflict only at status transitions."""
    for found in ping_loop_conflicts(new, by_execution):
        assert found.at_transition, (
            f"{found.loser.function} (execution {found.loser.execution}) conflicted with "
            f"{found.winner.function} (execution {found.winner.execution}) on "
            f"{found.conflict.table} while the worker kept running"
        )


def check_no_job_cancels_itself(new: list[ExecutionRecord]) -> None:
    """§8: a monitor that re-arms itself never cancels itself (it sees its own row
    ``inProgress``); canceling one's own job is a deprecated no-op (§6.6)."""
    for record in new:
        tried = [line for line in record.logs if line.message.startswith(SELF_CANCEL_WARNING)]
        assert not tried, f"{record.function} (execution {record.execution}) canceled itself"


def check_every_row_processed(records: list[ExecutionRecord], *, faults: bool) -> None:
    """§11: every inserted row was handed to the worker mutation; counted exactly once.

    The worker mutation deletes what it counts, in the loop's transaction, so
    a row is counted by exactly one committed loop run even when some runs
    failed; with failures a row may be handed over more than once (at least once).
    """
    inserted = inserted_events(records)
    handed = handed_to_worker(records, committed=False)
    missing = set(inserted) - set(handed)
    assert not missing, f"{len(missing)} inserted rows never reached the worker mutation"
    deleted = deleted_by_loops(records)
    assert sorted(deleted) == sorted(inserted), "a row was processed twice or never"
    if not faults:
        committed = handed_to_worker(records, committed=True)
        repeats = {event_id for event_id in committed if committed.count(event_id) > 1}
        assert not repeats, f"rows handed over twice although nothing raised: {repeats}"
