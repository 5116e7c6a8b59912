"""Scheduled functions at run time: scheduling, canceling, and running due jobs.

Implements convex-semantics.md §6.1–§6.6 and §6.8 retention on top of the
runtime (``runtime.py``): a scheduled mutation stages ``inProgress`` and
``success`` inside its own transaction, so only it sees itself running; a user
error marks the job ``failed`` in a separate transaction; an action's steps
are committed one by one. Split from ``runtime.py`` to keep each module to one
job; these functions take the runtime as their first argument.
"""

from __future__ import annotations

import heapq
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from convex_sim.checkpoint import Checkpoint
from convex_sim.database import ConflictError
from convex_sim.db import DatabaseWriter, DbSession
from convex_sim.errors import ConvexSimError, short_repr
from convex_sim.references import handle_for
from convex_sim.scheduler import (
    CANCELED,
    FAILED,
    FINISHED_STATES,
    IN_PROGRESS,
    JOB_RETENTION_MS,
    PENDING,
    SCHEDULED_FUNCTIONS_TABLE,
    SKIPPED,
    SUCCESS,
    DueJob,
    SchedulingError,
    canonical_name,
    check_delay,
    check_run_at,
    due_job,
    new_job_row,
    path_from_name,
    state_of,
)
from convex_sim.trace import FaultInjected, FunctionScheduled, JobCanceled, JobStateChanged
from convex_sim.transaction import Transaction
from convex_sim.values import Id, check_value, contains_commit_ts, copy_value

if TYPE_CHECKING:
    from convex_sim.components import Namespace
    from convex_sim.resolution import Target
    from convex_sim.runtime import Frame, Runtime, TransactionScope

# -- scheduling (§6) -------------------------------------------------------------------


async def schedule_after(
    runtime: Runtime, frame: Frame, delay_ms: Any, reference: Any, args: Any
) -> Id:
    return await schedule(runtime, frame, frame.now_ms + check_delay(delay_ms), reference, args)


async def schedule_at(runtime: Runtime, frame: Frame, when: Any, reference: Any, args: Any) -> Id:
    return await schedule(runtime, frame, check_run_at(when, frame.now_ms), reference, args)


async def schedule(runtime: Runtime, frame: Frame, when_ms: float, reference: Any, args: Any) -> Id:
    target = runtime.resolve(reference, frame.namespace)
    args = {} if args is None else args
    if not isinstance(args, dict):
        raise SchedulingError(
            f"scheduled function arguments must be a dict, got {short_repr(args)}"
        )
    check_value(args, path="(scheduled args)")
    if contains_commit_ts(args):
        raise SchedulingError(
            "ctx.db.vars.commit_ts cannot be passed to a scheduled function: it has no "
            "value until this mutation commits"
        )
    args = copy_value(args)
    name = (
        canonical_name(target.path)
        if target.namespace is frame.namespace
        else handle_for(target.namespace.path, target.path)
    )
    row = new_job_row(name, args, when_ms)

    async def insert(writer: DatabaseWriter, scope: TransactionScope) -> Id:
        scope.budget.charge(args)
        return await writer.insert(SCHEDULED_FUNCTIONS_TABLE, row)

    if frame.scope is not None:
        job_id = await insert(system_writer(runtime, frame, frame.scope), frame.scope)
    else:
        if frame.job is not None and job_state(runtime, frame.job) == CANCELED:
            row["state"] = {"kind": CANCELED}
            row["completedTime"] = frame.now_ms
        job_id = await system_mutation(runtime, frame, insert)
    runtime.record(
        FunctionScheduled,
        frame.execution,
        job=str(job_id),
        function=target.label,
        run_at_ms=when_ms,
        args=copy_value(args),  # checked above: a copy is all the trace needs
    )
    return job_id


SELF_CANCEL_WARNING: Final = "a scheduled function cannot cancel itself"
"""Logged (at ``warn``) when a running job cancels its own row: a no-op, deprecated (§6.6)."""


async def cancel(runtime: Runtime, frame: Frame, job_id: Any) -> None:
    if not isinstance(job_id, str):
        raise SchedulingError(f"cancel expects a scheduled function id, got {job_id!r}")

    async def cancel_in(writer: DatabaseWriter, scope: TransactionScope) -> None:
        row = await writer.get(job_id)
        if row is None:
            raise SchedulingError(f"cancel: no scheduled function with id {job_id!r}")
        if job_id == scope.job:
            runtime.log(frame, "warn", f"{SELF_CANCEL_WARNING} ({job_id}); ignored")
            return
        if state_of(row) in (PENDING, IN_PROGRESS):
            await writer.patch(job_id, {"state": {"kind": CANCELED}, "completedTime": frame.now_ms})
            runtime.record(JobCanceled, frame.execution, job=str(job_id))

    if frame.scope is not None:
        await cancel_in(system_writer(runtime, frame, frame.scope), frame.scope)
    else:
        await system_mutation(runtime, frame, cancel_in)


