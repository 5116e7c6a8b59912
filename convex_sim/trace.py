"""The trace: an append-only record of everything that happened, in order.

Values in it are written as Convex JSON (convex-semantics.md §1.1).

Why typed events: tests assert on them (``trace.of(Committed)``), the demo and
the CLI render them, and a replay compares two traces byte for byte. Every
event carries a sequence number, the virtual time, and the execution it
belongs to (0 for the simulator itself). Fields that hold Convex values
(arguments, results) are written as Convex JSON, so a trace exported to JSON
lines and read back compares equal to the original.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from convex_sim.convex_json import from_json, to_json
from convex_sim.errors import ConvexSimError, short_repr
from convex_sim.values import check_value, copy_value

_VALUE = {"convex_value": True}
E = TypeVar("E", bound="TraceEvent")


@dataclass(frozen=True, kw_only=True)
class TraceEvent:
    """Base of every event. ``kind`` names the event in JSON."""

    kind: ClassVar[str] = ""
    seq: int
    time_ms: float
    execution: int

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        for item in fields(self):
            value = getattr(self, item.name)
            data[item.name] = to_json(value) if item.metadata.get("convex_value") else value
        return data


_EVENT_TYPES: dict[str, type[TraceEvent]] = {}


def _event(cls: type[E]) -> type[E]:
    _EVENT_TYPES[cls.kind] = cls
    return cls


@_event
@dataclass(frozen=True, kw_only=True)
class ExecutionStarted(TraceEvent):
    """A function execution (or a retry of one) began."""

    kind: ClassVar[str] = "start"
    function: str
    function_type: str
    component: str
    args: Any = field(metadata=_VALUE)
    """As the handler received them (validated); as given when validation failed."""
    attempt: int = 1
    parent: int | None = None
    job: str | None = None
    snapshot: bool = False
    """A query run as a snapshot read (``use_stale_snapshot``): it took no read dependency."""


@_event
@dataclass(frozen=True, kw_only=True)
class DocumentRead(TraceEvent):
    """A read through ``ctx.db``: ``operation`` is ``get``, ``query.collect``, ..."""

    kind: ClassVar[str] = "read"
    operation: str
    table: str
    detail: str = ""


@_event
@dataclass(frozen=True, kw_only=True)
class DocumentWritten(TraceEvent):
    """A staged write (it takes effect only if the transaction commits).

    ``value`` is the whole document after the write (``None`` for a delete),
    so a saved trace alone can show what each commit changed, field by field.
    """

    kind: ClassVar[str] = "write"
    operation: str
    table: str
    id: str
    value: Any = field(default=None, metadata=_VALUE)


@_event
@dataclass(frozen=True, kw_only=True)
class FunctionScheduled(TraceEvent):
    kind: ClassVar[str] = "schedule"
    job: str
    function: str
    run_at_ms: float
    args: Any = field(metadata=_VALUE)


@_event
@dataclass(frozen=True, kw_only=True)
class JobCanceled(TraceEvent):
    kind: ClassVar[str] = "cancel"
    job: str


@_event
@dataclass(frozen=True, kw_only=True)
class JobStateChanged(TraceEvent):
    """A committed change of a scheduled function's state (pending → success, ...)."""

    kind: ClassVar[str] = "job"
    job: str
    function: str
    state: str


@_event
@dataclass(frozen=True, kw_only=True)
class Committed(TraceEvent):
    kind: ClassVar[str] = "commit"
    ts: int
    writes: int


@_event
@dataclass(frozen=True, kw_only=True)
class Finished(TraceEvent):
    """An execution returned (after its commit, for mutations)."""

    kind: ClassVar[str] = "finish"
    result: Any = field(metadata=_VALUE)


@_event
@dataclass(frozen=True, kw_only=True)
class Failed(TraceEvent):
    """An execution raised; its transaction (if any) wrote nothing."""

    kind: ClassVar[str] = "failure"
    error: str
    message: str


@_event
@dataclass(frozen=True, kw_only=True)
class Conflict(TraceEvent):
    """An OCC conflict at commit: which commit wrote into which interval this one read."""

    kind: ClassVar[str] = "conflict"
    table: str
    index: str
    interval: str
    key: str
    conflicting_execution: int
    conflicting_ts: int


@_event
@dataclass(frozen=True, kw_only=True)
class Retried(TraceEvent):
    kind: ClassVar[str] = "retry"
    attempt: int
    backoff_ms: float


@_event
@dataclass(frozen=True, kw_only=True)
class LogLine(TraceEvent):
    """A line a handler logged through ``ctx.log``."""

    kind: ClassVar[str] = "log"
    level: str
    message: str


