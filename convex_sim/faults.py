"""Faults injected on purpose, so a test can see a component survive them.

A component built on the scheduler must stay correct when production goes
wrong in the ways convex-semantics.md allows:

- **a function raises** (``fail_next``): the next calls of a function raise
  :class:`InjectedFault` instead of running their handler, as a bug or a
  failing dependency would. It is a user error (§6.4): a scheduled mutation
  that lets it through ends ``failed``, and a caller that lets a nested call's
  error through rolls back with it.
- **a job stuck pending** (``stick_next``): the platform keeps retrying a
  scheduled mutation after internal errors (§6.4), so its row stays
  ``pending`` past its ``scheduledTime`` and it starts only later.
- **a lagging scheduler** (``scheduler_lag_ms``): every job starts that long
  after it falls due, as under a backlog (§6.9 promises "at or after").

Faults are keyed by the function's label (``"example:add_event"``,
``"batchWorker/loop:loop"``), read no clock and draw no randomness, so a run
with faults is as replayable as one without; each firing is a
:class:`~convex_sim.trace.FaultInjected` event in the trace.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from convex_sim.errors import ConvexSimError

if TYPE_CHECKING:
    from convex_sim.components import Namespace
    from convex_sim.resolution import Resolver


class InjectedFault(ConvexSimError, RuntimeError):
    """The error a ``fail_next`` fault raises in place of the handler."""


class Faults:
    """The simulator's fault plan: what to break next. Empty until a test arms it."""

    def __init__(self, resolver: Resolver, namespaces: Mapping[str, Namespace]) -> None:
        self._resolver = resolver
        self._namespaces = namespaces
        self._failures: dict[str, list[str]] = {}
        self._sticks: dict[str, list[float]] = {}
        self._lag_ms = 0.0
        self._delayed_jobs: set[str] = set()
        self.armed = False
        """True while any fault is planned: the runtime's only cost when none is."""

    def _label_of(self, function: Any, component: str | None) -> str:
        """The label of ``function`` as seen from the app (or the named component)."""
        namespace = self._namespaces.get(component or "")
        if namespace is None:
            raise ConvexSimError(f"no component is mounted as {component!r}")
        return self._resolver.resolve(function, namespace).label

    # -- planning --------------------------------------------------------------------

    def fail_next(
        self,
        function: Any,
        times: int = 1,
        *,
        component: str | None = None,
        message: str = "injected fault",
    ) -> None:
        """The next ``times`` executions of ``function`` raise :class:`InjectedFault`.

        Every execution counts: nested calls, scheduled runs, and each retry
        of a mutation after a conflict.
        """
        _check_times(times)
        label = self._label_of(function, component)
        self._failures.setdefault(label, []).extend([message] * times)
        self.armed = True

    def stick_next(
        self, function: Any, for_ms: float, times: int = 1, *, component: str | None = None
    ) -> None:
        """The next ``times`` jobs of ``function`` to fall due stay pending ``for_ms`` longer."""
        _check_times(times)
        _check_ms("stick_next for_ms", for_ms)
        label = self._label_of(function, component)
        self._sticks.setdefault(label, []).extend([float(for_ms)] * times)
        self.armed = True

    @property
    def scheduler_lag_ms(self) -> float:
        """How long after falling due each job starts (0: on time)."""
        return self._lag_ms

    @scheduler_lag_ms.setter
    def scheduler_lag_ms(self, ms: float) -> None:
        _check_ms("scheduler_lag_ms", ms)
        self._lag_ms = float(ms)
        self._rearm()

    def clear(self) -> None:
        """Plan no more faults. Jobs already pushed back keep their later start."""
        self._failures.clear()
        self._sticks.clear()
        self._lag_ms = 0.0
        self.armed = False

    def planned(self) -> dict[str, Any]:
        """What is still planned, for messages and reproducers."""
        return {
            "fail": {label: len(queue) for label, queue in self._failures.items() if queue},
            "stick": {label: list(queue) for label, queue in self._sticks.items() if queue},
            "scheduler_lag_ms": self._lag_ms,
        }

    # -- firing (called by the runtime) ---------------------------------------------------

    def take_failure(self, label: str) -> InjectedFault | None:
        """The error for this execution of ``label``, if one is planned (it is used up)."""
        queue = self._failures.get(label)
        if not queue:
            return None
        message = queue.pop(0)
        self._rearm()
        return InjectedFault(f"{message} (in {label})")

    def start_delay(self, job_id: str, label: str) -> float:
        """How much later than due this job starts; each job is pushed back at most once."""
        if job_id in self._delayed_jobs:
            return 0.0
        delay = self._lag_ms
        sticks = self._sticks.get(label)
        if sticks:
            delay += sticks.pop(0)
            self._rearm()
        if delay > 0:
            self._delayed_jobs.add(job_id)
        return delay

    def _rearm(self) -> None:
        self.armed = self._lag_ms > 0 or any(self._failures.values()) or any(self._sticks.values())


def _check_times(times: int) -> None:
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ValueError(f"times must be a positive int, got {times!r}")


def _check_ms(what: str, ms: float) -> None:
    if isinstance(ms, bool) or not isinstance(ms, int | float) or not math.isfinite(ms) or ms < 0:
        raise ValueError(f"{what} must be a finite number of ms >= 0, got {ms!r}")
