"""Stepping through a told run: a cursor over its trace, and what is true at the cursor.

The explorer's keys move this cursor (one await, one execution, one moment,
back); its panes draw :meth:`Stepper.view`. Keeping the model apart from the
terminal UI lets tests step it directly, and lets the same stepper open a
live run or a saved trace: both are only a list of events.

It is the model behind design.md's ``python -m example explore``.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from convex_sim.errors import short_repr
from convex_sim.story.build import Story, args_text, short_name
from convex_sim.story.model import Line, Step
from convex_sim.story.render import line_text
from convex_sim.story.world import Document
from convex_sim.trace import (
    ClockAdvanced,
    Committed,
    Conflict,
    DocumentRead,
    DocumentWritten,
    ExecutionStarted,
    Failed,
    FaultInjected,
    Finished,
    FunctionScheduled,
    JobCanceled,
    JobStateChanged,
    LogLine,
    Retried,
    TraceEvent,
)

AWAITS_SHOWN = 8


@dataclass(frozen=True)
class TableView:
    component: str
    table: str
    documents: list[Document]
    changed: dict[str, set[str]]
    """Document id → the fields the latest commit so far changed in it."""

    @property
    def label(self) -> str:
        return f"{self.component}/{self.table}" if self.component else self.table


@dataclass(frozen=True)
class JobView:
    label: str
    function: str
    run_at: str
    state: str


@dataclass(frozen=True)
class View:
    """Everything true at the cursor: the explorer draws one pane per field."""

    position: int
    total: int
    clock: str
    event: str
    """What the current await is (or what just happened, for a commit)."""
    step: Step | None
    """The execution the current event belongs to, told (None for the simulator's own)."""
    awaits: list[str]
    """That execution's events so far, the current one last (at most ``AWAITS_SHOWN``)."""
    explanation: list[str]
    timeline: list[tuple[str, Step]]
    """``(when, step)`` for every execution attempt started so far."""
    tables: list[TableView]
    jobs: list[JobView]
    job_labels: dict[str, str]
    """``_scheduled_functions`` id → its ``#n``, so documents can name the jobs they hold."""


class Stepper:
    """A cursor over a story's trace; ``position`` is the last event that has happened."""

    def __init__(self, story: Story, tables: list[tuple[str, str]] | None = None) -> None:
        self.story = story
        self.world = story.world
        self.events = story.world.events
        self.position = 0
        self.history: list[int] = []
        self.tables = tables if tables is not None else self._user_tables()
        self._step_of = {step.record.execution: step for step in story.steps}
        self._starts = sorted(step.first_seq for step in story.steps)

    def _user_tables(self) -> list[tuple[str, str]]:
        return [key for key in self.world.tables() if not key[1].startswith("_")]

    # -- moving -------------------------------------------------------------------------

    def _go(self, position: int) -> bool:
        if position == self.position or not 0 <= position < len(self.events):
            return False
        self.history.append(self.position)
        self.position = position
        return True

    def forward_await(self) -> bool:
        """To the next event: the next ``ctx`` call, commit, or scheduler change."""
        return self._go(self.position + 1)

    def forward_execution(self) -> bool:
        """To the start of the next execution attempt."""
        for start in self._starts:
            if start > self.position:
                return self._go(start)
        return self._go(len(self.events) - 1)

    def forward_moment(self) -> bool:
        """To the first execution that starts at a later virtual time."""
        now = self.events[self.position].time_ms
        for start in self._starts:
            if start > self.position and self.events[start].time_ms > now:
                return self._go(start)
        return self._go(len(self.events) - 1)

    def back(self) -> bool:
        """Undo the last move."""
        if not self.history:
            return False
        self.position = self.history.pop()
        return True

    # -- what is true here -----------------------------------------------------------

    def current_step(self) -> Step | None:
        event = self.events[self.position]
        owner = self.world.owner.get(event.execution)
        return None if owner is None else self._step_of.get(owner.execution)

    def view(self) -> View:
        event = self.events[self.position]
        step = self.current_step()
        explanation: list[str] = []
        if step is not None:
            explanation = [line_text(Line((step,)), self.world), *step.details]
        return View(
            position=self.position,
            total=len(self.events),
            clock=self.world.relative_s(event.time_ms),
            event=self.describe(event),
            step=step,
            awaits=self._awaits(step),
            explanation=explanation,
            timeline=[
                (self.world.relative_s(s.time_ms), s)
                for s in self.story.steps
                if s.first_seq <= self.position
            ],
            tables=self._table_views(),
            jobs=self._job_views(),
            job_labels={row.job: f"#{row.number}" for row in self.world.jobs},
        )

    def _awaits(self, step: Step | None) -> list[str]:
        if step is None:
            return [self.describe(self.events[self.position])]
        mine = [
            event
            for event in self.events[step.first_seq : self.position + 1]
            if self.world.owner.get(event.execution) is step.record
        ]
        return [self.describe(event) for event in mine[-AWAITS_SHOWN:]]

    def _latest_commit(self) -> int | None:
        """The execution whose commit is the latest at or before the cursor."""
        at = bisect.bisect_right(self.world.commits, (self.position, math.inf))
        return self.world.commits[at - 1][1] if at else None

    def _table_views(self) -> list[TableView]:
        latest = self._latest_commit()
        changed: dict[tuple[str, str, str], set[str]] = {}
        if latest is not None:
            changed = self.world.changed_fields(self.world.owner[latest])
        views = []
        for component, table in self.tables:
            documents = self.world.documents(component, table, self.position + 1)
            marks = {
                doc_id: fields
                for (c, t, doc_id), fields in changed.items()
                if (c, t) == (component, table)
            }
            views.append(TableView(component, table, documents, marks))
        return views

    def _job_views(self) -> list[JobView]:
        views = []
        for row in self.world.jobs:
            state = row.state_at(self.position + 1)
            if state is None:
                continue
            views.append(
                JobView(
                    label=f"#{row.number}",
                    function=short_name(row.function),
                    run_at=self.world.relative_s(row.run_at_ms),
                    state=state,
                )
            )
        return views

    def describe(self, event: TraceEvent) -> str:
        """One event as the explorer's 'current await' line."""
        jobs = self.world.jobs
        if isinstance(event, ExecutionStarted):
            how = " as a snapshot read" if event.snapshot else ""
            attempt = f" (attempt {event.attempt})" if event.attempt > 1 else ""
            args = args_text(event.args)
            return (
                f"starts {event.function_type} {short_name(event.function)}({args}){attempt}{how}"
            )
        if isinstance(event, DocumentRead):
            return f"awaits db.{event.operation} on {event.table}: {event.detail}"
        if isinstance(event, DocumentWritten):
            return f"stages db.{event.operation} on {event.table} {event.id[:8]}…"
        if isinstance(event, FunctionScheduled):
            when = self.world.relative_s(event.run_at_ms)
            return f"schedules {short_name(event.function)} {jobs.label(event.job)} for {when}"
        if isinstance(event, JobCanceled):
            return f"cancels {jobs.label(event.job)}"
        if isinstance(event, Committed):
            return f"commits {event.writes} writes"
        if isinstance(event, Conflict):
            return f"conflict at commit on {event.table} ({event.index})"
        if isinstance(event, Retried):
            return f"retries as attempt {event.attempt} after {event.backoff_ms:g} ms"
        if isinstance(event, Finished):
            return f"returns {short_repr(event.result)}"
        if isinstance(event, Failed):
            return f"raises {event.error}: {event.message}"
        if isinstance(event, JobStateChanged):
            return f"scheduled function {jobs.label(event.job)} → {event.state}"
        if isinstance(event, ClockAdvanced):
            return f"the clock moves to {self.world.relative_s(event.to_ms)}"
        if isinstance(event, LogLine):
            return f"log.{event.level}: {event.message}"
        if isinstance(event, FaultInjected):
            return f"fault injected: {event.fault} {event.detail}"
        return event.kind
