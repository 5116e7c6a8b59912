"""Scheduled executions per second: a chain of self-rescheduling mutations.

One client mutation schedules the first link; every link bumps a counter row
and schedules the next, until ``--links`` have run. The chain is drained with
``Simulator.finish_all_scheduled_functions``: each link is a full scheduled
mutation (re-read of its job row, ``inProgress``/``success`` staged in its own
transaction, read set, OCC check, commit, trace events). As a baseline in the
same run, the same number of links' worth of work is done by plain client
mutations (no scheduler), so the scheduler's own overhead is visible.

    python bench/bench_scheduler.py [--links N] [--baseline N]

Prints the figures and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from convex_sim import Simulator, define_app, internal_mutation, mutation, query, v


async def _bump(ctx: Any) -> None:
    row = await ctx.db.query("progress").first()
    if row is None:
        await ctx.db.insert("progress", {"count": 1})
    else:
        await ctx.db.patch(row["_id"], {"count": row["count"] + 1})


@internal_mutation(args={"remaining": v.int64()})
async def link(ctx: Any, args: dict[str, Any]) -> None:
    await _bump(ctx)
    if args["remaining"] > 1:
        await ctx.scheduler.run_after(0, link, {"remaining": args["remaining"] - 1})


@mutation(args={"links": v.int64()})
async def start(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.scheduler.run_after(0, link, {"remaining": args["links"]})


@mutation(args={})
async def bump(ctx: Any, args: dict[str, Any]) -> None:
    await _bump(ctx)


@query(args={})
async def progress(ctx: Any, args: dict[str, Any]) -> int:
    row = await ctx.db.query("progress").first()
    return 0 if row is None else int(row["count"])


def app() -> Any:
    return define_app(modules=[sys.modules[__name__]])


def run_chain(links: int) -> tuple[float, int]:
    sim = Simulator(app(), seed=0)
    sim.mutation(start, {"links": links})
    began = time.perf_counter()
    ran = sim.finish_all_scheduled_functions(max_steps=links)
    elapsed = time.perf_counter() - began
    assert ran == links, f"ran {ran} of {links} links"
    assert sim.query(progress) == links
    return elapsed, len(sim.trace)


def run_baseline(calls: int) -> float:
    sim = Simulator(app(), seed=0)
    began = time.perf_counter()
    for _ in range(calls):
        sim.mutation(bump)
    elapsed = time.perf_counter() - began
    assert sim.query(progress) == calls
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=10_000, help="chain length (default 10000)")
    parser.add_argument(
        "--baseline",
        type=int,
        default=None,
        help="client mutations for the baseline (default: same as --links; 0 to skip)",
    )
    options = parser.parse_args(argv)
    if options.links < 1:
        parser.error("--links must be at least 1")
    baseline = options.links if options.baseline is None else options.baseline

    elapsed, events = run_chain(options.links)
    rate = options.links / elapsed
    print(
        f"scheduler chain: {options.links} scheduled mutations in {elapsed:.2f} s "
        f"= {rate:,.0f} scheduled executions/s ({events} trace events)"
    )
    if baseline > 0:
        base_elapsed = run_baseline(baseline)
        base_rate = baseline / base_elapsed
        print(
            f"baseline: {baseline} client mutations in {base_elapsed:.2f} s "
            f"= {base_rate:,.0f} mutations/s; scheduler overhead x{base_rate / rate:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
