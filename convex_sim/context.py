"""The ``ctx`` objects handlers receive: query, mutation and action contexts.

Thin facades over the runtime (``runtime.py``): each method turns into one
runtime call on behalf of the execution's frame. What a context offers follows
convex-semantics.md §5.1: a query may only ``run_query``; a mutation may
``run_query`` (also as a snapshot read) and ``run_mutation``; an action
``run_query``, ``run_mutation`` and ``run_action``, each its own transaction.
Calling something a context does not allow fails with Convex's message.

A context stands on its execution's :class:`Frame` (and the frame on the
:class:`TransactionScope` it shares with its nested calls); both live here so
that the runtime module keeps to running them.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from convex_sim.db import DatabaseReader, DatabaseWriter
from convex_sim.errors import ConvexSimError
from convex_sim.scheduler import SchedulingBudget
from convex_sim.values import Id

if TYPE_CHECKING:
    from convex_sim.components import Namespace
    from convex_sim.db import CreationTimes, DbSession
    from convex_sim.functions import FunctionType
    from convex_sim.resolution import Target
    from convex_sim.runtime import Runtime
    from convex_sim.seeds import ExecutionSeed
    from convex_sim.transaction import Transaction

LOG_LEVELS = ("debug", "info", "log", "warn", "error")


class NestingError(ConvexSimError, TypeError):
    """A function called another kind of function it may not call (§5.1)."""


# -- what a ctx stands on: one execution's frame ------------------------------------


@dataclass(slots=True)
class TransactionScope:
    """What a top-level query/mutation and its nested calls share."""

    transaction: Transaction
    creation_times: CreationTimes
    budget: SchedulingBudget = field(default_factory=SchedulingBudget)
    job: str | None = None
    """The scheduled function this transaction runs: its row is ``inProgress`` only here."""


class Frame:
    """One function execution.

    Its ``session`` (what ``ctx.db`` runs on) is made on first use: the
    scope it needs is fixed when the frame is made, and building it has no
    effect of its own, so a handler that never touches the database never
    pays for one.
    """

    __slots__ = (
        "_session",
        "attempt",
        "depth",
        "execution",
        "function_type",
        "job",
        "namespace",
        "now_ms",
        "parent",
        "read_only",
        "runtime",
        "scope",
        "seeds",
        "snapshot",
        "target",
    )

    def __init__(
        self,
        execution: int,
        namespace: Namespace,
        target: Target | None,
        function_type: FunctionType,
        now_ms: float,
        seeds: ExecutionSeed,
        depth: int,
        scope: TransactionScope | None,
        parent: Frame | None,
        read_only: bool,
        runtime: Runtime,
        job: str | None = None,
        snapshot: bool = False,
        attempt: int = 1,
    ) -> None:
        self.execution = execution
        self.namespace = namespace
        self.target = target
        self.function_type = function_type
        self.now_ms = now_ms
        self.seeds = seeds
        self.depth = depth
        self.scope = scope
        self.parent = parent
        self.read_only = read_only
        self.runtime = runtime
        self.job = job
        self._session: DbSession | None = None
        self.snapshot = snapshot
        self.attempt = attempt

    @property
    def session(self) -> DbSession | None:
        """The execution's database session (None for actions, which have no transaction)."""
        session = self._session
        if session is None and self.scope is not None:
            session = self._session = self.runtime._session(self)
        return session

    @property
    def rng(self) -> random.Random:
        """``ctx.random``: made on first use (most executions never ask)."""
        return self.seeds.random

    def __repr__(self) -> str:
        return f"<Frame {self.execution} {self.function_type} depth={self.depth}>"


# -- ctx --------------------------------------------------------------------------


class Logger:
    """``ctx.log``: lines are captured per execution into the trace, never printed."""

    def __init__(self, runtime: Runtime, frame: Frame) -> None:
        self._runtime = runtime
        self._frame = frame

    def _emit(self, level: str, parts: tuple[Any, ...]) -> None:
        message = " ".join(part if isinstance(part, str) else repr(part) for part in parts)
        self._runtime.log(self._frame, level, message)

    def debug(self, *parts: Any) -> None:
        self._emit("debug", parts)

    def info(self, *parts: Any) -> None:
        self._emit("info", parts)

    def log(self, *parts: Any) -> None:
        self._emit("log", parts)

    def warn(self, *parts: Any) -> None:
        self._emit("warn", parts)

    def error(self, *parts: Any) -> None:
        self._emit("error", parts)


@dataclass(frozen=True)
class Meta:
    """``ctx.meta``: request metadata (§6.7)."""

    scheduled_function_id: str | None


