"""The function runtime: running executions, nesting, and committing them.

Implements convex-semantics.md §5 (nested calls as sub-transactions, snapshot
reads, depth), §4.6 (retrying a mutation that lost an OCC race) and §8.1
(frozen time, seeded randomness per execution). The :class:`Runtime` is owned
by the simulator; everything here is a coroutine that awaits checkpoints, so
whoever drives it decides the interleaving.

A *frame* is one function execution. Top-level queries and mutations own a
transaction; nested ``run_query``/``run_mutation`` frames share their
caller's transaction (``TransactionScope``), mutations behind a savepoint.
Actions have no transaction: each call they make is its own top-level one.
Around this module: references are resolved in ``resolution.py``, arguments
and results checked in ``boundary.py``, and scheduled functions handled in
``jobs.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Final

from convex_sim import jobs
from convex_sim.boundary import Boundary
from convex_sim.checkpoint import Checkpoint, drive
from convex_sim.clock import VirtualClock
from convex_sim.components import AppDefinition, Namespace, build_namespaces
from convex_sim.context import ActionCtx, MutationCtx, NestingError, QueryCtx
from convex_sim.context import Frame as Frame
from convex_sim.context import TransactionScope as TransactionScope
from convex_sim.database import ConflictError, Database
from convex_sim.db import CreationTimes, DatabaseReader, DbSession
from convex_sim.errors import ConvexSimError
from convex_sim.faults import Faults
from convex_sim.functions import FunctionType
from convex_sim.limits import MAX_CALL_DEPTH, LimitExceededError
from convex_sim.occ import OccFailureError, RetryPolicy
from convex_sim.resolution import Resolver, Target
from convex_sim.resume import CountingRandom, capture, check_documents, resume
from convex_sim.scheduler import (
    IN_PROGRESS,
    JOB_ROW_FIELDS,
    SCHEDULED_FUNCTIONS_TABLE,
    SKIPPED,
    SUCCESS,
    DueJob,
    DueQueue,
)
from convex_sim.schema import Schema
from convex_sim.seeds import ExecutionSeed
from convex_sim.store.base import Store
from convex_sim.trace import (
    Committed,
    Conflict,
    DocumentRead,
    DocumentWritten,
    ExecutionStarted,
    Failed,
    FaultInjected,
    Finished,
    LogLine,
    Retried,
    Trace,
    TraceEvent,
    traceable,
)
from convex_sim.transaction import Transaction
from convex_sim.values import (
    Id,
    check_value,
    contains_commit_ts,
    copy_value,
    resolve_commit_ts,
)

_CURRENT: ContextVar[Frame | None] = ContextVar("convex_sim_frame", default=None)
_WRITE_OPERATIONS: Final = frozenset({"db.insert", "db.patch", "db.replace", "db.delete"})


def _observed(operation: str) -> tuple[type[TraceEvent], str, str]:
    """The event an observed database call becomes, its ``operation`` and detail field."""
    if operation in _WRITE_OPERATIONS:
        return DocumentWritten, operation.removeprefix("db."), "id"
    return DocumentRead, operation.removeprefix("db."), "detail"


_OBSERVED: dict[str, tuple[type[TraceEvent], str, str]] = {}
"""``_observed`` per operation name, filled as operations first occur."""


class FunctionTypeError(ConvexSimError, TypeError):
    """A function was called as another kind (``run_query`` on a mutation, ...)."""


def now() -> float:
    """The calling execution's frozen virtual time in ms, like ``Date.now()`` in Convex."""
    frame = _CURRENT.get()
    if frame is None:
        raise ConvexSimError(
            "convex_sim.now() is only available inside a function execution; "
            "outside one, read sim.now"
        )
    return frame.now_ms


def current_frame() -> Frame | None:
    return _CURRENT.get()


def create_function_handle(reference: Any) -> str:
    """A ``function://`` handle string for a reference, resolved from the calling function.

    Handles let another namespace (a component) call this function, internal
    ones included (§5.6). From a test, use ``Simulator.function_handle``.
    """
    frame = _CURRENT.get()
    if frame is None:
        raise ConvexSimError(
            "create_function_handle works inside a function execution; "
            "from a test, use sim.function_handle(reference)"
        )
    return frame.runtime.handle(reference, frame.namespace)


