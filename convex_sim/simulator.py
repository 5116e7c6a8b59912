"""The public face: a deployment with its virtual clock, scheduler and trace.

Implements design.md's Simulator table; time and scheduling follow
convex-semantics.md §6.9 (due order, parallelism) and §8.1 (virtual time).

``Simulator`` owns every piece of state (store, clock, scheduler queue, trace,
seeded generator); nothing lives at module level, so two simulators never
share anything. Calls made through it behave as a client's would: they reach
only the app's public functions (use :meth:`Simulator.run` for server-side
access, as convex-test's ``t.run`` does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convex_sim.checkpoint import drive
from convex_sim.clock import DEFAULT_START_MS, VirtualClock
from convex_sim.components import AppDefinition, Namespace
from convex_sim.errors import ConvexSimError
from convex_sim.executor import (
    Chooser,
    Executor,
    Interleave,
    ScheduleSpec,
    Task,
    as_chooser,
    run_alone,
)
from convex_sim.faults import Faults
from convex_sim.index_keys import KEY_MAX, KEY_MIN
from convex_sim.occ import RetryPolicy
from convex_sim.resolution import Target
from convex_sim.runtime import Runtime
from convex_sim.scheduler import SCHEDULED_FUNCTIONS_TABLE, DueJob
from convex_sim.schema import BY_CREATION_TIME
from convex_sim.settle import DEFAULT_MAX_STEPS, did_not_settle, due_now
from convex_sim.settle import SchedulerDidNotSettleError as SchedulerDidNotSettleError
from convex_sim.store.base import Store
from convex_sim.store.memory import MemoryStore
from convex_sim.trace import ClockAdvanced, Trace
from convex_sim.values import copy_value

DEFAULT_PARALLELISM = 8
"""How many scheduled functions run at once (the backend's knob, §6.9)."""


class SimulatorClosedError(ConvexSimError, RuntimeError):
    """A call reached a simulator after :meth:`Simulator.close`."""


class Simulator:
    """A deterministic Convex deployment: same app, seed and calls give the same trace.

    ``store=None`` keeps everything in memory; a path keeps it in SQLite.
    ``parallelism`` is how many due scheduled functions run at once;
    ``retry_policy`` sets OCC retries and backoff (the backend's by default).
    """

    def __init__(
        self,
        app: AppDefinition,
        *,
        seed: int = 0,
        store: str | Path | Store | None = None,
        start_ms: float = DEFAULT_START_MS,
        parallelism: int = DEFAULT_PARALLELISM,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if not isinstance(app, AppDefinition):
            raise TypeError(f"Simulator needs a define_app(...) result, got {app!r}")
        self.seed = seed
        self.clock = VirtualClock(start_ms)
        self._trace = Trace()
        opened = _open_store(store)
        self._owns_store = not isinstance(store, Store)
        self._closed = False
        try:
            opened.acquire(f"a Simulator (seed {seed})")
        except BaseException:
            if self._owns_store:
                opened.close()
            raise
        try:
            self._live_runtime = Runtime(
                app,
                seed=seed,
                clock=self.clock,
                trace=self._trace,
                store=opened,
                retry_policy=retry_policy,
            )
        except BaseException:
            opened.release()
            if self._owns_store:
                opened.close()
            raise
        self.parallelism = parallelism
        self.opened_at_ms = self.clock.now_ms
        """``t0``: the clock when this simulator opened (a resumed store moves it on)."""
        self._chooser = Chooser(self._live_runtime.schedule_rng.randrange, f"seed {seed}")
        self.last_chooser: Chooser = self._chooser
        self._submissions: list[tuple[Submission, Target, Any]] = []
        self._next_submission = 0

    # -- opening and closing ------------------------------------------------------

    @property
    def _runtime(self) -> Runtime:
        if self._closed:
            raise SimulatorClosedError(
                "this Simulator was closed; open the store again with a new "
                "Simulator(app, store=...) to carry on"
            )
        return self._live_runtime

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Save the deployment's state and release its store (and a file's lock).

        Everything committed is already durable; closing keeps the clock as it
        is now for the next opener, and lets another simulator open the file.
        A store passed in as an object is released but left open for its owner.
        Closing twice is harmless; any other call after it raises.
        """
        if self._closed:
            return
        runtime = self._live_runtime
        store = runtime.database.store
        self._closed = True
        try:
            store.save_state(runtime.state())
        finally:
            store.release()
            if self._owns_store:
                store.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- state ------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The virtual clock, in ms since the epoch."""
        return self.clock.now_ms

    @property
    def trace(self) -> Trace:
        """Every event so far, oldest first."""
        return self._trace

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    @property
    def faults(self) -> Faults:
        """Faults to inject on purpose: ``fail_next``, ``stick_next``, ``scheduler_lag_ms``."""
        return self._runtime.faults

    @property
    def conflicts(self) -> dict[str, int]:
        """OCC conflicts so far, per function."""
        return dict(self._live_runtime.conflicts)

    @property
    def retries(self) -> dict[str, int]:
        """Retries after conflicts so far, per function."""
        return dict(self._live_runtime.retries)

    # -- client calls -------------------------------------------------------------

    def _client_target(self, reference: Any) -> Target:
        return self._runtime.resolve(reference, self._runtime.namespaces[""], client=True)

    def _alone(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run one execution with nothing interleaved; its retry backoffs move the clock."""
        return run_alone(
            coroutine,
            self.clock,
            lambda to_ms: self._runtime.record(ClockAdvanced, 0, to_ms=to_ms),
        )

    def query(self, reference: Any, args: dict[str, Any] | None = None) -> Any:
        """Run a public query as a client would."""
        target = self._client_target(reference)
        return self._alone(self._runtime.run_query(target, args))

    def mutation(self, reference: Any, args: dict[str, Any] | None = None) -> Any:
        """Run a public mutation as a client would (retried on conflicts)."""
        target = self._client_target(reference)
        return self._alone(self._runtime.run_mutation(target, args))

    def action(self, reference: Any, args: dict[str, Any] | None = None) -> Any:
        """Run a public action as a client would."""
        target = self._client_target(reference)
        return self._alone(self._runtime.run_action(target, args))

    def run_function(
        self, reference: Any, args: dict[str, Any] | None = None, *, component: str | None = None
    ) -> Any:
        """Run any function, internal ones too, as an operator would from the dashboard
        or ``npx convex run``: a top-level execution of its own, not a client call.

        ``component`` names where ``reference`` is looked up (default: the app).
        """
        target = self._runtime.resolve(reference, self._namespace(component))
        return self._alone(self._client_coroutine(target, args))

    def run(self, function: Callable[[Any], Awaitable[Any]], component: str | None = None) -> Any:
        """Run ``async function(ctx)`` as a mutation in the app (or the named component).

        Server-side access: internal functions, ``ctx.db.system`` and the
        component's own tables are all reachable.
        """
        return drive(self._runtime.run_in(self._namespace(component), function))

    # -- time and the scheduler -------------------------------------------------------

    def _executor(self, schedule: ScheduleSpec, interleave: Interleave) -> Executor:
        chooser = self._chooser if schedule is None else as_chooser(schedule)
        self.last_chooser = chooser
        return Executor(
            self.clock,
            chooser,
            on_advance=lambda to_ms: self._runtime.record(ClockAdvanced, 0, to_ms=to_ms),
            interleave=interleave,
        )

    def _run_due(
        self,
        until_ms: float | None,
        max_steps: int,
        schedule: ScheduleSpec,
        interleave: Interleave,
    ) -> int:
        feeder = _DueFeeder(self, until_ms, max_steps)
        trace_from = len(self._trace)
        self._executor(schedule, interleave).run(feeder)
        if feeder.stopped_early:
            raise did_not_settle(
                self._runtime,
                max_steps=max_steps,
                events=self._trace[trace_from:],
                left_due=feeder.left_due,
                stopped_at_ms=feeder.stopped_at_ms,
                t0_ms=self.opened_at_ms,
            )
        return feeder.started

    def advance(
        self,
        ms: float,
        *,
        schedule: ScheduleSpec = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        interleave: Interleave = "operations",
    ) -> None:
        """Move the clock ``ms`` forward, running every job that falls due, in time order.

        Jobs due at the same time run concurrently (up to ``parallelism``),
        interleaved by ``schedule`` (default: the simulator's own seeded one) at
        every operation, or only at transaction starts and commits with
        ``interleave="transactions"`` (see :class:`~convex_sim.executor.Executor`).
        Starting more than ``max_steps`` scheduled functions raises
        :class:`SchedulerDidNotSettleError`, naming the functions that ran
        and those still due, so a job that keeps rescheduling itself cannot
        spin forever; the limit is the same as
        :meth:`finish_all_scheduled_functions`'s (``DEFAULT_MAX_STEPS``).
        """
        target = self.clock.now_ms + ms if ms >= 0 else ms
        if ms < 0:
            self.clock.advance(ms)  # raises: the clock never goes backwards
        self._run_due(target, max_steps, schedule, interleave)
        if target > self.clock.now_ms:
            self.clock.advance_to(target)
            self._runtime.record(ClockAdvanced, 0, to_ms=self.clock.now_ms)
        self._runtime.delete_expired_jobs()

    def finish_all_scheduled_functions(
        self,
        max_steps: int = DEFAULT_MAX_STEPS,
        *,
        schedule: ScheduleSpec = None,
        interleave: Interleave = "operations",
    ) -> int:
        """Jump from due job to due job until none is left; returns how many ran.

        At most ``max_steps`` scheduled functions start, as in :meth:`advance`;
        past that it raises :class:`SchedulerDidNotSettleError`.
        """
        ran = self._run_due(None, max_steps, schedule, interleave)
        self._runtime.delete_expired_jobs()
        return ran

    def submit(
        self, reference: Any, args: dict[str, Any] | None = None, *, at_ms: float
    ) -> Submission:
        """A client call that starts when the clock reaches ``at_ms``, during
        ``advance``/``finish_all_scheduled_functions``, interleaved with due jobs."""
        target = self._client_target(reference)
        submission = Submission(target.label, at_ms, self._next_submission)
        self._next_submission += 1
        self._submissions.append((submission, target, args))
        return submission

    def concurrently(
        self,
        calls: Sequence[Any],
        *,
        schedule: ScheduleSpec = None,
        interleave: Interleave = "operations",
    ) -> list[Any]:
        """Run several calls at the current virtual time, interleaved at every ``ctx`` call
        (or, with ``interleave="transactions"``, only where transactions start and commit).

        Each entry is ``(reference, args)`` for a client call, or a
        :class:`~convex_sim.scheduler.DueJob` (see :meth:`due_jobs`). Returns,
        in order, each call's result or the exception it raised (not raised).
        """
        executor = self._executor(schedule, interleave)
        tasks = []
        for call in calls:
            if isinstance(call, DueJob):
                tasks.append(executor.spawn(self._runtime.run_job(call), f"job {call.job_id}"))
                continue
            if not isinstance(call, tuple) or not 1 <= len(call) <= 2:
                raise TypeError(f"each call must be (reference, args) or a DueJob, got {call!r}")
            reference, args = (call[0], call[1] if len(call) == 2 else None)
            target = self._client_target(reference)
            tasks.append(executor.spawn(self._client_coroutine(target, args), target.label))
        executor.run()
        return [task.error if task.error is not None else task.result for task in tasks]

    def next_due_ms(self) -> float | None:
        """When the next pending scheduled function falls due (None if none is queued)."""
        job = self._runtime.next_due()
        return None if job is None else job.due_ms

    def due_jobs(self) -> list[DueJob]:
        """Queued jobs that are pending and due now, removed from the queue (pass them to
        :meth:`concurrently` to run them alongside client calls)."""
        jobs: list[DueJob] = []
        while True:
            job = self._runtime.next_due()
            if job is None or job.due_ms > self.clock.now_ms:
                return jobs
            jobs.append(self._runtime.due.pop())

    def _client_coroutine(self, target: Target, args: Any) -> Coroutine[Any, Any, Any]:
        kind = target.definition.function_type
        if kind == "query":
            return self._runtime.run_query(target, args)
        if kind == "mutation":
            return self._runtime.run_mutation(target, args)
        return self._runtime.run_action(target, args)

    def scheduled_functions(self, component: str | None = None) -> list[dict[str, Any]]:
        """Every ``_scheduled_functions`` row of the app (or a component), oldest first.

        A plain read of the latest state: it records nothing in the trace.
        """
        store = self._runtime.database.store
        number = store.table_number(component or "", SCHEDULED_FUNCTIONS_TABLE, create=False)
        if number is None:
            raise ConvexSimError(f"no component is mounted as {component!r}")
        rows = store.scan(
            number, BY_CREATION_TIME, KEY_MIN, KEY_MAX, reverse=False, ts=store.latest_ts
        )
        return [copy_value(row) for _, row in rows]

    def peek(
        self, function: Callable[[Any], Coroutine[Any, Any, Any]], component: str | None = None
    ) -> Any:
        """Run ``async function(db)`` on a read-only view of the latest state, off the record.

        For observers (a demo, a test's assertion): it takes no read
        dependency, schedules nothing and adds nothing to the trace.
        """
        return self._runtime.peek(self._namespace(component), function)

    def _namespace(self, component: str | None) -> Namespace:
        namespace = self._runtime.namespaces.get(component or "")
        if namespace is None:
            raise ConvexSimError(
                f"no component is mounted as {component!r}; mounted: "
                f"{sorted(n for n in self._runtime.namespaces if n)}"
            )
        return namespace

    def function_handle(self, reference: Any, component: str | None = None) -> str:
        """The handle string of a function, as ``create_function_handle`` gives it in a handler."""
        namespace = self._runtime.namespaces[component or ""]
        return self._runtime.handle(reference, namespace)


@dataclass
class Submission:
    """A client call submitted to start at a virtual time; filled in when it finishes."""

    function: str
    at_ms: float
    order: int
    done: bool = False
    result: Any = None
    error: BaseException | None = None

    def _finish(self, task: Task) -> None:
        self.done, self.result, self.error = True, task.result, task.error


class _DueFeeder:
    """Starts due jobs (up to the parallelism) and timed client calls as time passes."""

    def __init__(self, sim: Simulator, until_ms: float | None, max_steps: int) -> None:
        self._sim = sim
        self._until = until_ms
        self._max_steps = max_steps
        self.running = 0
        self.started = 0
        self.stopped_early = False
        self.left_due: list[DueJob] = []
        self.stopped_at_ms = sim.clock.now_ms

    def _job_done(self, task: Task) -> None:
        self.running -= 1

    def _stop_at_limit(self) -> bool:
        """At the step limit: start nothing more, note what is left due, and say so."""
        if self.started < self._max_steps:
            return False
        if not self.stopped_early:
            self.stopped_early = True
            self.stopped_at_ms = self._sim.clock.now_ms
            self.left_due = due_now(self._sim._runtime, self._until)
        return True

    def _in_window(self, when_ms: float) -> bool:
        return self._until is None or when_ms <= self._until

    def start_ready(self, executor: Executor) -> None:
        sim = self._sim
        now = sim.clock.now_ms
        if sim._submissions:
            self._start_submissions(executor, now)
        runtime = sim._runtime
        while self.running < sim.parallelism:
            # Called before every step: look at the queue's head before paying for a
            # check that it is still pending (the head is never later than the next
            # pending job, so a future head means nothing is ready).
            head = runtime.due.peek()
            if head is None or head.due_ms > now:
                return
            job = runtime.next_due()
            if job is None or job.due_ms > now or not self._in_window(job.due_ms):
                return
            if self._stop_at_limit():
                return
            runtime.due.pop()
            self.running += 1
            self.started += 1
            executor.spawn(runtime.run_job(job), f"job {job.job_id}", on_done=self._job_done)

    def _start_submissions(self, executor: Executor, now: float) -> None:
        sim = self._sim
        waiting = []
        for submission, target, args in sim._submissions:
            if submission.at_ms <= now:
                executor.spawn(
                    sim._client_coroutine(target, args), target.label, on_done=submission._finish
                )
            else:
                waiting.append((submission, target, args))
        sim._submissions = waiting

    def next_time(self) -> float | None:
        times = [s.at_ms for s, _, _ in self._sim._submissions if self._in_window(s.at_ms)]
        if self.running < self._sim.parallelism and not self.stopped_early:
            job = self._sim._runtime.next_due()
            # At the limit, stop here: moving the clock to a job that will not run
            # would leave it past the last thing that happened.
            if job is not None and self._in_window(job.due_ms) and not self._stop_at_limit():
                times.append(job.due_ms)
        return min(times) if times else None


def _open_store(store: str | Path | Store | None) -> Store:
    if store is None:
        return MemoryStore()
    if isinstance(store, Store):
        return store
    from convex_sim.store.sqlite import SqliteStore

    return SqliteStore(store)
