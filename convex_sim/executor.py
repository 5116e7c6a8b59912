"""Running executions side by side, interleaved at every awaited ``ctx`` call.

Implements the concurrency of convex-semantics.md §2.7 (one execution's calls
run one at a time, in order) across executions, and the parallel start of due
jobs of §6.9.

Each execution is a coroutine. Every database call awaits a
:class:`~convex_sim.checkpoint.Checkpoint` first, which suspends the coroutine
and hands control back here; the executor then asks its :class:`Chooser`
which runnable execution moves next. Mutations also pause just before they
commit, so "read, then someone else commits, then I commit" really happens.
A :class:`~convex_sim.occ.Sleep` (a retry's backoff) takes its execution out
of the running for that much virtual time; when every execution is asleep
the executor moves the virtual clock to the earliest wake-up (or to the next
external event, such as a scheduled job falling due).

Choosing is the only source of nondeterminism, and it is seeded: an integer
seed, an explicit list of choices, or any callable (hypothesis draws them).
The choices made are recorded, so any run can be replayed exactly.
"""

from __future__ import annotations

import contextvars
import random
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from convex_sim.checkpoint import Checkpoint, foreign_await_error
from convex_sim.clock import VirtualClock
from convex_sim.errors import ConvexSimError
from convex_sim.occ import Sleep


class Chooser:
    """Picks which of ``n`` runnable executions moves next, and remembers the picks.

    Build one with :func:`as_chooser` from an int seed, a list of choices or a
    callable ``(n) -> index``. ``choices`` is the replayable record: passing it
    back as a list reproduces the run.
    """

    def __init__(self, pick: Callable[[int], int], description: str) -> None:
        self._pick = pick
        self.description = description
        self.choices: list[int] = []

    def choose(self, n: int) -> int:
        if n == 1:
            return 0
        index = self._pick(n)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            raise ScheduleError(
                f"schedule {self.description} chose {index!r} among {n} runnable executions; "
                f"a choice must be an int from 0 to {n - 1}"
            )
        self.choices.append(index)
        return index

    def reproducer(self) -> str:
        """A ``schedule=`` value that replays the choices made so far."""
        return f"schedule={self.choices!r}"


class ScheduleError(ConvexSimError, ValueError):
    """A schedule is not a seed, a list of choices or a chooser callable, or chose wrongly."""


ScheduleSpec = int | Sequence[int] | Callable[[int], int] | Chooser | None


def as_chooser(schedule: ScheduleSpec, *, default_seed: int = 0) -> Chooser:
    """A chooser from a seed, a list of choices (then the first runnable), or a callable."""
    if isinstance(schedule, Chooser):
        return schedule
    if schedule is None:
        schedule = default_seed
    if isinstance(schedule, bool):
        raise ScheduleError(f"schedule must be a seed, a list or a callable, got {schedule!r}")
    if isinstance(schedule, int):
        rng = random.Random(schedule)
        return Chooser(rng.randrange, f"seed {schedule}")
    if callable(schedule):
        return Chooser(schedule, getattr(schedule, "__name__", "callable"))
    if isinstance(schedule, Sequence) and not isinstance(schedule, str | bytes):
        planned = list(schedule)
        position = 0

        def replay(n: int) -> int:
            nonlocal position
            if position >= len(planned):
                return 0
            choice = planned[position]
            position += 1
            return (
                choice % n if isinstance(choice, int) and not isinstance(choice, bool) else choice
            )

        return Chooser(replay, f"list of {len(planned)} choices")
    raise ScheduleError(
        f"schedule must be an int seed, a list of choices or a callable (n) -> index, "
        f"got {schedule!r}"
    )


@dataclass
class Task:
    """One top-level execution under the executor."""

    label: str
    coroutine: Coroutine[Any, Any, Any]
    context: contextvars.Context = field(default_factory=contextvars.Context)
    wake_ms: float = float("-inf")
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    steps: int = 0
    on_done: Callable[[Task], None] | None = None
    paused_at: Checkpoint | None = None
    """Where it last paused (None before its first step)."""

    @property
    def inside_transaction(self) -> bool:
        """Paused between two operations of one transaction: not at its start (never
        stepped, or waking from a retry's backoff) and not just before its commit."""
        at = self.paused_at
        return (
            not self.done
            and at is not None
            and not isinstance(at, Sleep)
            and at.operation != "commit"
        )


class Feeder(Protocol):
    """Something that starts new tasks as time passes (due jobs, timed client calls)."""

    def start_ready(self, executor: Executor) -> None:
        """Spawn whatever may start at the current virtual time."""

    def next_time(self) -> float | None:
        """When the next thing may start, or None if nothing is waiting (or nothing may
        start before a running task finishes)."""


Interleave = Literal["operations", "transactions"]
"""Where executions may switch: at every awaited ``ctx`` operation, or only where a
transaction starts, commits, or retries (see :class:`Executor`)."""


