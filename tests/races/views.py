"""What the race tests look at: the batch worker's rows, and its executions in the trace.

Every view is a ``sim.peek`` (a read of the latest state that records
nothing) or a fold of the trace (``convex_sim.testing.executions``), so
looking never changes the run being looked at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from convex_sim import Simulator
from convex_sim.testing import ExecutionRecord
from convex_sim.trace import Conflict
from example.peek import events_left, next_run_goes_idle, worker_documents
from tests.batch_worker.support import COMPONENT, LOOP, LOOP_ROW_NAME, Document

__all__ = ["events_left", "next_run_goes_idle"]  # re-exported for the race tests

ADD_EVENT: Final = "example:add_event"
STOP: Final = "example:stop_worker"
START: Final = "example:start_worker"
WORKER_MUTATION: Final = "example:process_batch"
LOOP_ROW: Final = LOOP_ROW_NAME


@dataclass
class WorkerView:
    """The ``events`` worker's rows and the component's scheduled functions, at one moment."""

    worker: Document | None
    state: Document | None
    jobs: dict[str, Document]

    @property
    def status(self) -> str | None:
        return None if self.worker is None else str(self.worker["status"]["kind"])

    @property
    def generation(self) -> int | None:
        return None if self.state is None else int(self.state["generation"])

    def job(self, job_id: Any) -> Document | None:
        return None if job_id is None else self.jobs.get(str(job_id))

    def pending(self, row_name: str) -> list[Document]:
        return [
            row
            for row in self.jobs.values()
            if row["name"] == row_name and row["state"]["kind"] == "pending"
        ]

    def live_loops(self) -> list[Document]:
        """Pending loop runs carrying the state's generation: each would do work when it runs."""
        return [
            row for row in self.pending(LOOP_ROW) if row["args"][0]["generation"] == self.generation
        ]

    @property
    def runner(self) -> Document | None:
        return None if self.state is None else self.job(self.state.get("runnerId"))

    @property
    def monitor(self) -> Document | None:
        return None if self.state is None else self.job(self.state.get("monitorId"))


def worker_view(sim: Simulator) -> WorkerView:
    worker, state = worker_documents(sim)
    jobs = {str(row["_id"]): row for row in sim.scheduled_functions(component=COMPONENT)}
    return WorkerView(worker, state, jobs)


def wrote_table(record: ExecutionRecord, table: str) -> bool:
    return any(write.table == table for write in record.writes)


def is_transition(record: ExecutionRecord) -> bool:
    """It changed (or tried to change) the worker's status: the only time pings and the
    loop are allowed to conflict (spec §2: the loop touches ``workers`` only then)."""
    return wrote_table(record, "workers")


@dataclass(frozen=True)
class PingLoopConflict:
    """An OCC conflict between an insert-and-ping and a loop run (either side lost)."""

    conflict: Conflict
    loser: ExecutionRecord
    winner: ExecutionRecord

    @property
    def at_transition(self) -> bool:
        return is_transition(self.loser) or is_transition(self.winner)


def ping_loop_conflicts(
    new: Iterable[ExecutionRecord], by_execution: dict[int, ExecutionRecord]
) -> list[PingLoopConflict]:
    """Conflicts in ``new`` where one side is ``add_event`` and the other a loop run.

    ``by_execution`` maps every top-level execution seen so far to its record
    (the winner may have run in an earlier step).
    """
    found = []
    for record in new:
        conflict = record.conflict
        if conflict is None:
            continue
        winner = by_execution.get(conflict.conflicting_execution)
        if winner is None:
            continue
        if {record.function, winner.function} == {ADD_EVENT, LOOP}:
            found.append(PingLoopConflict(conflict, record, winner))
    return found


def inserted_events(records: Iterable[ExecutionRecord]) -> dict[str, float]:
    """Event id → value, for every committed ``add_event``."""
    inserted: dict[str, float] = {}
    for record in records:
        if record.function == ADD_EVENT and record.committed:
            for write in record.writes:
                if write.table == "events" and write.operation == "insert":
                    inserted[write.id] = float(record.args["value"])
    return inserted


def handed_to_worker(records: Iterable[ExecutionRecord], *, committed: bool) -> list[str]:
    """Event ids in the batches given to the worker mutation (by committed loop runs only,
    or by every attempt), with repeats."""
    handed: list[str] = []
    for record in records:
        if record.function != LOOP or (committed and not record.committed):
            continue
        for call in record.called(WORKER_MUTATION):
            handed.extend(str(event_id) for event_id in call.args["ids"])
    return handed


def deleted_by_loops(records: Iterable[ExecutionRecord]) -> list[str]:
    """Event ids deleted by committed loop runs (processing = counting, then deleting)."""
    return [
        write.id
        for record in records
        if record.function == LOOP and record.committed
        for write in record.writes
        if write.table == "events" and write.operation == "delete"
    ]
