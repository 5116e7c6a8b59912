"""The trace regrouped by top-level execution: what each one called, wrote, scheduled.

Invariants about a component are statements about executions ("a superseded
loop run writes nothing", "no loop iteration writes after stop"), while the
trace is a flat list of events. :func:`executions` folds the events of every
nested call into the top-level execution (one attempt of a mutation, a job
run, a client call) that owns the transaction, so a check can ask "did this
run commit, and what did it write?" directly. Retries are separate attempts,
each with its own record; only a committed attempt's writes took effect.
It reads the trace of design.md ("every event so far") and nothing else; the
batch worker's race tests check batch-worker-spec.md §11 against it, and the
story (``convex_sim.story``) tells a run from it. It lives in the core, not in
``convex_sim.testing``, because the story needs no test dependencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from convex_sim.trace import (
    Committed,
    Conflict,
    DocumentWritten,
    ExecutionStarted,
    Failed,
    FaultInjected,
    Finished,
    FunctionScheduled,
    JobCanceled,
    LogLine,
    Retried,
    TraceEvent,
)


@dataclass
class ExecutionRecord:
    """One top-level execution attempt and everything its nested calls did."""

    started: ExecutionStarted
    calls: list[ExecutionStarted] = field(default_factory=list)
    writes: list[DocumentWritten] = field(default_factory=list)
    scheduled: list[FunctionScheduled] = field(default_factory=list)
    cancels: list[JobCanceled] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)
    faults: list[FaultInjected] = field(default_factory=list)
    commit: Committed | None = None
    conflict: Conflict | None = None
    failure: Failed | None = None
    retry: Retried | None = None
    """Set when this attempt conflicted and another attempt follows after a backoff."""
    results: dict[int, Any] = field(default_factory=dict)
    """What each execution in it returned (itself and its nested calls), by number."""
    failed_calls: set[int] = field(default_factory=set)
    """Nested calls that raised: their writes were rolled back, even if this one commits."""

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
    def canceled(self) -> list[str]:
        """The jobs it canceled (its nested calls too), in order."""
        return [event.job for event in self.cancels]

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

    def undone_calls(self) -> set[int]:
        """Nested calls rolled back by a caught error: those that raised, and what they called."""
        if not self.failed_calls:
            return set()
        parents = {call.execution: call.parent for call in self.calls}
        undone: set[int] = set()
        for execution in parents:
            walk: int | None = execution
            while walk is not None and walk != self.execution:
                if walk in self.failed_calls:
                    undone.add(execution)
                    break
                walk = parents.get(walk)
        return undone

    def effective_writes(self) -> list[DocumentWritten]:
        """The writes that took effect if it committed (not those of :meth:`undone_calls`)."""
        undone = self.undone_calls()
        return [write for write in self.writes if write.execution not in undone]

    def effective_schedules(self) -> list[FunctionScheduled]:
        undone = self.undone_calls()
        return [item for item in self.scheduled if item.execution not in undone]

    def effective_cancels(self) -> list[str]:
        undone = self.undone_calls()
        return [event.job for event in self.cancels if event.execution not in undone]


def executions(trace: Sequence[TraceEvent], since: int = 0) -> list[ExecutionRecord]:
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
            found.cancels.append(event)
        elif isinstance(event, LogLine):
            found.logs.append(event)
        elif isinstance(event, FaultInjected):
            found.faults.append(event)
        elif isinstance(event, Committed):
            found.commit = event
        elif isinstance(event, Conflict):
            found.conflict = event
        elif isinstance(event, Failed):
            if event.execution == found.execution:
                found.failure = event
            else:
                found.failed_calls.add(event.execution)
        elif isinstance(event, Finished):
            found.results[event.execution] = event.result
        elif isinstance(event, Retried):
            found.retry = event
    return records
