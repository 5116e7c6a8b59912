"""The example drain on the SQLite store beside the memory store, and where the time goes.

Each event is its own insert-and-ping client mutation, then the batch worker
drains them all, once on the memory store and once on a SQLite file, in the
same run; it prints events/s for both and their ratio, then profiles the
SQLite run and splits its time into SQLite itself (statements and commits),
the store's Python around it (documents to and from JSON), and everything
else (the emulator, as on the memory store).

The SQLite store is durable across a process crash, so it is expected to be
slower; the bench fails (exit 1) only if it is more than ``MAX_RATIO`` times
slower, which would mean a regression such as a query that stopped using an
index and scans.

    python bench/bench_durable.py [--events N] [--profile-events N]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from convex_sim import Simulator
from example import example, make_app

MAX_RATIO = 25.0


def drain(count: int, store: Path | None) -> float:
    """Events/s of adding ``count`` events and draining them."""
    with Simulator(make_app(), seed=0, store=store) as sim:
        started = time.perf_counter()
        for value in range(1, count + 1):
            sim.mutation(example.add_event, {"value": value})
        sim.finish_all_scheduled_functions(max_steps=10 * count + 1_000)
        elapsed = time.perf_counter() - started
        assert sim.query(example.get_totals) == {"total": count * (count + 1) / 2, "count": count}
    return count / elapsed


def where_the_time_goes(count: int, directory: Path) -> dict[str, float]:
    """Seconds of a profiled SQLite drain: SQLite, the store's Python, the rest."""
    profile = cProfile.Profile()
    profile.enable()
    drain(count, directory / "profiled.sqlite")
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in stats.values())  # own time of every function
    sqlite = 0.0
    store = 0.0
    for (filename, _, name), entry in stats.items():
        own = entry[2]
        if filename == "~" and "sqlite3." in name:
            sqlite += own  # statements, commits and fetches, in SQLite's C code
        elif (
            "convex_sim/store/sqlite" in filename
            or "document_text" in filename
            or "/json/" in filename
            or (filename == "~" and "_json" in name)
        ):
            store += own
    return {"SQLite": sqlite, "store (Python)": store, "rest": total - sqlite - store}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--profile-events", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        memory = drain(args.events, None)
        sqlite = drain(args.events, directory / "bench.sqlite")
        ratio = memory / sqlite
        print(f"example drain, {args.events} events")
        print(f"  memory store: {memory:9,.0f} events/s")
        print(f"  SQLite store: {sqlite:9,.0f} events/s  ({ratio:.1f}x slower; limit {MAX_RATIO}x)")
        split = where_the_time_goes(args.profile_events, directory)
        whole = sum(split.values())
        print(f"  where the SQLite run's time goes (profiled, {args.profile_events} events):")
        for part, seconds in split.items():
            print(f"    {part:15} {seconds / whole:6.1%}")
    if ratio > MAX_RATIO:
        print(f"FAIL: the SQLite store is {ratio:.1f}x slower than the memory store")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
