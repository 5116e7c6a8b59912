"""The stepping demo: enqueue events, let the batch worker drain, show every step (spec §5–§8).

Run it with ``python -m example`` (or the ``convex-sim-example`` script)::

    python -m example --events 25 --seed 0 --log-level DEBUG
    python -m example --events 1000 --show 30
    python -m example --step          # wait for Enter after each moment; Ctrl-C or EOF stops
    LOG_LEVEL=INFO python -m example  # the environment's LOG_LEVEL, as a deployment sets it
    python -m example --replay 'convex-sim replay: {...}'   # a failing race test's run

Each moment of virtual time is printed as the executions that ran then: the
client's ``add_event`` calls (each pinging the worker), the worker's loop
runs with their nested work query (a snapshot read) and worker mutation, the
monitor, commits, conflicts and retries, and the component's log lines; then
any change of the worker's status. It ends with the totals.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from batch_worker.logging import LEVELS
from convex_sim import Simulator
from convex_sim.trace import (
    Committed,
    Conflict,
    ExecutionStarted,
    Failed,
    Finished,
    LogLine,
    Retried,
    TraceEvent,
)
from example import example
from example.definition import make_app

_SHORT_NAMES = {
    "batchWorker/loop:loop": "loop",
    "batchWorker/monitor:monitor": "monitor",
    "batchWorker/lib:ping": "ping",
    "example:get_batch": "work query",
    "example:process_batch": "worker mutation",
}


@dataclass
class DemoResult:
    total: float
    count: int
    status: dict[str, Any] | None
    executions: Counter[str] = field(default_factory=Counter)
    elapsed_ms: float = 0.0
    conflicts: int = 0


def _plain(value: Any) -> Any:
    """Ids as plain strings, so a summary reads like the JSON a Convex user would see."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, str) else value


