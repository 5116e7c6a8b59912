"""Drain the example app: events per second, and function executions per batch.

Each event is added by its own insert-and-ping client mutation, then
``finish_all_scheduled_functions`` lets the batch worker drain them all. The
target: at least 20 000 events/s at 10 000 events and 18 000 at 100 000,
flat in N. Exits 1 when a size misses its target.

For scale, the same run also times the bare data-structure work the app
stands for (a dict of events plus a sorted list in insertion order, drained
ten at a time into a total) and prints how many times slower the emulated
drain is: that ratio carries over between machines, events/s does not.

    python bench/bench_example.py [--sizes 10000 100000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sortedcontainers import SortedList

from convex_sim import Simulator
from convex_sim.trace import ExecutionStarted
from example import example, make_app

TARGETS = {10_000: 20_000.0, 100_000: 18_000.0}


def drain(count: int) -> tuple[float, float, float, dict[str, int]]:
    sim = Simulator(make_app(), seed=0)
    started = time.perf_counter()
    for value in range(1, count + 1):
        sim.mutation(example.add_event, {"value": value})
    added = time.perf_counter()
    sim.finish_all_scheduled_functions(max_steps=10 * count + 1_000)
    finished = time.perf_counter()
    totals = sim.query(example.get_totals)
    assert totals == {"total": count * (count + 1) / 2, "count": count}, totals
    executions: dict[str, int] = {}
    for event in sim.trace.of(ExecutionStarted):
        executions[event.function] = executions.get(event.function, 0) + 1
    return (
        count / (finished - started),
        count / (added - started),
        count / (finished - added),
        executions,
    )


def bare_drain(count: int) -> float:
    """Events/s for the app's logic on plain data structures: no emulation at all."""
    started = time.perf_counter()
    events: dict[int, float] = {}
    order: SortedList[int] = SortedList()
    for value in range(1, count + 1):
        events[value] = float(value)
        order.add(value)
    total, seen = 0.0, 0
    while order:
        batch = list(order.islice(0, 10))
        for key in batch:
            total += events.pop(key)
            seen += 1
            order.remove(key)
    assert total == count * (count + 1) / 2
    assert seen == count
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    options = parser.parse_args()
    missed = False
    for count in options.sizes:
        profiler = cProfile.Profile() if options.profile else None
        if profiler is not None:
            profiler.enable()
        overall, adding, draining, executions = drain(count)
        if profiler is not None:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        bare = max(bare_drain(count) for _ in range(3))
        batches = executions.get("example:process_batch", 0)
        per_batch = sum(executions.values()) / max(batches, 1)
        target = TARGETS.get(count)
        verdict = "" if target is None else f" (target >= {target:,.0f})"
        print(
            f"{count:>7,} events: {overall:8,.0f} events/s overall{verdict}; "
            f"adding {adding:,.0f}/s, draining {draining:,.0f}/s; "
            f"{per_batch:.1f} function executions per batch ({batches} batches); "
            f"bare data structures {bare:,.0f}/s, {bare / overall:,.0f}x faster"
        )
        if target is not None and overall < target:
            missed = True
    if missed:
        print("FAILED: below target")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
