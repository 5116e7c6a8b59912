"""From a trace to a story: each execution attempt told as a step, repeats folded.

Why derive it from the trace alone: the same story must come out of a live
run, a run saved with ``--trace-out`` and read back, and any user's app; so
nothing is printed by the component, and every fact on a line comes from an
event or a document the trace recorded.

The steps are design.md's trace (``sim.trace``) regrouped by
``convex_sim.execution_records``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from convex_sim.execution_records import ExecutionRecord
from convex_sim.story.model import Explainer, Explanation, Line, Step
from convex_sim.story.world import SCHEDULED_FUNCTIONS, World
from convex_sim.trace import DocumentRead, DocumentWritten, TraceEvent

NO_WRITES = "no writes"
_VERBS = {"insert": "inserted", "patch": "patched", "replace": "replaced", "delete": "deleted"}


@dataclass
class Story:
    """A run told step by step: ``steps`` in start order, ``lines`` with repeats folded."""

    world: World
    steps: list[Step]
    lines: list[Line]

    @property
    def conflicts(self) -> int:
        return sum(1 for step in self.steps if step.conflict)


def build_story(events: Sequence[TraceEvent], explainers: Iterable[Explainer] = ()) -> Story:
    world = World(events)
    told = list(explainers)
    steps = [_step(record, world, told) for record in world.records]
    return Story(world=world, steps=steps, lines=fold(steps))


def fold(steps: Sequence[Step], *, across_moments: bool = True) -> list[Line]:
    """Runs of consecutive steps with the same lane, title, text and details, as one line.

    A conflict is never folded: each one is a different race. With
    ``across_moments=False`` only steps of one virtual instant fold (for
    stepping moment by moment, where each moment is shown on its own).
    """
    lines: list[list[Step]] = []
    for step in steps:
        previous = lines[-1][-1] if lines else None
        if (
            previous is not None
            and not step.conflict
            and not previous.conflict
            and previous.fold_key == step.fold_key
            and (across_moments or previous.time_ms == step.time_ms)
        ):
            lines[-1].append(step)
        else:
            lines.append([step])
    return [Line(tuple(group)) for group in lines]


def short_name(function: str) -> str:
    """``batchWorker/loop:loop`` → ``loop``; ``example:add_event`` → ``add_event``."""
    return function.rpartition(":")[2] or function


def args_text(args: Any, limit: int = 48) -> str:
    if not isinstance(args, dict) or not args:
        return ""
    parts = [f"{key}={plain_value(value)}" for key, value in args.items()]
    text = ", ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_value(value: Any) -> str:
    """A value as a line of the story writes it: ``2`` for 2.0, a handle by its function."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.startswith("function://"):
        return short_name(value)
    if isinstance(value, dict | list):
        text = repr(value)
        return text if len(text) <= 24 else text[:23] + "…"
    return str(value)


def _step(record: ExecutionRecord, world: World, explainers: list[Explainer]) -> Step:
    explanation = None
    for explainer in explainers:
        explanation = explainer.explain(record, world)
        if explanation is not None:
            break
    started = record.started
    generic = describe_generically(record, world, own_only=explanation is not None)
    if explanation is None:
        returned = record.results.get(record.execution)
        if returned is not None and record.failure is None:
            generic = f"{generic} → returned {plain_value(returned)}"
        explanation = Explanation(says=generic, varying=args_text(started.args))
    elif not explanation.covers_own_writes and generic and generic != NO_WRITES:
        explanation = Explanation(
            says=f"{generic}; {explanation.says}",
            varying=explanation.varying,
            lane=explanation.lane,
            title=explanation.title,
            details=explanation.details,
        )
    lane = explanation.lane or ("client" if started.job is None else short_name(started.function))
    title = explanation.title or short_name(started.function)
    job_label = "" if started.job is None else world.jobs.label(started.job)
    if started.attempt > 1:
        title = f"{title} (attempt {started.attempt})"
    details = list(explanation.details)
    details.extend(_outcome_details(record, world))
    details.extend(f"log.{line.level}: {line.message}" for line in record.logs)
    return Step(
        record=record,
        time_ms=started.time_ms,
        lane=lane,
        title=title,
        says=explanation.says,
        varying=explanation.varying,
        details=tuple(details),
        conflict=record.conflict is not None,
        job_label=job_label,
    )