class Executor:
    """Steps tasks one checkpoint at a time, in the order a chooser picks.

    ``interleave="operations"`` (the default) offers a choice at every
    awaited operation. ``"transactions"`` keeps stepping the chosen
    execution until it reaches a commit, finishes or sleeps: a transaction's
    reads come from its begin snapshot and its writes stay private until
    commit, so what one transaction does to another depends on the order in
    which they start and commit, and this explores exactly those orders with
    far fewer choices. (Not quite all: creation times follow the order of
    inserts across transactions that started at the same instant.)
    """

    def __init__(
        self,
        clock: VirtualClock,
        chooser: Chooser,
        on_advance: Callable[[float], None] | None = None,
        interleave: Interleave = "operations",
    ) -> None:
        if interleave not in ("operations", "transactions"):
            raise ScheduleError(
                f"interleave must be 'operations' or 'transactions', got {interleave!r}"
            )
        self.clock = clock
        self.chooser = chooser
        self._on_advance = on_advance
        self._whole_transactions = interleave == "transactions"
        self._current: Task | None = None
        self.tasks: list[Task] = []
        self._active: list[Task] = []

    def spawn(
        self,
        coroutine: Coroutine[Any, Any, Any],
        label: str,
        on_done: Callable[[Task], None] | None = None,
    ) -> Task:
        task = Task(label, coroutine, on_done=on_done)
        self.tasks.append(task)
        self._active.append(task)
        return task

    @property
    def active(self) -> int:
        return len(self._active)

    def _step(self, task: Task) -> None:
        task.steps += 1
        try:
            yielded = task.context.run(task.coroutine.send, None)
        except StopIteration as stop:
            self._finish(task, result=stop.value)
            return
        except BaseException as error:  # the execution failed: hand it to the caller
            self._finish(task, error=error)
            return
        if isinstance(yielded, Sleep):
            task.wake_ms = self.clock.now_ms + yielded.ms
        elif not isinstance(yielded, Checkpoint):
            task.coroutine.close()
            self._finish(task, error=foreign_await_error(yielded))
            return
        task.paused_at = yielded

    def _finish(
        self, task: Task, *, result: Any = None, error: BaseException | None = None
    ) -> None:
        task.done = True
        task.result = result
        task.error = error
        self._active.remove(task)
        if task.on_done is not None:
            task.on_done(task)

    def run(self, feeder: Feeder | None = None) -> None:
        """Step until every task is done and the feeder has nothing more to start.

        If choosing fails (a schedule that chose wrongly, a test framework
        stopping a test mid-draw), the unfinished executions are closed in
        their own contexts before the error propagates: left to the garbage
        collector, they would unwind outside their context and warn.
        """
        try:
            self._run(feeder)
        except BaseException:
            for task in self._active:
                task.context.run(task.coroutine.close)
            raise

    def _run(self, feeder: Feeder | None) -> None:
        while True:
            if feeder is not None:
                feeder.start_ready(self)
            now = self.clock.now_ms
            runnable = [task for task in self._active if task.wake_ms <= now]
            if runnable:
                current = self._current
                if self._whole_transactions and current is not None and current.inside_transaction:
                    self._step(current)  # no switch in the middle of a transaction
                    continue
                chosen = runnable[self.chooser.choose(len(runnable))]
                self._current = chosen
                self._step(chosen)
                continue
            wakes = [task.wake_ms for task in self._active]
            upcoming = None if feeder is None else feeder.next_time()
            if upcoming is not None:
                wakes.append(upcoming)
            if not wakes:
                return
            target = min(wakes)
            if target > now:
                self.clock.advance_to(target)
                if self._on_advance is not None:
                    self._on_advance(target)
            elif not runnable and upcoming is not None and upcoming <= now:
                raise ConvexSimError(
                    "the feeder reported work ready now but started none; this is a bug"
                )


def run_alone(
    coroutine: Coroutine[Any, Any, Any],
    clock: VirtualClock,
    on_advance: Callable[[float], None],
) -> Any:
    """What :meth:`Executor.run` does with a single task, without its bookkeeping.

    Every client call runs this way, so it skips building an executor, a task
    and a chooser per call: with one execution there is nothing to choose (no
    choice is recorded), checkpoints just continue, and a backoff moves the
    clock. Its own context keeps the execution's context variables apart
    from the caller's, as a task's would. Returns the result or raises.
    """
    context = contextvars.Context()
    send = coroutine.send
    while True:
        try:
            yielded = context.run(send, None)
        except StopIteration as stop:
            return stop.value
        if isinstance(yielded, Sleep):
            wake_ms = clock.now_ms + yielded.ms
            if wake_ms > clock.now_ms:
                clock.advance_to(wake_ms)
                on_advance(wake_ms)
        elif not isinstance(yielded, Checkpoint):
            coroutine.close()
            raise foreign_await_error(yielded)
