"""``python -m convex_sim.testing replay '<line>'``: run a failing machine run again.

A state machine failure carries a ``convex-sim replay: {...}`` note (see
``convex_sim.testing.machine``). Pasting that line here replays the run on a
fresh machine, prints the executions it ran and how it ended, says whether
the trace is byte-identical to the failing run's, and can write the trace as
JSON lines for a closer look. Exit status: 0 if the replay reproduced the
recorded trace, 1 if not, 2 for a line that cannot be replayed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from convex_sim.testing.executions import executions
from convex_sim.testing.machine import replay_line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m convex_sim.testing", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser("replay", help="replay a 'convex-sim replay:' line")
    replay.add_argument("line", help="the whole line, quoted (the prefix may be left out)")
    replay.add_argument("--trace", metavar="PATH", help="write the replayed trace as JSON lines")
    replay.add_argument("--show", type=int, default=40, help="last executions to list")
    args = parser.parse_args(argv)

    console = Console(highlight=False)
    try:
        result = replay_line(args.line)
    except (ValueError, ImportError, AttributeError) as error:
        console.print(f"[red]cannot replay:[/red] {error}")
        return 2
    trace = result.machine.sim.trace
    if args.trace:
        trace.write_jsonl(args.trace)
    table = Table("execution", "virtual ms", "function", "outcome")
    for record in executions(trace)[-args.show :]:
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
    if result.identical:
        console.print(f"trace identical to the recorded run ({result.trace})")
        return 0
    console.print(f"trace differs: recorded {result.expected_trace}, replayed {result.trace}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