def system_writer(runtime: Runtime, frame: Frame, scope: TransactionScope) -> DatabaseWriter:
    assert frame.session is not None
    session = DbSession(
        database=runtime.database,
        transaction=scope.transaction,
        namespace=frame.namespace.path,
        schema=None,
        seeds=frame.seeds,
        creation_times=scope.creation_times,
        observer=frame.session.observer,
        system_writable=True,
    )
    return DatabaseWriter(session, system=True)


async def system_mutation(
    runtime: Runtime,
    frame: Frame,
    body: Callable[[DatabaseWriter, TransactionScope], Awaitable[Any]],
) -> Any:
    """A small transaction of the runtime's own, committed at once (action scheduling)."""
    while True:
        transaction = runtime.database.begin()
        now_ms = runtime.clock.now_ms
        scope = runtime._scope(transaction, now_ms)
        inner = runtime._new_frame(
            None,
            "mutation",
            frame.namespace,
            parent=frame,
            scope=scope,
            read_only=False,
            now_ms=now_ms,
            job=frame.job,
        )
        try:
            result = await body(system_writer(runtime, inner, scope), scope)
            await Checkpoint("commit", "scheduler")
            runtime._commit(inner, transaction, now_ms)
            return result
        except ConflictError:
            await runtime.retry_policy.sleep(0.0)
        except BaseException:
            runtime.database.release(transaction)
            raise


# -- running scheduled jobs (§6.4, §6.5) ---------------------------------------------


def job_table(runtime: Runtime, namespace: str) -> int:
    number = runtime.database.store.table_number(namespace, SCHEDULED_FUNCTIONS_TABLE, create=False)
    assert number is not None
    return number


def job_state(runtime: Runtime, job_id: str) -> str | None:
    return state_of(runtime.database.store.get(job_id, runtime.database.store.latest_ts))


def stage_job(
    runtime: Runtime, transaction: Transaction, job: tuple[str, str], state: str, now_ms: float
) -> bool:
    """Move a job row to ``state`` inside ``transaction``; False if it is no longer ours."""
    namespace, job_id = job
    number = job_table(runtime, namespace)
    row = transaction.get(number, job_id)
    expected = PENDING if state == IN_PROGRESS else IN_PROGRESS
    if row is None or state_of(row) != expected:
        return False
    updated = {**row, "state": {"kind": state}}
    if state == SUCCESS:
        updated["completedTime"] = now_ms
    transaction.write(number, job_id, updated)
    return True


def pending_jobs(runtime: Runtime, transaction: Transaction, now_ms: float) -> list[DueJob]:
    """The queue entries of the rows ``transaction`` leaves pending, scheduled at ``now_ms``.

    Also notes the rows it finishes, for their 7-day retention.
    """
    jobs = []
    for doc_id, write in transaction.writes.items():
        namespace = runtime._job_tables.get(write.table_number)
        if namespace is None or write.document is None:
            continue
        state = state_of(write.document)
        if state == PENDING:
            jobs.append(due_job(write.document, namespace, doc_id, now_ms))
        elif state in FINISHED_STATES:
            note_finished(runtime, write.document, namespace, doc_id)
    return jobs


def note_finished(runtime: Runtime, row: dict[str, Any], namespace: str, job_id: str) -> None:
    """Remember when a finished row is to be deleted (§6.8); rows never completed stay."""
    if "completedTime" in row:
        expires = float(row["completedTime"]) + JOB_RETENTION_MS
        heapq.heappush(runtime._finished_jobs, (expires, job_id, namespace))


def delete_expired_jobs(runtime: Runtime) -> int:
    """Delete finished job rows 7 days after completion, as the backend's GC does (§6.8)."""
    now_ms = runtime.clock.now_ms
    expired: list[tuple[str, str]] = []
    while runtime._finished_jobs and runtime._finished_jobs[0][0] <= now_ms:
        _, job_id, namespace = heapq.heappop(runtime._finished_jobs)
        expired.append((namespace, job_id))
    if not expired:
        return 0
    transaction = runtime.database.begin()
    for namespace, job_id in expired:
        number = job_table(runtime, namespace)
        if state_of(transaction.get(number, job_id, record=False)) in FINISHED_STATES:
            transaction.write(number, job_id, None)
    runtime.database.commit(transaction, now_ms=now_ms, label="0")
    return len(expired)