def describe_generically(record: ExecutionRecord, world: World, *, own_only: bool = False) -> str:
    """What an execution no explainer knows did: its writes, nested calls and schedules."""
    parts = []
    writes: Counter[tuple[str, str]] = Counter()
    for write in record.effective_writes():
        if write.table == SCHEDULED_FUNCTIONS or (own_only and write.execution != record.execution):
            continue
        writes[(_VERBS.get(write.operation, write.operation), write.table)] += 1
    for (verb, table), count in writes.items():
        parts.append(f"{verb} {count} in {table}" if count > 1 else f"{verb} {table}")
    if not own_only:
        calls = [
            short_name(call.function) for call in record.calls if call.parent == record.execution
        ]
        if calls:
            parts.append("called " + ", ".join(calls))
        for scheduled in record.effective_schedules():
            delay = (scheduled.run_at_ms - record.started.time_ms) / 1000
            parts.append(f"scheduled {short_name(scheduled.function)} in {delay:g} s")
        for job in record.effective_cancels():
            parts.append(f"canceled {world.jobs.label(job)}")
    if not parts:
        return NO_WRITES if record.failure is None else ""
    return "; ".join(parts)


def _outcome_details(record: ExecutionRecord, world: World) -> list[str]:
    details = []
    conflict = record.conflict
    if conflict is not None:
        details.append("⚡ conflict at commit: " + conflict_text(record, world))
    if record.retry is not None:
        details.append(
            f"↻ retried as attempt {record.retry.attempt} after {record.retry.backoff_ms:g} ms"
        )
    elif conflict is not None:
        details.append("✗ out of retries: the call failed")
    if record.failure is not None and conflict is None:
        details.append(f"✗ {record.failure.error}: {record.failure.message}; wrote nothing")
    job = None if record.started.job is None else world.jobs.get(record.started.job)
    if job is not None and record.failure is not None and conflict is None:
        details.append(f"job {world.jobs.label(job.job)} failed")
    return details


def conflict_text(record: ExecutionRecord, world: World) -> str:
    """Which read of this attempt another commit wrote into, and that write."""
    conflict = record.conflict
    assert conflict is not None
    reads = [
        event
        for event in world.events[record.started.seq : conflict.seq]
        if isinstance(event, DocumentRead)
        and event.table == conflict.table
        and world.owner.get(event.execution) is record
    ]
    read = reads[-1] if reads else None
    by_whom = world.owner.get(conflict.conflicting_execution)
    what_read = f"{conflict.table} by {conflict.index}"
    if read is not None:
        reader = world.started.get(read.execution)
        who = "" if reader is None else f"{short_name(reader.function)}'s "
        what_read = f"{who}{read.operation} of {conflict.table} ({read.detail})"
    if by_whom is None:
        return f"it read {what_read}; execution {conflict.conflicting_execution} wrote there first"
    hit = [
        write
        for write in by_whom.effective_writes()
        if isinstance(write, DocumentWritten) and write.table == conflict.table
    ]
    written = "wrote into it"
    if hit:
        written = _write_text(hit[0], by_whom, world)
    other = short_name(by_whom.function)
    return (
        f"it read {what_read}; {other} (execution {by_whom.execution}, "
        f"{world.relative_s(by_whom.started.time_ms)}) had {written} and committed first"
    )


def _write_text(write: DocumentWritten, record: ExecutionRecord, world: World) -> str:
    """``inserted {value: 2}`` or ``patched status → {'kind': 'stopped'}``: what changed."""
    verb = _VERBS.get(write.operation, write.operation)
    if write.operation != "patch" and write.operation != "replace":
        return f"{verb} {_document_text(write.value)}"
    seq = world.commit_seq(record)
    component = world.started[write.execution].component
    before = {} if seq is None else world.document(component, write.table, write.id, seq) or {}
    after = write.value if isinstance(write.value, dict) else {}
    changed = [
        name for name in after if not name.startswith("_") and before.get(name) != after[name]
    ]
    fields = ", ".join(f"{name} → {plain_value(after[name])}" for name in changed)
    return f"{verb} {write.table} ({fields or 'no change'})"


def _document_text(value: Any) -> str:
    if not isinstance(value, dict):
        return "a document"
    fields = {key: item for key, item in value.items() if not key.startswith("_")}
    return "{" + ", ".join(f"{key}: {plain_value(item)}" for key, item in fields.items()) + "}"
