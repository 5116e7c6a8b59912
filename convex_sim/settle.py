"""Why the scheduler did not settle: the step limit and the error that explains it.

``advance`` and ``finish_all_scheduled_functions`` run scheduled functions
until none is due; a function that keeps scheduling itself would make them
run forever, so both stop after the same number of scheduled functions,
:data:`DEFAULT_MAX_STEPS` unless the caller passes ``max_steps``. Stopping is
only useful if the error says who kept the scheduler busy, so it names the
functions that ran most during the call and those still due, with virtual
times counted from ``t0``, the clock when the simulator opened (raw epoch
milliseconds mean nothing to a reader).

Due order itself is convex-semantics.md §6.9 (in ``scheduler``); the limit is
the emulator's own, as convex-test's ``finishAllScheduledFunctions`` has one:
the backend never needs it, since its time is real.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from convex_sim import jobs
from convex_sim.errors import ConvexSimError
from convex_sim.scheduler import PENDING, DueJob
from convex_sim.trace import ExecutionStarted, TraceEvent

if TYPE_CHECKING:
    from convex_sim.runtime import Runtime

DEFAULT_MAX_STEPS: Final = 10_000
"""Scheduled functions one ``advance`` or ``finish_all_scheduled_functions`` may start.

A delay-0 chain of this many links takes about two seconds here, so a runaway
job is reported quickly; the example app's drain of 10 000 events starts
about 1 000. Pass ``max_steps=`` for longer legitimate runs.
"""

MOST_NAMED: Final = 3
"""How many functions each line of the message names before "and N more"."""


class SchedulerDidNotSettleError(ConvexSimError, RuntimeError):
    """``max_steps`` scheduled functions ran and more were still due.

    ``ran`` counts the functions started during the call, ``still_due`` the
    pending ones it left (both keyed by function label, for example
    ``"batchWorker/loop:loop"``); ``max_steps`` is the limit that was hit.
    """

    def __init__(
        self, message: str, *, max_steps: int, ran: Counter[str], still_due: Counter[str]
    ) -> None:
        super().__init__(message)
        self.max_steps = max_steps
        self.ran = ran
        self.still_due = still_due


def due_now(runtime: Runtime, until_ms: float | None) -> list[DueJob]:
    """The pending jobs due by ``until_ms`` (any time if None): what stopping leaves.

    Taken the moment the limit stops the scheduler; executions still in flight
    then finish, and may cancel or reschedule these, so afterwards it is too late.
    """
    return [
        job
        for job in runtime.due
        if (until_ms is None or job.due_ms <= until_ms)
        and jobs.job_state(runtime, job.job_id) == PENDING
    ]


def did_not_settle(
    runtime: Runtime,
    *,
    max_steps: int,
    events: Iterable[TraceEvent],
    left_due: Iterable[DueJob],
    stopped_at_ms: float,
    t0_ms: float,
) -> SchedulerDidNotSettleError:
    """The error for a call that recorded ``events`` and stopped at ``max_steps``.

    What ran is read back from the trace (first attempts of top-level job
    executions), so the scheduler's hot path keeps no list of its own.
    """
    ran = Counter(
        event.function
        for event in events
        if isinstance(event, ExecutionStarted)
        and event.job is not None
        and event.parent is None
        and event.attempt == 1
    )
    due_at: dict[str, float] = {}
    still_due: Counter[str] = Counter()
    for job in left_due:
        label = label_of(runtime, job)
        still_due[label] += 1
        due_at[label] = min(due_at.get(label, job.due_ms), job.due_ms)

    def at(ms: float) -> str:
        return f"t0 + {_ms(ms - t0_ms)} ms"

    ran_line = _named(f"{name} ×{count}" for name, count in ran.most_common())
    due_line = _named(
        f"{name} ×{count} (first at {at(due_at[name])})" for name, count in still_due.most_common()
    )
    message = (
        f"the scheduler did not settle: ran {max_steps} scheduled functions "
        f"(max_steps={max_steps}) and more are still due\n"
        f"  ran most: {ran_line}\n"
        f"  still due: {due_line}\n"
        f"  stopped at {at(stopped_at_ms)} (t0 = {_ms(t0_ms)}, when the simulator opened)\n"
        "a function that keeps scheduling itself never lets the scheduler settle; if the work "
        f"is real, pass a larger max_steps (the default is {DEFAULT_MAX_STEPS})"
    )
    return SchedulerDidNotSettleError(message, max_steps=max_steps, ran=ran, still_due=still_due)


def label_of(runtime: Runtime, job: DueJob) -> str:
    """The function a job runs, as the trace names it (its row's name if unresolvable)."""
    store = runtime.database.store
    row = store.get(job.job_id, store.latest_ts)
    if row is None:
        return "?"
    name = str(row["name"])
    return jobs.job_label(runtime, job, name) or name


def _ms(ms: float) -> str:
    """Whole milliseconds without a fraction, anything else as it is."""
    return str(int(ms)) if float(ms).is_integer() else repr(ms)


def _named(items: Iterable[str]) -> str:
    listed = list(items)
    if not listed:
        return "nothing"
    shown = ", ".join(listed[:MOST_NAMED])
    rest = len(listed) - MOST_NAMED
    return f"{shown} and {rest} more" if rest > 0 else shown
