"""``python -m convex_sim``: tools for a deployment's files.

``inspect FILE [TABLE]`` lists the tables of a SQLite store with their
document counts, or prints one table's documents (``events``,
``batchWorker/workers``). Exit status: 0 on success, 2 for a file that is
not a store or a table it does not have.

``trace show FILE`` prints a saved trace (``Trace.write_jsonl``, the demo's
``--trace-out``) as a story, told by every installed explainer;
``trace explore FILE`` opens it in the interactive stepper (the ``explore``
extra). Exit status 2: not a trace file.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m convex_sim",
        description="Tools for convex_sim deployments' files.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser(
        "inspect",
        help="show a SQLite store's tables, or one table's documents",
        description=(
            "Open a store read-only (it may be in use) and print its tables with their "
            "document counts, or the documents of TABLE. Exit status 2: not a store, "
            "or no such table."
        ),
    )
    inspect.add_argument("file", help="the store's path, as given to Simulator(store=...)")
    inspect.add_argument("table", nargs="?", help="a table: events, batchWorker/workers, ...")
    inspect.add_argument("--limit", type=int, default=50, help="documents to show (default 50)")
    trace = commands.add_parser(
        "trace",
        help="tell a saved trace as a story, or step through it",
        description="Saved traces are JSON lines, as Trace.write_jsonl and --trace-out write.",
    )
    trace_commands = trace.add_subparsers(dest="trace_command", required=True)
    show = trace_commands.add_parser("show", help="print the trace as a story")
    show.add_argument("file", help="a .jsonl trace")
    show.add_argument("--svg", metavar="FILE", help="also save the story as an SVG picture")
    show.add_argument("--width", type=int, default=None, help="columns (default: the terminal)")
    explore = trace_commands.add_parser("explore", help="step through the trace interactively")
    explore.add_argument("file", help="a .jsonl trace")
    args = parser.parse_args(argv)

    if args.command == "trace":
        from convex_sim.story.cli import explore_trace, show_trace

        if args.trace_command == "show":
            return show_trace(args.file, svg=args.svg, width=args.width)
        return explore_trace(args.file)

    from convex_sim.inspection import inspect as run_inspect

    return run_inspect(args.file, args.table, limit=args.limit)


if __name__ == "__main__":
    raise SystemExit(main())
