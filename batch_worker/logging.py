"""The component's logger: ``LOG_LEVEL`` filtering and structured events (spec §9).

Levels, lowest first: DEBUG < TRACE < INFO < REPORT < WARN < ERROR; the
default is REPORT. A line prints when the configured level is at or below its
own; ``time``/``time_end`` print at TRACE. An event prints as one JSON object
``{"component": "worker", "event": ..., ...}`` when the level is INFO or lower,
or when it is REPORT and the event is named ``report``.

"Printing" means writing to ``ctx.log``, which the simulator captures per
execution in its trace. :class:`LogRecords` reads them back from a trace: that
is the recording logger tests assert on, with no global state to swap.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from convex_sim import ConvexSimError
from convex_sim.trace import ExecutionStarted, LogLine, TraceEvent

LEVELS: Final = ("DEBUG", "TRACE", "INFO", "REPORT", "WARN", "ERROR")
DEFAULT_LEVEL: Final = "REPORT"
_RANK: Final = {name: rank for rank, name in enumerate(LEVELS)}
_CTX_LEVEL: Final = {
    "DEBUG": "debug",
    "TRACE": "debug",
    "INFO": "info",
    "REPORT": "info",
    "WARN": "warn",
    "ERROR": "error",
}


class InvalidLogLevelError(ConvexSimError, ValueError):
    """``LOG_LEVEL`` is set to something that is not a level."""


def parse_level(value: str | None) -> str:
    level = DEFAULT_LEVEL if value is None or value == "" else value.upper()
    if level not in _RANK:
        raise InvalidLogLevelError(
            f"LOG_LEVEL {value!r} is not a level; use one of {', '.join(LEVELS)}"
        )
    return level


class Logger:
    """Filters by the component's ``LOG_LEVEL`` and writes through ``ctx.log``."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx  # ctx.log is made on first use; most lines are filtered out
        self.level = parse_level(ctx.env.get("LOG_LEVEL"))
        self._timers: dict[str, float] = {}
        self._now_ms = float(ctx.now_ms)

    def enabled(self, level: str) -> bool:
        return _RANK[self.level] <= _RANK[level]

    def _write(self, level: str, message: str) -> None:
        if self.enabled(level):
            getattr(self._ctx.log, _CTX_LEVEL[level])(message)

    def debug(self, message: str) -> None:
        self._write("DEBUG", message)

    def info(self, message: str) -> None:
        self._write("INFO", message)

    def warn(self, message: str) -> None:
        self._write("WARN", message)

    def error(self, message: str) -> None:
        self._write("ERROR", message)

    def time(self, label: str) -> None:
        self._timers[label] = self._now_ms
        self._write("TRACE", f"{label}: started")

    def time_end(self, label: str) -> None:
        started = self._timers.pop(label, self._now_ms)
        self._write("TRACE", f"{label}: {self._now_ms - started:.0f}ms")

    def event(self, name: str, payload: dict[str, Any]) -> None:
        """A structured event, printed as one JSON object (see the module docstring)."""
        if self.enabled("INFO") or (self.level == "REPORT" and name == "report"):
            record = {"component": "worker", "event": name, **payload}
            self._ctx.log.info(json.dumps(record, sort_keys=False))


class RecordingLogger(Logger):
    """A logger that keeps what it is told instead of printing it (0.3.6's mock logger).

    Pass it where a helper takes ``log`` (``lib.start_worker``, ``lib.wake``,
    the monitor's ``check``) to assert on the lines a call produces without a
    trace. ``entries`` holds ``{"level", "args"}`` for lines and
    ``{"event", "payload"}`` for events, every level kept; ``time`` and
    ``time_end`` record nothing.
    """

    def __init__(self) -> None:
        self.level = "DEBUG"
        self._timers = {}
        self._now_ms = 0.0
        self.entries: list[dict[str, Any]] = []

    def _write(self, level: str, message: str) -> None:
        if level != "TRACE":
            self.entries.append({"level": _CTX_LEVEL[level], "args": [message]})

    def event(self, name: str, payload: dict[str, Any]) -> None:
        self.entries.append({"event": name, "payload": dict(payload)})


@dataclass(frozen=True)
class LogRecord:
    execution: int
    function: str
    level: str
    message: str
    event: dict[str, Any] | None


class LogRecords:
    """Every line the component logged in a run, read back from the trace."""

    def __init__(self, records: Iterable[LogRecord]) -> None:
        self.records = list(records)

    @classmethod
    def from_trace(cls, trace: Iterable[TraceEvent], component: str = "batchWorker") -> LogRecords:
        functions: dict[int, tuple[str, str]] = {}
        records = []
        for event in trace:
            if isinstance(event, ExecutionStarted):
                functions[event.execution] = (event.component, event.function)
            elif isinstance(event, LogLine):
                owner, function = functions.get(event.execution, ("", ""))
                if owner != component:
                    continue
                parsed = None
                if event.message.startswith("{"):
                    try:
                        candidate = json.loads(event.message)
                    except ValueError:
                        candidate = None
                    if isinstance(candidate, dict) and candidate.get("component") == "worker":
                        parsed = candidate
                records.append(
                    LogRecord(event.execution, function, event.level, event.message, parsed)
                )
        return cls(records)

    def lines(self, level: str | None = None) -> list[str]:
        return [
            r.message
            for r in self.records
            if r.event is None and (level is None or r.level == level)
        ]

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [
            r.event
            for r in self.records
            if r.event is not None and (name is None or r.event["event"] == name)
        ]
