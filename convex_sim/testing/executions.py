"""The trace regrouped by top-level execution: what each one called, wrote, scheduled.

Invariants about a component are statements about executions ("a superseded
loop run writes nothing", "no loop iteration writes after stop"), while the
trace is a flat list of events. :func:`executions` folds the events of every
nested call into the top-level execution (one attempt of a mutation, a job
run, a client call) that owns the transaction, so a check can ask "did this
run commit, and what did it write?" directly. Retries are separate attempts,
each with its own record; only a committed attempt's writes took effect.
It reads the trace of design.md ("every event so far") and nothing else; the
batch worker's race tests check batch-worker-spec.md §11 against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from convex_sim.trace import (
    Committed,
    Conflict,
    DocumentWritten,
    ExecutionStarted,
    Failed,
    FaultInjected,
    FunctionScheduled,
    JobCanceled,
    LogLine,
    Trace,
)


@dataclass
class ExecutionRecord:
    """One top-level execution attempt and everything its nested calls did."""

    started: ExecutionStarted
    calls: list[ExecutionStarted] = field(default_factory=list)
    writes: list[DocumentWritten] = field(default_factory=list)
    scheduled: list[FunctionScheduled] = field(default_factory=list)
    canceled: list[str] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)
    faults: list[FaultInjected] = field(default_factory=list)
    commit: Committed | None = None
    conflict: Conflict | None = None
    failure: Failed | None = None

    @property
    def execution(self) -> int:
        return self.started.execution

    @property
    def function(self) -> str:
        return self.started.function

    @property
    def args(self) -> Any:
        return self.started.args

    @property
    def committed(self) -> bool:
        """True once its transaction committed: its writes and schedules took effect."""
        return self.commit is not None

    @property
    def changed_anything(self) -> bool:
        """Whether it staged any write, schedule or cancel (committed or not)."""
        return bool(self.writes or self.scheduled or self.canceled)

    def called(self, function: str) -> list[ExecutionStarted]:
        """Its nested calls of ``function`` (label), in order."""
        return [call for call in self.calls if call.function == function]


def executions(trace: Trace, since: int = 0) -> list[ExecutionRecord]:
    """Top-level executions started at or after event ``since``, in start order.

    Nested calls started before ``since`` belong to executions that started
    before it too, so slicing at a step boundary never splits an execution.
    """
    records: list[ExecutionRecord] = []
    owner: dict[int, ExecutionRecord] = {}
    for event in trace[since:]:
        if isinstance(event, ExecutionStarted):
            parent = None if event.parent is None else owner.get(event.parent)
            if parent is None:
                record = ExecutionRecord(event)
                records.append(record)
            else:
                record = parent
                record.calls.append(event)
            owner[event.execution] = record
            continue
        found = owner.get(event.execution)
        if found is None:
            continue
        if isinstance(event, DocumentWritten):
            found.writes.append(event)
        elif isinstance(event, FunctionScheduled):
            found.scheduled.append(event)
        elif isinstance(event, JobCanceled):
            found.canceled.append(event.job)
        elif isinstance(event, LogLine):
            found.logs.append(event)
        elif isinstance(event, FaultInjected):
            found.faults.append(event)
        elif isinstance(event, Committed):
            found.commit = event
        elif isinstance(event, Conflict):
            found.conflict = event
        elif isinstance(event, Failed) and event.execution == found.execution:
            found.failure = event
    return records