async def run_job(runtime: Runtime, job: DueJob) -> None:
    """Run one due job if it is still pending; record how its row ends."""
    namespace = runtime.namespaces[job.namespace]
    store = runtime.database.store
    row = store.get(job.job_id, store.latest_ts)
    if state_of(row) != PENDING:
        return
    assert row is not None
    name = str(row["name"])
    args = row["args"][0]
    try:
        target = resolve_job_function(runtime, namespace, name)
    except ConvexSimError as error:
        await finish_job(runtime, namespace, job.job_id, name, FAILED, str(error))
        return
    kind = target.definition.function_type
    if kind == "mutation":
        try:
            result = await runtime.run_mutation(target, args, job=(namespace.path, job.job_id))
        except Exception as error:  # a user error fails the job in its own transaction
            await finish_job(runtime, namespace, job.job_id, name, FAILED, _job_error(error))
            return
        if result is not SKIPPED:
            runtime.record(JobStateChanged, 0, job=job.job_id, function=name, state=SUCCESS)
    elif kind == "action":
        if not await finish_job(runtime, namespace, job.job_id, name, IN_PROGRESS, None):
            return
        try:
            await runtime.run_action(target, args, job=job.job_id)
        except Exception as error:
            await finish_job(runtime, namespace, job.job_id, name, FAILED, _job_error(error))
            return
        await finish_job(runtime, namespace, job.job_id, name, SUCCESS, None)
    else:
        await finish_job(
            runtime, namespace, job.job_id, name, FAILED, f"Unsupported function type: {kind}"
        )


async def finish_job(
    runtime: Runtime, namespace: Namespace, job_id: str, name: str, state: str, error: str | None
) -> bool:
    """A separate transaction moving a job to ``state`` (failed, or an action's steps)."""
    number = job_table(runtime, namespace.path)
    while True:
        transaction = runtime.database.begin()
        now_ms = runtime.clock.now_ms
        row = transaction.get(number, job_id)
        allowed = {
            IN_PROGRESS: {PENDING},
            SUCCESS: {IN_PROGRESS},
            FAILED: {PENDING, IN_PROGRESS},
        }
        if row is None or state_of(row) not in allowed[state]:
            runtime.database.release(transaction)
            return False
        kind: dict[str, Any] = {"kind": state}
        if error is not None:
            kind["error"] = error
        updated = {**row, "state": kind}
        if state != IN_PROGRESS:
            updated["completedTime"] = now_ms
        transaction.write(number, job_id, updated)
        await Checkpoint("commit", f"job {state}")
        try:
            pending_jobs(runtime, transaction, now_ms)  # notes the finished row for retention
            runtime.database.commit(transaction, now_ms=now_ms, label="0")
        except ConflictError:
            await runtime.retry_policy.sleep(0.0)
            continue
        runtime.record(JobStateChanged, 0, job=job_id, function=name, state=state)
        return True


def next_due(runtime: Runtime) -> DueJob | None:
    """The earliest queued job that is still pending (stale entries are dropped).

    A job that a planned fault holds back (stuck pending, a lagging scheduler)
    is queued again at its later start; its row stays ``pending``.
    """
    store = runtime.database.store
    while True:
        job = runtime.due.peek()
        if job is None:
            return None
        row = store.get(job.job_id, store.latest_ts)
        if state_of(row) != PENDING:
            runtime.due.pop()
            continue
        if not runtime.faults.armed:
            return job
        assert row is not None
        label = job_label(runtime, job, str(row["name"]))
        delay = runtime.faults.start_delay(job.job_id, label)
        if delay <= 0:
            return job
        runtime.due.pop()
        runtime.due.push(replace(job, due_ms=job.due_ms + delay))
        runtime.record(
            FaultInjected,
            0,
            fault="delay",
            function=label,
            job=job.job_id,
            detail=f"starts {delay} ms after it falls due",
        )


def job_label(runtime: Runtime, job: DueJob, name: str) -> str:
    """The label of the function a job row names ("" if it names none: it will fail)."""
    try:
        return resolve_job_function(runtime, runtime.namespaces[job.namespace], name).label
    except ConvexSimError:
        return ""


def resolve_job_function(runtime: Runtime, namespace: Namespace, name: str) -> Target:
    """The function a job row's ``name`` (a canonical path or a handle) stands for."""
    return runtime.resolve(
        name if name.startswith("function://") else path_from_name(name), namespace
    )


def _job_error(error: BaseException) -> str:
    return f"Uncaught {type(error).__name__}: {error}"
