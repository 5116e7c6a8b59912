"""What a run's committed database held at every point of its trace, rebuilt from the trace.

The story explains each execution by what it saw (the worker's status when a
ping ran, the generation a loop run carried) and what it changed. Both come
from the documents, and a saved trace has no database beside it: so the
trace records every written document (``DocumentWritten.value``) and this
module replays the committed ones, in commit order, into a history that can
be asked "what did this table hold just before event ``seq``?".

Scheduled functions get their own book (:class:`JobBook`): each row's number
in the story (``#3``), its function and time, and every state it passed
through (pending, inProgress, success, failed, canceled), with the event at
which it did.

It rebuilds state from design.md's trace events, applying writes only at
their commit, as the backend's transactions do (convex-semantics.md §4).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from convex_sim.execution_records import ExecutionRecord, executions
from convex_sim.trace import (
    Committed,
    ExecutionStarted,
    JobStateChanged,
    TraceEvent,
)

Document = dict[str, Any]
SCHEDULED_FUNCTIONS = "_scheduled_functions"


@dataclass
class JobRow:
    """One ``_scheduled_functions`` row as the story numbers and follows it."""

    number: int
    job: str
    function: str
    run_at_ms: float
    args: Any
    scheduled_by: int
    """The execution whose commit scheduled it."""
    states: list[tuple[int, str]] = field(default_factory=list)
    """``(seq, state)``: the state it entered at that event."""

    def state_at(self, seq: int) -> str | None:
        """Its state just before event ``seq`` (None: not scheduled yet)."""
        found = None
        for at, state in self.states:
            if at >= seq:
                break
            found = state
        return found


class JobBook:
    """Every scheduled function of the run, numbered in the order their schedules committed."""

    def __init__(self) -> None:
        self.rows: dict[str, JobRow] = {}

    def __iter__(self) -> Iterator[JobRow]:
        return iter(self.rows.values())

    def get(self, job: Any) -> JobRow | None:
        return self.rows.get(str(job))

    def label(self, job: Any) -> str:
        row = self.get(job)
        return "#?" if row is None else f"#{row.number}"

    def enter(self, job: Any, seq: int, state: str) -> None:
        """Note that ``job`` entered ``state`` at event ``seq`` (a repeat is no change)."""
        row = self.get(job)
        if row is not None and (not row.states or row.states[-1][1] != state):
            row.states.append((seq, state))


class World:
    """The committed documents and scheduled functions of one trace, at any event."""

    def __init__(self, events: Sequence[TraceEvent], records: list[ExecutionRecord] | None = None):
        self.events = events
        self.records = executions(events) if records is None else records
        self.t0_ms = events[0].time_ms if len(events) else 0.0
        self.jobs = JobBook()
        self.owner: dict[int, ExecutionRecord] = {}
        """Every execution number (nested calls too) to its top-level record."""
        self.started: dict[int, ExecutionStarted] = {}
        self._history: dict[tuple[str, str], dict[str, list[tuple[int, Document | None]]]] = {}
        self._commit_seq: dict[int, int] = {}
        self.commits: list[tuple[int, int]] = []
        """``(seq, execution)`` of every commit that took effect, in order."""
        for record in self.records:
            self.owner[record.execution] = record
            self.started[record.execution] = record.started
            for call in record.calls:
                self.owner[call.execution] = record
                self.started[call.execution] = call
        self._replay()

    # -- building -----------------------------------------------------------------------

    def _replay(self) -> None:
        by_execution = {record.execution: record for record in self.records}
        for event in self.events:
            if isinstance(event, Committed):
                record = by_execution.get(event.execution)
                if record is not None and record.commit is event:
                    self._apply(record, event.seq)
            elif isinstance(event, ExecutionStarted) and event.job is not None:
                if event.parent is None:
                    self.jobs.enter(event.job, event.seq, "inProgress")
            elif isinstance(event, JobStateChanged):
                self.jobs.enter(event.job, event.seq, event.state)

    def _apply(self, record: ExecutionRecord, seq: int) -> None:
        self._commit_seq[record.execution] = seq
        self.commits.append((seq, record.execution))
        for write in record.effective_writes():
            component = self.started[write.execution].component
            versions = self._history.setdefault((component, write.table), {})
            versions.setdefault(write.id, []).append((seq, write.value))
        for scheduled in record.effective_schedules():
            row = JobRow(
                number=len(self.jobs.rows) + 1,
                job=str(scheduled.job),
                function=scheduled.function,
                run_at_ms=scheduled.run_at_ms,
                args=scheduled.args,
                scheduled_by=record.execution,
            )
            self.jobs.rows[row.job] = row
            row.states.append((seq, "pending"))
        for job in record.effective_cancels():
            self.jobs.enter(job, seq, "canceled")

    # -- asking -------------------------------------------------------------------------

    def commit_seq(self, record: ExecutionRecord) -> int | None:
        return self._commit_seq.get(record.execution)

    def documents(self, component: str, table: str, before_seq: int) -> list[Document]:
        """The table's committed documents just before event ``before_seq``, oldest first."""
        found: list[Document] = []
        for versions in self._history.get((component, table), {}).values():
            at = bisect.bisect_left(versions, before_seq, key=lambda version: version[0])
            document = versions[at - 1][1] if at else None
            if document is not None:
                found.append(document)
        return sorted(found, key=lambda document: document.get("_creationTime", 0.0))

    def document(self, component: str, table: str, doc_id: Any, before_seq: int) -> Document | None:
        versions = self._history.get((component, table), {}).get(str(doc_id), [])
        at = bisect.bisect_left(versions, before_seq, key=lambda version: version[0])
        return versions[at - 1][1] if at else None

    def tables(self) -> list[tuple[str, str]]:
        """Every ``(component, table)`` written in the run, system tables last."""
        return sorted(self._history, key=lambda key: (key[1].startswith("_"), key))

    def changed_fields(self, record: ExecutionRecord) -> dict[tuple[str, str, str], set[str]]:
        """``(component, table, id)`` → the fields its commit changed (all, for an insert)."""
        seq = self.commit_seq(record)
        if seq is None:
            return {}
        changed: dict[tuple[str, str, str], set[str]] = {}
        for write in record.effective_writes():
            component = self.started[write.execution].component
            before = self.document(component, write.table, write.id, seq) or {}
            after = write.value or {}
            names = {
                name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
            }
            key = (component, write.table, str(write.id))
            changed.setdefault(key, set()).update(names)
        return changed

    def relative_s(self, time_ms: float) -> str:
        """A virtual time as the story writes it: seconds from the run's first event."""
        return f"t+{(time_ms - self.t0_ms) / 1000:.3f}s"