def _summary(value: Any, limit: int = 60) -> str:
    text = repr(_plain(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TraceRenderer:
    """Turns trace events into indented lines: one block per top-level execution."""

    def __init__(self, console: Console, start_ms: float, show: int) -> None:
        self.console = console
        self.start_ms = start_ms
        self.show = show
        self.shown = 0
        self.hidden = 0
        self.depth: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.executions: Counter[str] = Counter()

    def _visible(self, execution: int) -> bool:
        return self.depth.get(execution, 0) >= 0 and self.shown <= self.show

    def render(self, events: Sequence[TraceEvent]) -> None:
        for event in events:
            self._render(event)

    def _line(self, execution: int, text: str) -> None:
        if self.shown > self.show:
            return
        indent = "  " * (self.depth.get(execution, 0) + 1)
        self.console.print(f"{indent}{text}", highlight=False)

    def _render(self, event: TraceEvent) -> None:
        if isinstance(event, ExecutionStarted):
            name = _SHORT_NAMES.get(event.function, event.function)
            self.names[event.execution] = name
            self.executions[name] += 1
            if event.parent is None:
                self.depth[event.execution] = 0
                self.shown += 1
                if self.shown > self.show:
                    self.hidden += 1
                    return
                when = (event.time_ms - self.start_ms) / 1000
                detail = ""
                if name == "loop":
                    detail = f" (generation {event.args.get('generation')})"
                elif event.args:
                    detail = f" {_summary(event.args)}"
                retry = f" [attempt {event.attempt}]" if event.attempt > 1 else ""
                self.console.print(
                    f"[bold cyan]t+{when:8.3f}s[/] [bold]{event.function_type} {name}[/]"
                    f"{detail}{retry}",
                    highlight=False,
                )
            else:
                self.depth[event.execution] = self.depth.get(event.parent, 0) + 1
                how = " (snapshot read)" if event.snapshot else ""
                self._line(event.execution, f"└ {event.function_type} {name}{how}")
        elif isinstance(event, Finished) and self.depth.get(event.execution, 0) > 0:
            self._line(event.execution, f"  [dim]→ {_summary(event.result)}[/]")
        elif isinstance(event, Failed):
            self._line(event.execution, f"[red]✗ {event.error}: {_summary(event.message, 90)}[/]")
        elif isinstance(event, Committed) and event.writes:
            self._line(event.execution, f"[green]✓ commit[/] ({event.writes} writes)")
        elif isinstance(event, Conflict):
            self._line(
                event.execution,
                f"[yellow]⚡ conflict on {event.table}.{event.index}[/] with execution "
                f"{event.conflicting_execution}",
            )
        elif isinstance(event, Retried):
            self._line(event.execution, f"[yellow]↻ retry after {event.backoff_ms:.0f} ms[/]")
        elif isinstance(event, LogLine):
            self._line(event.execution, f"[magenta]log.{event.level}[/] {event.message}")


def _status(sim: Simulator) -> dict[str, Any] | None:
    async def read(db: Any) -> dict[str, Any] | None:
        worker = (
            await db.query("workers").with_index("name", lambda q: q.eq("name", "events")).unique()
        )
        return None if worker is None else dict(worker["status"])

    result: dict[str, Any] | None = sim.peek(read, component="batchWorker")
    return result


def run_demo(
    *,
    events: int = 25,
    seed: int = 0,
    log_level: str | None = None,
    show: int = 60,
    console: Console | None = None,
    pause: Callable[[], None] | None = None,
) -> DemoResult:
    """Enqueue ``events`` events (values 1..N), drain them, and print what happened."""
    console = console or Console()
    sim = Simulator(make_app(log_level), seed=seed)
    start = sim.now
    renderer = TraceRenderer(console, start, show)
    console.rule(f"[bold]batch worker demo[/]: {events} events, seed {seed}")
    status = _status(sim)
    for value in range(1, events + 1):
        sim.mutation(example.add_event, {"value": value})
    seen = 0
    while True:
        renderer.render(sim.trace[seen:])
        seen = len(sim.trace)
        now_status = _status(sim)
        if now_status != status and renderer.shown <= show:
            console.print(f"  [bold yellow]status: {status} → {now_status}[/]", highlight=False)
        status = now_status
        if pause is not None and renderer.shown <= show:
            pause()
        job = sim.runtime.next_due()
        if job is None:
            break
        sim.advance(max(0.0, job.due_ms - sim.now))
    if renderer.hidden:
        console.print(f"[dim]… {renderer.hidden} more executions not shown (--show)[/]")
    totals = sim.query(example.get_totals) or {"total": 0.0, "count": 0}
    result = DemoResult(
        total=totals["total"],
        count=totals["count"],
        status=status,
        executions=renderer.executions,
        elapsed_ms=sim.now - start,
        conflicts=sum(sim.conflicts.values()),
    )
    table = Table(title="executions")
    table.add_column("function")
    table.add_column("runs", justify="right")
    for name, runs in sorted(renderer.executions.items()):
        table.add_row(name, str(runs))
    console.print(table)
    console.print(
        f"[bold]total {result.total:g}, count {result.count}[/]; worker {result.status}; "
        f"{result.elapsed_ms / 1000:.3f} s of virtual time; {result.conflicts} OCC conflicts",
        highlight=False,
    )
    return result


def replay_demo(line: str, *, show: int = 200, console: Console | None = None) -> int:
    """Print a replayed state-machine run (a ``convex-sim replay:`` line) moment by moment.

    Returns 0 when the replay's trace is byte-identical to the recorded run's,
    1 when it differs, 2 when the line cannot be replayed.
    """
    console = console or Console()
    try:
        from convex_sim.testing import replay_line  # needs the testing extra (hypothesis)
    except ImportError as error:
        hint = escape(f"pip install -e '.[test]' ({error})")
        console.print(f"[red]--replay needs the testing extra[/]: {hint}")
        return 2
    try:
        result = replay_line(line)
    except (ValueError, ImportError, AttributeError) as error:
        console.print(f"[red]cannot replay:[/] {error}")
        return 2
    sim = result.machine.sim
    console.rule(f"[bold]replay[/]: {len(result.machine.script)} steps, seed {sim.seed}")
    renderer = TraceRenderer(console, sim.trace[0].time_ms if len(sim.trace) else sim.now, show)
    renderer.render(sim.trace)
    if renderer.hidden:
        console.print(f"[dim]… {renderer.hidden} more executions not shown (--show)[/]")
    if result.error is not None:
        console.print(f"[bold red]failed:[/] {result.error}", highlight=False)
    else:
        console.print("[bold]no invariant failed[/]")
    if result.identical:
        console.print(f"trace identical to the recorded run ({result.trace})")
        return 0
    console.print(f"trace differs: recorded {result.expected_trace}, replayed {result.trace}")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=25, help="how many events to add (1..N)")
    parser.add_argument("--seed", type=int, default=0, help="the simulator's seed")
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LEVELS,
        default=None,
        help="the component's LOG_LEVEL (default: the LOG_LEVEL environment variable, else REPORT)",
    )
    parser.add_argument("--show", type=int, default=60, help="top-level executions to print")
    parser.add_argument("--step", action="store_true", help="wait for Enter at each moment")
    parser.add_argument(
        "--replay", metavar="LINE", help="show a failing race test's run from its replay line"
    )
    options = parser.parse_args(argv)
    if options.replay is not None:
        return replay_demo(options.replay, show=max(options.show, 200))
    if options.events < 0:
        parser.error("--events must be 0 or more")
    log_level = options.log_level or _log_level_from_environment(parser)
    try:
        run_demo(
            events=options.events,
            seed=options.seed,
            log_level=log_level,
            show=options.show,
            pause=_wait_for_enter if options.step else None,
        )
    except (KeyboardInterrupt, EOFError) as stop:
        # Leaving a stepped run early is a normal way to end it, not a crash.
        print("\nstopped" + (" (end of input)" if isinstance(stop, EOFError) else ""))
        return 130 if isinstance(stop, KeyboardInterrupt) else 0
    return 0


def _wait_for_enter() -> None:
    input("  [Enter] ")


def _log_level_from_environment(parser: argparse.ArgumentParser) -> str | None:
    """``LOG_LEVEL`` as a deployment would set it; a bad value is refused before anything runs."""
    value = os.environ.get("LOG_LEVEL")
    if not value:
        return None
    if value.upper() not in LEVELS:
        parser.error(
            f"LOG_LEVEL={value!r} in the environment is not a level; use one of {', '.join(LEVELS)}"
        )
    return value.upper()
