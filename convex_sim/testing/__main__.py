"""``python -m convex_sim.testing replay '<line>'``: run a failing machine run again.

A state machine failure carries a ``convex-sim replay: {...}`` note (see
``convex_sim.testing.machine``). Pasting that line here replays the run on a
fresh machine, prints the executions it ran and how it ended, says whether
the trace is byte-identical to the failing run's, and can write the trace as
JSON lines for a closer look. The machine's module is imported as pytest
imported it, from the project the current directory is in (or ``--rootdir``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from convex_sim.testing.executions import executions
from convex_sim.testing.machine import Replay, SimulatorMachine, replay_line

REPRODUCED = 0
"""The replayed trace is byte-identical to the recorded one: the same run, failure and all."""
STILL_FAILS_DIFFERENTLY = 1
"""The trace differs and the replay failed: the code changed, and something still fails."""
CANNOT_REPLAY = 2
"""Bad arguments, a line that is not a reproducer, or a machine that cannot be found."""
NO_LONGER_FAILS = 3
"""The trace differs and nothing failed: the failure is gone (fixed, or behaviour changed)."""

EXIT_STATUS = f"""exit status:
  {REPRODUCED}  reproduced: the trace is byte-identical to the recorded run's
  {STILL_FAILS_DIFFERENTLY}  the trace differs and the replay still failed
  {CANNOT_REPLAY}  cannot replay: bad arguments, not a reproducer line, or the machine
     cannot be imported
  {NO_LONGER_FAILS}  the trace differs and nothing failed: the failure no longer happens
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m convex_sim.testing",
        description=__doc__.split("\n\n")[0],
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser(
        "replay",
        help="replay a 'convex-sim replay:' line",
        description="Replay a state machine run from its 'convex-sim replay:' line.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    replay.add_argument("line", help="the whole line, quoted (the prefix may be left out)")
    replay.add_argument("--trace", metavar="PATH", help="write the replayed trace as JSON lines")
    replay.add_argument("--show", type=int, default=40, help="last executions to list")
    replay.add_argument(
        "--rootdir",
        metavar="DIR",
        type=Path,
        help="the project pytest ran in, to find the machine's test module "
        "(default: the one the current directory is in)",
    )
    args = parser.parse_args(argv)

    console = Console(highlight=False)
    try:
        result = replay_line(args.line, args.rootdir)
    except (ValueError, ImportError, AttributeError) as error:
        console.print(f"[red]cannot replay:[/red] {error}")
        return CANNOT_REPLAY
    if args.trace:
        result.machine.sim.trace.write_jsonl(args.trace)
    _print_run(console, result, args.show)
    if result.identical:
        console.print(f"trace identical to the recorded run ({result.trace})")
        return REPRODUCED
    console.print(f"trace differs: recorded {result.expected_trace}, replayed {result.trace}")
    return NO_LONGER_FAILS if result.error is None else STILL_FAILS_DIFFERENTLY


def _print_run(console: Console, result: Replay[SimulatorMachine], show: int) -> None:
    table = Table("execution", "virtual ms", "function", "outcome")
    for record in executions(result.machine.sim.trace)[-show:]:
        outcome = "committed" if record.committed else "read only"
        if record.conflict is not None:
            outcome = f"conflict on {record.conflict.table}"
        if record.failure is not None:
            outcome = f"failed: {record.failure.error}"
        table.add_row(
            str(record.execution), f"{record.started.time_ms:.3f}", record.function, outcome
        )
    console.print(table)
    steps = len(result.machine.script)
    if result.error is None:
        console.print(f"{steps} steps replayed; no invariant failed")
    else:
        console.print(f"{steps} steps replayed; failed: [red]{result.error}[/red]")


if __name__ == "__main__":
    sys.exit(main())