class Runtime:
    """Runs functions of one deployment against its database, clock and trace."""

    def __init__(
        self,
        app: AppDefinition,
        *,
        seed: int,
        clock: VirtualClock,
        trace: Trace,
        store: Store | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.namespaces = build_namespaces(app)
        self.database = Database(store)
        self.clock = clock
        self.trace = trace
        self.seed = seed
        self.rng = CountingRandom(seed)
        self.schedule_rng = CountingRandom(seed)
        """The simulator's own interleaving choices, when no schedule is given (kept, like
        ``rng``, across a restart: see ``resume``)."""
        self.retry_policy = retry_policy or RetryPolicy()
        self.due = DueQueue()
        self._next_execution = 1
        self._job_tables: dict[int, str] = {}
        self._finished_jobs: list[tuple[float, str, str]] = []
        self.resolver = Resolver(self.namespaces)
        self.boundary = Boundary(self.database.store)
        self.conflicts: dict[str, int] = {}
        self.retries: dict[str, int] = {}
        self.faults = Faults(self.resolver, self.namespaces)
        store = self.database.store
        saved = store.load_state()
        has_history = store.latest_ts > 0 or saved is not None
        if has_history:
            # Before anything is written: a store the schema rejects stays as it was.
            for namespace in self.namespaces.values():
                if namespace.schema is not None:
                    check_documents(store, namespace.path, namespace.schema, store.label)
        for namespace in self.namespaces.values():
            self.database.install_schema(namespace.path, namespace.schema or Schema({}))
            number = store.table_number(namespace.path, SCHEDULED_FUNCTIONS_TABLE, create=True)
            assert number is not None
            store.declare_table(number)
            store.present_table(number, JOB_ROW_FIELDS)
            self._job_tables[number] = namespace.path
        self.database.state_source = self.state
        if has_history:
            resume(self, saved)

    def state(self) -> dict[str, Any]:
        """What a restart needs of this runtime (``resume.capture``)."""
        return capture(self)

    # -- trace ------------------------------------------------------------------

    def record(self, make: type[TraceEvent], execution: int, **fields: Any) -> None:
        self.trace.note(make, self.clock.now_ms, execution, fields)

    def log(self, frame: Frame, level: str, message: str) -> None:
        self.record(LogLine, frame.execution, level=level, message=message)

    # -- references (resolution.py) ------------------------------------------------

    def resolve(self, reference: Any, caller: Namespace, *, client: bool = False) -> Target:
        """The function a reference names, as seen from ``caller`` (see :class:`Resolver`)."""
        return self.resolver.resolve(reference, caller, client=client)

    def handle(self, reference: Any, caller: Namespace) -> str:
        return self.resolver.handle(reference, caller)

    # -- frames -------------------------------------------------------------------

    def _new_frame(
        self,
        target: Target | None,
        function_type: FunctionType,
        namespace: Namespace,
        *,
        parent: Frame | None,
        scope: TransactionScope | None,
        read_only: bool,
        now_ms: float | None = None,
        job: str | None = None,
    ) -> Frame:
        if parent is None:
            depth = 0
            seeds = ExecutionSeed(self.rng.getrandbits(64))
        else:
            depth = parent.depth + 1
            if depth > MAX_CALL_DEPTH:
                raise LimitExceededError(
                    "MaximumCallDepthExceeded",
                    f"calls nested more than {MAX_CALL_DEPTH} deep",
                )
            seeds = parent.seeds.child()
        execution = self._next_execution
        self._next_execution = execution + 1
        return Frame(
            execution,
            namespace,
            target,
            function_type,
            self.clock.now_ms if now_ms is None else now_ms,
            seeds,
            depth,
            scope,
            parent,
            read_only,
            self,
            job,
        )

    def _session(self, frame: Frame) -> DbSession:
        """``frame.session`` the first time it is asked for."""
        scope = frame.scope
        assert scope is not None
        return DbSession(
            database=self.database,
            transaction=scope.transaction,
            namespace=frame.namespace.path,
            schema=frame.namespace.schema,
            seeds=frame.seeds,
            creation_times=scope.creation_times,
            observer=self._observer(frame.execution),
        )

    def _observer(self, execution: int) -> Callable[[str, str, str, Any], None]:
        # Holds the execution number, not the frame: a frame -> session -> observer
        # -> frame cycle would leave every finished execution to the cyclic GC.
        note = self.trace.note
        clock = self.clock

        def observe(operation: str, table: str, detail: str, document: Any) -> None:
            known = _OBSERVED.get(operation)
            if known is None:
                known = _OBSERVED[operation] = _observed(operation)
            make, name, field = known
            fields = {"operation": name, "table": table, field: detail}
            if make is DocumentWritten:
                # Stored documents are never changed in place: a reference is a snapshot.
                fields["value"] = document
            note(make, clock.now_ms, execution, fields)

        return observe

    def _scope(
        self, transaction: Transaction, now_ms: float, job: str | None = None
    ) -> TransactionScope:
        return TransactionScope(transaction, CreationTimes(self.database, now_ms), job=job)

    # -- invoking a handler ---------------------------------------------------------

    async def _invoke(self, frame: Frame, target: Target, args: Any, *, finish: bool = True) -> Any:
        """Validate, run the handler, validate its result; record start/finish/failure.

        ``finish=False``: the caller records ``Finished`` itself (after a commit).
        """
        boundary = self.boundary
        try:
            checked = boundary.check_args(target, args)
        except BaseException as error:
            self._record_start(frame, target, traceable(args))
            self._record_failure(frame, error)
            raise
        # Validated arguments are Convex values already: the trace needs only a copy.
        self._record_start(frame, target, copy_value(checked))
        definition = target.definition
        token = _CURRENT.set(frame)
        try:
            ctx: QueryCtx | MutationCtx | ActionCtx
            if definition.function_type == "action":
                ctx = ActionCtx(self, frame)
            elif frame.read_only:
                ctx = QueryCtx(self, frame)
            else:
                ctx = MutationCtx(self, frame)
            if self.faults.armed:
                self._inject_failure(frame, target)
            result = await definition.handler(ctx, checked)
            result = boundary.check_result(target, result)
        except BaseException as error:
            self._record_failure(frame, error)
            raise
        finally:
            _CURRENT.reset(token)
        if finish:
            self._record_finish(frame, result)
        return result

    def _inject_failure(self, frame: Frame, target: Target) -> None:
        """Raise a planned ``fail_next`` fault in place of the handler."""
        fault = self.faults.take_failure(target.label)
        if fault is not None:
            self.record(
                FaultInjected,
                frame.execution,
                fault="fail",
                function=target.label,
                job="" if frame.job is None else str(frame.job),
                detail=str(fault),
            )
            raise fault

    def _record_start(self, frame: Frame, target: Target, args: Any) -> None:
        parent = frame.parent
        self.record(
            ExecutionStarted,
            frame.execution,
            function=target.label,
            function_type=target.definition.function_type,
            component=target.namespace.path,
            args=args,
            parent=None if parent is None else parent.execution,
            job=frame.job,
            snapshot=frame.snapshot,
            attempt=frame.attempt,
        )

    def _record_finish(self, frame: Frame, result: Any) -> None:
        """``result`` is a checked Convex value: the trace needs only a copy."""
        self.record(Finished, frame.execution, result=copy_value(result))

    def _record_failure(self, frame: Frame, error: BaseException) -> None:
        self.record(Failed, frame.execution, error=type(error).__name__, message=str(error))

    # -- top-level executions ---------------------------------------------------------

    async def run_query(self, target: Target, args: Any, *, parent: Frame | None = None) -> Any:
        _expect(target, "query")
        transaction = self.database.begin(read_only=True)
        now_ms = self.clock.now_ms if parent is None else parent.now_ms
        frame = self._new_frame(
            target,
            "query",
            target.namespace,
            parent=parent,
            scope=self._scope(transaction, now_ms),
            read_only=True,
            now_ms=now_ms,
        )
        try:
            return await self._invoke(frame, target, args)
        finally:
            self.database.release(transaction)

    async def run_mutation(
        self,
        target: Target,
        args: Any,
        *,
        parent: Frame | None = None,
        job: tuple[str, str] | None = None,
    ) -> Any:
        """Run a mutation in its own transaction, retrying on conflicts (§4.6, §6.4).

        ``job`` is ``(namespace, id)`` of the scheduled function being run: its
        row moves ``pending → inProgress → success`` inside this transaction.
        """
        _expect(target, "mutation")
        job_id = None if job is None else job[1]
        attempt = 0
        while True:
            attempt += 1
            transaction = self.database.begin()
            now_ms = self.clock.now_ms
            frame = self._new_frame(
                target,
                "mutation",
                target.namespace,
                parent=parent,
                scope=self._scope(transaction, now_ms, job=job_id),
                read_only=False,
                now_ms=now_ms,
                job=job_id,
            )
            frame.attempt = attempt
            try:
                if job is not None and not jobs.stage_job(
                    self, transaction, job, IN_PROGRESS, now_ms
                ):
                    self.database.release(transaction)
                    return SKIPPED
                result = await self._invoke(frame, target, args, finish=False)
                if job is not None:
                    jobs.stage_job(self, transaction, job, SUCCESS, now_ms)
                # Give way once more: another execution may commit between our last
                # read and our commit, which is exactly when OCC has to catch it.
                await Checkpoint("commit", target.label)
                ts = self._commit(frame, transaction, now_ms)
                # A returned placeholder is resolved once the commit timestamp exists (§4.8).
                if contains_commit_ts(result):
                    result = resolve_commit_ts(result, ts)
                self._record_finish(frame, result)
                return result
            except ConflictError as conflict:
                self._note_conflict(frame, target, conflict)
                unlimited = job is not None
                if not unlimited and attempt > self.retry_policy.client_retries:
                    raise OccFailureError(
                        target.label, conflict, self._table_name(conflict.change.table_number)
                    ) from None
                delay = self.retry_policy.backoff_ms(attempt, self.rng, unlimited=unlimited)
                self.retries[target.label] = self.retries.get(target.label, 0) + 1
                self.record(Retried, frame.execution, attempt=attempt + 1, backoff_ms=delay)
                await self.retry_policy.sleep(delay)
            except BaseException:
                self.database.release(transaction)
                raise

    def _commit(self, frame: Frame, transaction: Transaction, now_ms: float) -> int:
        """Commit (or raise ConflictError); returns the commit timestamp."""
        due = jobs.pending_jobs(self, transaction, now_ms)
        execution = frame.execution
        result = self.database.commit(transaction, now_ms=now_ms, label=str(execution))
        ts = result.ts
        self.record(Committed, execution, ts=ts, writes=result.writes)
        for job in due:
            self.due.push(job)
        return ts

    def _table_name(self, number: int) -> str:
        info = self.database.store.table_info(number)
        return info.name if info else f"#{number}"

    def _note_conflict(self, frame: Frame, target: Target, conflict: ConflictError) -> None:
        self.conflicts[target.label] = self.conflicts.get(target.label, 0) + 1
        change = conflict.change
        key = change.new_key if change.new_key is not None else change.old_key
        self.record(
            Conflict,
            frame.execution,
            table=self._table_name(change.table_number),
            index=conflict.change.index,
            interval=f"[{conflict.interval.start.hex()}, {conflict.interval.end.hex()})",
            key=(key or b"").hex(),
            conflicting_execution=int(conflict.conflicting_label or 0),
            conflicting_ts=conflict.conflicting_ts,
        )

    async def run_action(
        self, target: Target, args: Any, *, parent: Frame | None = None, job: str | None = None
    ) -> Any:
        _expect(target, "action")
        frame = self._new_frame(
            target, "action", target.namespace, parent=parent, scope=None, read_only=True, job=job
        )
        return await self._invoke(frame, target, args)

    async def run_in(self, namespace: Namespace, function: Callable[[Any], Awaitable[Any]]) -> Any:
        """``sim.run``: ``function(ctx)`` as a mutation with ``db.system`` write access off."""
        transaction = self.database.begin()
        now_ms = self.clock.now_ms
        frame = self._new_frame(
            None,
            "mutation",
            namespace,
            parent=None,
            scope=self._scope(transaction, now_ms),
            read_only=False,
            now_ms=now_ms,
        )
        self.record(
            ExecutionStarted,
            frame.execution,
            function=getattr(function, "__name__", "run"),
            function_type="mutation",
            component=namespace.path,
            args={},
        )
        token = _CURRENT.set(frame)
        try:
            result = await function(MutationCtx(self, frame))
            check_value(result)
            self._commit(frame, transaction, now_ms)
        except BaseException as error:
            self.database.release(transaction)
            self.record(Failed, frame.execution, error=type(error).__name__, message=str(error))
            raise
        finally:
            _CURRENT.reset(token)
        self.record(Finished, frame.execution, result=traceable(result))
        return result

    # -- scheduled functions (jobs.py) -------------------------------------------------

    async def schedule_after(self, frame: Frame, delay_ms: Any, reference: Any, args: Any) -> Id:
        return await jobs.schedule_after(self, frame, delay_ms, reference, args)

    async def schedule_at(self, frame: Frame, when: Any, reference: Any, args: Any) -> Id:
        return await jobs.schedule_at(self, frame, when, reference, args)

    async def cancel(self, frame: Frame, job_id: Any) -> None:
        await jobs.cancel(self, frame, job_id)

    async def run_job(self, job: DueJob) -> None:
        await jobs.run_job(self, job)

    def next_due(self) -> DueJob | None:
        return jobs.next_due(self)

    def delete_expired_jobs(self) -> int:
        return jobs.delete_expired_jobs(self)

    def peek(
        self, namespace: Namespace, function: Callable[[Any], Coroutine[Any, Any, Any]]
    ) -> Any:
        """``function(db)`` on a read-only snapshot, recorded nowhere (see ``Simulator.peek``)."""
        transaction = self.database.begin(read_only=True)
        session = DbSession(
            database=self.database,
            transaction=transaction,
            namespace=namespace.path,
            schema=namespace.schema,
            seeds=ExecutionSeed(0),
            creation_times=CreationTimes(self.database, self.clock.now_ms),
        )
        try:
            return drive(function(DatabaseReader(session)))
        finally:
            self.database.release(transaction)

    # -- nested calls (§5.1–§5.4) ------------------------------------------------------

    async def call_query(self, frame: Frame, reference: Any, args: Any, *, snapshot: bool) -> Any:
        target = self.resolver.resolve(reference, frame.namespace)
        _expect(target, "query")
        if frame.function_type == "action":
            if snapshot:
                raise NestingError("`useStaleSnapshot` is only supported in mutations")
            return await self.run_query(target, args, parent=frame)
        if snapshot and frame.function_type != "mutation":
            raise NestingError("`useStaleSnapshot` is only supported in mutations")
        assert frame.scope is not None
        if snapshot:
            # The caller's begin snapshot without its pending writes; reads are discarded.
            view = self.database.begin_at(frame.scope.transaction.snapshot_ts, read_only=True)
            scope = self._scope(view, frame.now_ms)
        else:
            scope = frame.scope
        child = self._new_frame(
            target,
            "query",
            target.namespace,
            parent=frame,
            scope=scope,
            read_only=True,
            now_ms=frame.now_ms,
            job=frame.job,
        )
        child.snapshot = snapshot
        try:
            return await self._invoke(child, target, args)
        finally:
            if snapshot:
                self.database.release(scope.transaction)

    async def call_mutation(self, frame: Frame, reference: Any, args: Any) -> Any:
        target = self.resolver.resolve(reference, frame.namespace)
        _expect(target, "mutation")
        if frame.function_type == "action":
            return await self.run_mutation(target, args, parent=frame)
        if frame.function_type != "mutation":
            raise NestingError(
                f"Cannot call a mutation function from a {frame.function_type} function"
            )
        scope = frame.scope
        assert scope is not None
        child = self._new_frame(
            target,
            "mutation",
            target.namespace,
            parent=frame,
            scope=scope,
            read_only=False,
            now_ms=frame.now_ms,
            job=frame.job,
        )
        transaction = scope.transaction
        mark = transaction.savepoint()
        budget = scope.budget
        budget_before = (budget.count, budget.args_bytes)
        try:
            return await self._invoke(child, target, args)
        except BaseException:
            transaction.rollback_to(mark)  # only the nested writes; reads stay (§5.3)
            budget.count, budget.args_bytes = budget_before
            raise

    async def call_action(self, frame: Frame, reference: Any, args: Any) -> Any:
        target = self.resolve(reference, frame.namespace)
        _expect(target, "action")
        return await self.run_action(target, args, parent=frame)


def _expect(target: Target, kind: FunctionType) -> None:
    actual = target.definition.function_type
    if actual != kind:
        raise FunctionTypeError(
            f"Trying to execute {target.label} as {kind.capitalize()}, but it is defined as "
            f"{actual.capitalize()}."
        )