@_event
@dataclass(frozen=True, kw_only=True)
class ClockAdvanced(TraceEvent):
    kind: ClassVar[str] = "clock"
    to_ms: float


@_event
@dataclass(frozen=True, kw_only=True)
class FaultInjected(TraceEvent):
    """A planned fault fired (see ``convex_sim.faults``): ``fail`` or ``delay``."""

    kind: ClassVar[str] = "fault"
    fault: str
    function: str
    job: str
    detail: str


@_event
@dataclass(frozen=True, kw_only=True)
class Resumed(TraceEvent):
    """A simulator opened a store that already had history, and carried on from it.

    ``pending`` jobs were queued again from their rows; ``lost_actions`` were
    found ``inProgress`` (their process died) and marked failed.
    """

    kind: ClassVar[str] = "resumed"
    latest_ts: int
    pending: int
    lost_actions: int


def event_from_json(data: dict[str, Any]) -> TraceEvent:
    """Rebuild an event written by :meth:`TraceEvent.to_json`."""
    payload = dict(data)
    kind = payload.pop("kind")
    cls = _EVENT_TYPES.get(kind)
    if cls is None:
        raise ValueError(f"unknown trace event kind {kind!r}")
    values = {}
    for item in fields(cls):
        raw = payload[item.name]
        values[item.name] = from_json(raw) if item.metadata.get("convex_value") else raw
    return cls(**values)


class Trace(Sequence[TraceEvent]):
    """Every event so far, oldest first. Append-only: only the simulator records.

    Why events are built lazily: a busy run records millions of them and most
    are never looked at, so :meth:`note` only stores the event's class and
    fields; the typed event objects are made the first time anyone reads the
    trace. Reading never changes what was recorded.
    """

    def __init__(self, events: Sequence[TraceEvent] = ()) -> None:
        self._events: list[TraceEvent] = list(events)
        self._unbuilt: list[tuple[type[TraceEvent], float, int, dict[str, Any]]] = []

    def record(self, event: TraceEvent) -> None:
        self._built().append(event)

    def note(
        self, make: type[TraceEvent], time_ms: float, execution: int, fields: dict[str, Any]
    ) -> None:
        """Record an event of type ``make``; its sequence number is its position."""
        self._unbuilt.append((make, time_ms, execution, fields))

    def _built(self) -> list[TraceEvent]:
        if self._unbuilt:
            events = self._events
            seq = len(events)
            for make, time_ms, execution, fields in self._unbuilt:
                events.append(make(seq=seq, time_ms=time_ms, execution=execution, **fields))
                seq += 1
            self._unbuilt.clear()
        return self._events

    @property
    def next_seq(self) -> int:
        return len(self._events) + len(self._unbuilt)

    def __len__(self) -> int:
        return len(self._events) + len(self._unbuilt)

    def __getitem__(self, index: Any) -> Any:
        return self._built()[index]

    def __iter__(self) -> Iterator[TraceEvent]:
        return iter(self._built())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Trace) and self._built() == other._built()

    __hash__ = None  # type: ignore[assignment]

    def of(self, event_type: type[E]) -> list[E]:
        """The events of one type, in order."""
        return [event for event in self._built() if isinstance(event, event_type)]

    def for_execution(self, execution: int) -> list[TraceEvent]:
        return [event for event in self._built() if event.execution == execution]

    def to_jsonl(self) -> str:
        """One JSON object per line; stable key order, so equal traces give equal text."""
        return "".join(
            json.dumps(event.to_json(), sort_keys=True, allow_nan=False) + "\n"
            for event in self._built()
        )

    def digest(self) -> str:
        """A short fingerprint of :meth:`to_jsonl`: equal digests, byte-identical traces."""
        return "sha256:" + hashlib.sha256(self.to_jsonl().encode("utf-8")).hexdigest()[:32]

    @classmethod
    def from_jsonl(cls, text: str) -> Trace:
        return cls([event_from_json(json.loads(line)) for line in text.splitlines() if line])

    def write_jsonl(self, path: str | Path) -> None:
        Path(path).write_text(self.to_jsonl(), encoding="utf-8")

    @classmethod
    def read_jsonl(cls, path: str | Path) -> Trace:
        return cls.from_jsonl(Path(path).read_text(encoding="utf-8"))


def traceable(value: Any) -> Any:
    """A value as it can be written into the trace (non-values become a bounded repr).

    What is not a Convex value may be anything at all: nested thousands deep,
    huge, or with a ``__repr__`` that raises. The trace keeps a short repr of
    it, which never recurses further than a few levels and never raises.
    """
    try:
        check_value(value)
    except ConvexSimError:
        return short_repr(value)
    return copy_value(value)