class Scheduler:
    """``ctx.scheduler``: ``run_after``, ``run_at`` and ``cancel`` (§6)."""

    def __init__(self, runtime: Runtime, frame: Frame) -> None:
        self._runtime = runtime
        self._frame = frame

    async def run_after(self, delay_ms: float, reference: Any, args: Any = None) -> Id:
        """Run ``reference`` ``delay_ms`` after this execution's frozen time."""
        return await self._runtime.schedule_after(self._frame, delay_ms, reference, args)

    async def run_at(self, when: Any, reference: Any, args: Any = None) -> Id:
        """Run ``reference`` at ``when`` (ms since the epoch, or a ``datetime``)."""
        return await self._runtime.schedule_at(self._frame, when, reference, args)

    async def cancel(self, job_id: str) -> None:
        """Cancel a pending (or running) job; a finished one is left alone (§6.6)."""
        await self._runtime.cancel(self._frame, job_id)


class _BaseCtx:
    """What every context offers. ``log``, ``meta`` and ``scheduler`` are made on
    first use: most executions never touch them, and a context is built for
    every execution."""

    def __init__(self, runtime: Runtime, frame: Frame) -> None:
        self._runtime = runtime
        self._frame = frame

    @functools.cached_property
    def log(self) -> Logger:
        """``console.log`` and friends: lines go into the trace."""
        return Logger(self._runtime, self._frame)

    @functools.cached_property
    def meta(self) -> Meta:
        return Meta(self._frame.job)

    @property
    def now_ms(self) -> float:
        """This execution's frozen virtual time (``Date.now()``), in ms."""
        return self._frame.now_ms

    @property
    def random(self) -> random.Random:
        """This execution's seeded generator (``Math.random``)."""
        return self._frame.rng

    @property
    def env(self) -> Mapping[str, str]:
        """The env vars this app or component may see (§7.3)."""
        return MappingProxyType(self._frame.namespace.env)

    @property
    def constants(self) -> Mapping[str, object]:
        """The constants the component was defined with (empty for the app)."""
        return self._frame.namespace.constants

    def _refuse(self, callee: str) -> NestingError:
        return NestingError(
            f"Cannot call a {callee} function from a {self._frame.function_type} function"
        )

    async def run_query(
        self,
        reference: Any,
        args: Any = None,
        options: Mapping[str, Any] | None = None,
        *,
        use_stale_snapshot: bool = False,
    ) -> Any:
        """Run a query; in a mutation, a snapshot read adds no read dependency.

        Ask for one either way Convex code does: ``use_stale_snapshot=True``, or
        the options object ``{"useStaleSnapshot": True}`` as the third argument
        (convex-semantics §4.7); both are the same read.
        """
        if options is not None:
            unknown = sorted(set(options) - {"useStaleSnapshot"})
            if unknown:
                raise TypeError(
                    f"run_query options: unknown {unknown}; the only option is 'useStaleSnapshot'"
                )
            use_stale_snapshot = use_stale_snapshot or bool(options.get("useStaleSnapshot"))
        return await self._runtime.call_query(
            self._frame, reference, args, snapshot=use_stale_snapshot
        )

    async def run_mutation(self, reference: Any, args: Any = None) -> Any:
        raise self._refuse("mutation")

    async def run_action(self, reference: Any, args: Any = None) -> Any:
        raise self._refuse("action")


class QueryCtx(_BaseCtx):
    """``ctx`` in a query: a read-only ``db`` and ``run_query``."""

    @functools.cached_property
    def db(self) -> DatabaseReader:
        """Made on first use, with the frame's session (itself made then)."""
        session = self._frame.session
        assert session is not None
        return DatabaseReader(session)


class MutationCtx(_BaseCtx):
    """``ctx`` in a mutation: ``db``, ``scheduler``, ``run_query`` and ``run_mutation``."""

    @functools.cached_property
    def db(self) -> DatabaseWriter:
        """Made on first use, with the frame's session (itself made then)."""
        session = self._frame.session
        assert session is not None
        return DatabaseWriter(session)

    @functools.cached_property
    def scheduler(self) -> Scheduler:
        return Scheduler(self._runtime, self._frame)

    async def run_mutation(self, reference: Any, args: Any = None) -> Any:
        """Run a mutation inside this transaction; if it raises, only its writes roll back."""
        return await self._runtime.call_mutation(self._frame, reference, args)


class ActionCtx(_BaseCtx):
    """``ctx`` in an action: no ``db``; every call is its own transaction."""

    @functools.cached_property
    def scheduler(self) -> Scheduler:
        return Scheduler(self._runtime, self._frame)

    async def run_mutation(self, reference: Any, args: Any = None) -> Any:
        return await self._runtime.call_mutation(self._frame, reference, args)

    async def run_action(self, reference: Any, args: Any = None) -> Any:
        return await self._runtime.call_action(self._frame, reference, args)
