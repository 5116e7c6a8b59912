"""The demo: run a scenario of the example app and print its story, moment by moment.

Run it with ``python -m example`` (or the ``convex-sim-example`` script)::

    python -m example                              # the drain scenario, 25 events
    python -m example --scenario race-going-idle   # a ping races the going-idle run
    python -m example --events 1000                # a bigger drain
    python -m example --step                       # wait for Enter at each moment
    python -m example --trace-out run.jsonl --svg run.svg
    python -m example explore --scenario throw-once   # the interactive stepper
    python -m example --replay 'convex-sim replay: {...}'   # a failing race test's run

For each moment of virtual time the story says what ran and why, in the
batch worker spec's terms: the loop's branch, ping's decision, the monitor
scheduled, pushed back or canceled, status changes, and every OCC conflict
with what it read, who wrote there first, and the retry. Repeated identical
steps fold into one line with a count. It is told from the trace alone (see
``convex_sim.story``), so ``python -m convex_sim trace show run.jsonl``
prints the same story from a saved run.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape

from batch_worker.logging import LEVELS
from convex_sim import Simulator
from convex_sim.story import (
    Story,
    build_story,
    fold,
    installed_explainers,
    moments,
    short_name,
)
from convex_sim.story import story_table as render_story
from convex_sim.trace import ExecutionStarted
from example import example
from example.scenarios import SCENARIOS, Run

LEGEND = (
    "#n is the run's n-th scheduled function (a _scheduled_functions row: pending, then "
    "inProgress while it runs, then success unless the line says failed or canceled)."
)


@dataclass
class DemoResult:
    total: float
    count: int
    status: dict[str, Any] | None
    executions: Counter[str] = field(default_factory=Counter)
    """Executions by function's short name, nested calls included (every attempt)."""
    elapsed_ms: float = 0.0
    conflicts: int = 0
    story: Story | None = None
    run: Run | None = None


def _status(sim: Simulator) -> dict[str, Any] | None:
    status: dict[str, Any] | None = sim.query(example.worker_status)
    return None if status is None else dict(status)


def run_demo(
    *,
    scenario: str = "drain",
    events: int | None = None,
    seed: int = 0,
    log_level: str | None = None,
    show: int | None = None,
    console: Console | None = None,
    pause: Callable[[], None] | None = None,
    trace_out: str | None = None,
) -> DemoResult:
    """Run ``scenario`` and print its story; ``pause`` is called between moments."""
    console = console or Console()
    chosen = SCENARIOS[scenario]
    run = chosen.run(seed=seed, events=events, log_level=log_level)
    sim = run.sim
    if trace_out is not None:
        sim.trace.write_jsonl(trace_out)
    story = build_story(sim.trace, installed_explainers())
    ran = Counter(short_name(event.function) for event in sim.trace.of(ExecutionStarted))
    count = chosen.default_events if events is None else events
    console.rule(f"[bold]{scenario}[/] · {_plural(count, 'event')} · seed {seed}")
    console.print(f"[bold]{escape(chosen.summary)}[/]", highlight=False)
    console.print(f"[dim]{escape(LEGEND)}[/]", highlight=False)
    _print_story(console, story, show, pause)
    totals = sim.query(example.get_totals) or {"total": 0.0, "count": 0}
    result = DemoResult(
        total=totals["total"],
        count=totals["count"],
        status=_status(sim),
        executions=ran,
        elapsed_ms=sim.now - sim.opened_at_ms,
        conflicts=sum(sim.conflicts.values()),
        story=story,
        run=run,
    )
    console.rule()
    listed = ", ".join(f"{name} {runs}" for name, runs in sorted(result.executions.items()))
    kind = None if result.status is None else result.status["kind"]
    console.print(
        f"[bold]total {result.total:g}, count {result.count}[/]; worker {kind}; "
        f"{result.elapsed_ms / 1000:.3f} s of virtual time; "
        f"{_plural(result.conflicts, 'OCC conflict')}",
        highlight=False,
    )
    console.print(f"[dim]executions: {listed}[/]", highlight=False)
    if run.schedule is not None:
        console.print(
            f"[dim]race interleaving: schedule {run.schedule}, the first from {seed} "
            "that shows the conflict[/]",
            highlight=False,
        )
    return result


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _print_story(
    console: Console, story: Story, show: int | None, pause: Callable[[], None] | None
) -> None:
    # Stepping shows each moment on its own, so repeats fold only within one instant.
    folded = story.lines if pause is None else fold(story.steps, across_moments=False)
    lines = folded if show is None else folded[:show]
    if pause is None:
        console.print(render_story(story, lines))
    else:
        for moment in moments(lines):
            console.print(render_story(story, moment))
            pause()
    hidden = len(folded) - len(lines)
    if hidden:
        console.print(f"[dim]… {hidden} more lines not shown (--show)[/]")


