"""The public face: a deployment with its virtual clock, scheduler and trace.

``Simulator`` owns every piece of state (store, clock, scheduler queue, trace,
seeded generator); nothing lives at module level, so two simulators never
share anything. Calls made through it behave as a client's would: they reach
only the app's public functions (use :meth:`Simulator.run` for server-side
access, as convex-test's ``t.run`` does).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from convex_sim.checkpoint import drive
from convex_sim.clock import DEFAULT_START_MS, VirtualClock
from convex_sim.components import AppDefinition
from convex_sim.errors import ConvexSimError
from convex_sim.index_keys import KEY_MAX, KEY_MIN
from convex_sim.runtime import Runtime, Target
from convex_sim.scheduler import SCHEDULED_FUNCTIONS_TABLE
from convex_sim.schema import BY_CREATION_TIME
from convex_sim.store.base import Store
from convex_sim.trace import ClockAdvanced, Trace
from convex_sim.values import copy_value

DEFAULT_MAX_STEPS = 10_000


class SchedulerDidNotSettleError(ConvexSimError, RuntimeError):
    """``finish_all_scheduled_functions`` ran ``max_steps`` jobs and more were still due."""


class Simulator:
    """A deterministic Convex deployment: same app, seed and calls give the same trace.

    ``store=None`` keeps everything in memory; a path keeps it in SQLite.
    """

    def __init__(
        self,
        app: AppDefinition,
        *,
        seed: int = 0,
        store: str | Path | Store | None = None,
        start_ms: float = DEFAULT_START_MS,
    ) -> None:
        if not isinstance(app, AppDefinition):
            raise TypeError(f"Simulator needs a define_app(...) result, got {app!r}")
        self.seed = seed
        self.clock = VirtualClock(start_ms)
        self._trace = Trace()
        self._runtime = Runtime(
            app, seed=seed, clock=self.clock, trace=self._trace, store=_open_store(store)
        )

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
    def conflicts(self) -> dict[str, int]:
        """OCC conflicts so far, per function."""
        return dict(self._runtime.conflicts)

    @property
    def retries(self) -> dict[str, int]:
        """Retries after conflicts so far, per function."""
        return dict(self._runtime.retries)

    # -- client calls -------------------------------------------------------------

    def _client_target(self, reference: Any) -> Target:
        return self._runtime.resolve(reference, self._runtime.namespaces[""], client=True)

    def query(self, reference: Any, args: dict[str, Any] | None = None) -> Any:
        """Run a public query as a client would."""
        return drive(self._runtime.run_query(self._client_target(reference), args))

    def mutation(self, reference: Any, args: dict[str, Any] | None = None) -> Any:
        """Run a public mutation as a client would (retried on conflicts)."""
        return drive(self._runtime.run_mutation(self._client_target(reference), args))

    def action(self, reference: Any, args: dict[str, Any] | None = None) -> Any:
        """Run a public action as a client would."""
        return drive(self._runtime.run_action(self._client_target(reference), args))

    def run(self, function: Callable[[Any], Awaitable[Any]], component: str | None = None) -> Any:
        """Run ``async function(ctx)`` as a mutation in the app (or the named component).

        Server-side access: internal functions, ``ctx.db.system`` and the
        component's own tables are all reachable.
        """
        namespace = self._runtime.namespaces.get(component or "")
        if namespace is None:
            raise ConvexSimError(
                f"no component is mounted as {component!r}; mounted: "
                f"{sorted(n for n in self._runtime.namespaces if n)}"
            )
        return drive(self._runtime.run_in(namespace, function))

    # -- time and the scheduler -------------------------------------------------------

    def _run_due(self, until_ms: float | None, max_steps: int | None) -> int:
        steps = 0
        while True:
            job = self._runtime.next_due()
            if job is None or (until_ms is not None and job.due_ms > until_ms):
                return steps
            if max_steps is not None and steps >= max_steps:
                raise SchedulerDidNotSettleError(
                    f"ran {max_steps} scheduled functions and more are still due (next: "
                    f"{job.job_id} at {job.due_ms}); raise max_steps or look for a job "
                    "that keeps rescheduling itself"
                )
            self._runtime.due.pop()
            if job.due_ms > self.clock.now_ms:
                self.clock.advance_to(job.due_ms)
                self._runtime.record(ClockAdvanced, 0, to_ms=self.clock.now_ms)
            drive(self._runtime.run_job(job))
            steps += 1

    def advance(self, ms: float) -> None:
        """Move the clock ``ms`` forward, running every job that falls due, in time order."""
        target = self.clock.now_ms + ms if ms >= 0 else ms
        if ms < 0:
            self.clock.advance(ms)  # raises: the clock never goes backwards
        self._run_due(target, None)
        if target > self.clock.now_ms:
            self.clock.advance_to(target)
            self._runtime.record(ClockAdvanced, 0, to_ms=self.clock.now_ms)

    def finish_all_scheduled_functions(self, max_steps: int = DEFAULT_MAX_STEPS) -> int:
        """Jump from due job to due job until none is left; returns how many ran."""
        return self._run_due(None, max_steps)

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

    def function_handle(self, reference: Any, component: str | None = None) -> str:
        """The handle string of a function, as ``create_function_handle`` gives it in a handler."""
        namespace = self._runtime.namespaces[component or ""]
        return self._runtime.handle(reference, namespace)


def _open_store(store: str | Path | Store | None) -> Store | None:
    if store is None or isinstance(store, Store):
        return store
    from convex_sim.store.sqlite import SqliteStore

    return SqliteStore(store)
