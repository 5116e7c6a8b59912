"""Scheduled functions: the ``_scheduled_functions`` rows and the queue of due jobs.

Implements the data half of convex-semantics.md §6: the row shape and states
(§6.3), the time checks of ``run_after``/``run_at`` (§6.1), the per-mutation
limits (§6.8) and the start order of due jobs (§6.9). Running a job — the
one-transaction ``inProgress``/``success`` dance of §6.4 and the separate
commits of an action (§6.5) — is the runtime's job (``runtime.py``).

The rows live in each namespace's own system table, so a component's jobs are
invisible to the app (§7.1). The queue is an index over those rows kept by
the runtime: every committed write to a ``_scheduled_functions`` table that
leaves a row ``pending`` is pushed; entries are checked against the row when
popped, so a canceled or already-run job is simply skipped.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from convex_sim.errors import ConvexSimError
from convex_sim.limits import MAX_FUNCTIONS_SCHEDULED, MAX_SCHEDULED_ARGS_BYTES, LimitExceededError
from convex_sim.values import value_size

SCHEDULED_FUNCTIONS_TABLE: Final = "_scheduled_functions"
MAX_SCHEDULE_DISTANCE_MS: Final = 5 * 365 * 24 * 3600 * 1000
JOB_RETENTION_MS: Final = 7 * 24 * 3600 * 1000
"""Finished rows are deleted this long after their ``completedTime`` (§6.8)."""

JOB_ROW_FIELDS: Final = ("name", "args", "scheduledTime", "completedTime", "state")
"""A ``_scheduled_functions`` row's fields besides ``_id`` and ``_creationTime`` (§6.3)."""

PENDING: Final = "pending"
IN_PROGRESS: Final = "inProgress"
SUCCESS: Final = "success"
FAILED: Final = "failed"
CANCELED: Final = "canceled"
FINISHED_STATES: Final = frozenset({SUCCESS, FAILED, CANCELED})
SKIPPED: Final = object()
"""What a scheduled mutation "returns" when its job was no longer pending."""


class SchedulingError(ConvexSimError, ValueError):
    """``run_after``/``run_at``/``cancel`` was called with something it cannot take."""


def canonical_name(path: str) -> str:
    """``example:add_event`` → ``example.js:add_event``: the name the backend stores (§6.3)."""
    module, _, function = path.partition(":")
    return f"{module}.js:{function}"


def path_from_name(name: str) -> str:
    module, _, function = name.partition(":")
    return f"{module.removesuffix('.js')}:{function}"


def check_delay(delay_ms: Any) -> float:
    if isinstance(delay_ms, bool) or not isinstance(delay_ms, int | float):
        raise SchedulingError(
            f"run_after: delay must be a number of milliseconds, got {delay_ms!r}"
        )
    if not math.isfinite(delay_ms) or delay_ms < 0:
        raise SchedulingError(
            f"run_after: delay must be a finite, non-negative number of ms, got {delay_ms!r}"
        )
    return float(delay_ms)


def check_run_at(when_ms: Any, now_ms: float) -> float:
    """A ``run_at`` time in ms (a number or a ``datetime``), within ±5 years of now (§6.1)."""
    timestamp = getattr(when_ms, "timestamp", None)
    if callable(timestamp):
        when_ms = timestamp() * 1000.0
    if (
        isinstance(when_ms, bool)
        or not isinstance(when_ms, int | float)
        or not math.isfinite(when_ms)
    ):
        raise SchedulingError(
            f"run_at: time must be a finite number of ms since the epoch or a datetime, "
            f"got {when_ms!r}"
        )
    if abs(when_ms - now_ms) > MAX_SCHEDULE_DISTANCE_MS:
        raise SchedulingError(
            f"run_at: {when_ms} is more than 5 years from now ({now_ms}); "
            "the time is probably in seconds, not milliseconds"
        )
    return float(when_ms)


def new_job_row(name: str, args: dict[str, Any], scheduled_time: float) -> dict[str, Any]:
    return {
        "name": name,
        "args": [args],
        "scheduledTime": scheduled_time,
        "state": {"kind": PENDING},
    }


def state_of(row: dict[str, Any] | None) -> str | None:
    return None if row is None else str(row["state"]["kind"])


@dataclass
class SchedulingBudget:
    """Counts what one transaction scheduled, against §6.8's limits."""

    count: int = 0
    args_bytes: int = 0

    def charge(self, args: dict[str, Any]) -> None:
        self.count += 1
        if self.count > MAX_FUNCTIONS_SCHEDULED:
            raise LimitExceededError(
                "TooManyFunctionsScheduled",
                f"Too many functions scheduled by this mutation (limit: {MAX_FUNCTIONS_SCHEDULED})",
            )
        self.args_bytes += value_size(args)
        if self.args_bytes > MAX_SCHEDULED_ARGS_BYTES:
            raise LimitExceededError(
                "ScheduledFunctionsArgumentsTooLarge",
                f"the arguments of the functions scheduled by this mutation exceed "
                f"{MAX_SCHEDULED_ARGS_BYTES} bytes",
            )


@dataclass(order=True, frozen=True)
class DueJob:
    """A queue entry: ordered by due time, then creation time (index order, §6.9)."""

    due_ms: float
    creation_time: float
    namespace: str = field(compare=False)
    job_id: str = field(compare=False)


def due_job(row: dict[str, Any], namespace: str, job_id: str, scheduled_at_ms: float) -> DueJob:
    """The queue entry of a pending row, due at ``max(scheduledTime, scheduled_at_ms)`` (§6.9).

    ``scheduled_at_ms`` is when the job was scheduled: the virtual time the
    scheduling transaction ran at, its ``Date.now()``. A job never starts
    before the transaction that made it, and one asked for at time t starts
    at t exactly. ``_creationTime`` is not a substitute: it is bumped past
    the previous one on every collision, so a chain of delay-0 jobs due at
    their creation times would start later and later by fractions of a ms.
    It still orders jobs due at the same time (index order), without moving
    the clock.
    """
    creation = float(row["_creationTime"])
    due = max(float(row["scheduledTime"]), scheduled_at_ms)
    return DueJob(due, creation, namespace, job_id)


class DueQueue:
    """Pending jobs by due time. Entries may be stale; the runtime re-reads each row."""

    def __init__(self) -> None:
        self._heap: list[DueJob] = []
        self._queued: set[str] = set()

    def push(self, job: DueJob) -> None:
        if job.job_id in self._queued:
            return
        self._queued.add(job.job_id)
        heapq.heappush(self._heap, job)

    def peek(self) -> DueJob | None:
        return self._heap[0] if self._heap else None

    def pop(self) -> DueJob:
        job = heapq.heappop(self._heap)
        self._queued.discard(job.job_id)
        return job

    def __len__(self) -> int:
        return len(self._heap)

    def __iter__(self) -> Iterator[DueJob]:
        """Every entry, stale ones included, in no particular order."""
        return iter(list(self._heap))