def replay_demo(line: str, *, console: Console | None = None) -> int:
    """Print a replayed state-machine run (a ``convex-sim replay:`` line) as a story.

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
    story = build_story(sim.trace, installed_explainers())
    console.print(render_story(story))
    if result.error is not None:
        console.print(f"[bold red]failed:[/] {escape(str(result.error))}", highlight=False)
    else:
        console.print("[bold]no invariant failed[/]")
    if result.identical:
        console.print(f"trace identical to the recorded run ({result.trace})")
        return 0
    console.print(f"trace differs: recorded {result.expected_trace}, replayed {result.trace}")
    return 1


def _scenario_help() -> str:
    width = max(len(name) for name in SCENARIOS)
    listed = "\n".join(
        f"  {name.ljust(width)}  {scenario.summary} "
        f"(default {_plural(scenario.default_events, 'event')})"
        for name, scenario in SCENARIOS.items()
    )
    return (
        f"scenarios:\n{listed}\n\n"
        "python -m example explore [--scenario NAME | --trace FILE] opens the interactive "
        "stepper (pip install -e '.[explore]')."
    )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options the demo and the explorer share: which run to make."""
    parser.add_argument(
        "--scenario",
        choices=list(SCENARIOS),
        default="drain",
        metavar="NAME",
        help="which scenario to run (listed below; default: drain)",
    )
    parser.add_argument(
        "--events", type=int, default=None, help="how many events to add (values 1..N)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the simulator's seed")
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LEVELS,
        default=None,
        help="the component's LOG_LEVEL (default: the LOG_LEVEL environment variable, else REPORT)",
    )
    parser.add_argument("--trace-out", metavar="FILE", help="save the run's trace as JSON lines")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["explore"]:
        from example.explore import main as explore_main

        return explore_main(arguments[1:])
    parser = argparse.ArgumentParser(
        prog="python -m example",
        description=__doc__.split("\n\n")[0],
        epilog=_scenario_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_options(parser)
    parser.add_argument("--show", type=int, default=None, help="print only the first N lines")
    parser.add_argument("--step", action="store_true", help="wait for Enter at each moment")
    parser.add_argument("--svg", metavar="FILE", help="also save the printed story as an SVG")
    parser.add_argument(
        "--replay", metavar="LINE", help="show a failing race test's run from its replay line"
    )
    options = parser.parse_args(arguments)
    if options.replay is not None:
        return replay_demo(options.replay)
    if options.events is not None and options.events < 0:
        parser.error("--events must be 0 or more")
    log_level = options.log_level or log_level_from_environment(parser)
    console = Console(record=options.svg is not None)
    try:
        run_demo(
            scenario=options.scenario,
            events=options.events,
            seed=options.seed,
            log_level=log_level,
            show=options.show,
            console=console,
            pause=_wait_for_enter if options.step else None,
            trace_out=options.trace_out,
        )
    except (KeyboardInterrupt, EOFError) as stop:
        # Leaving a stepped run early is a normal way to end it, not a crash.
        print("\nstopped" + (" (end of input)" if isinstance(stop, EOFError) else ""))
        return 130 if isinstance(stop, KeyboardInterrupt) else 0
    if options.svg is not None:
        console.save_svg(options.svg, title=f"python -m example --scenario {options.scenario}")
    return 0


def _wait_for_enter() -> None:
    input("  [Enter] ")


def log_level_from_environment(parser: argparse.ArgumentParser) -> str | None:
    """``LOG_LEVEL`` as a deployment would set it; a bad value is refused before anything runs."""
    value = os.environ.get("LOG_LEVEL")
    if not value:
        return None
    if value.upper() not in LEVELS:
        parser.error(
            f"LOG_LEVEL={value!r} in the environment is not a level; use one of {', '.join(LEVELS)}"
        )
    return value.upper()
