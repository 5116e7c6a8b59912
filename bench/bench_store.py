"""Indexed range queries against a brute-force scan-and-sort, at 100 000 documents.

Loads 100 000 documents into a table with two user indexes through the
``ctx.db`` API, then runs 10 000 ``with_index(...).take(10)`` queries, each in
its own read-only transaction, and a brute-force baseline over the same data
in the same run: filter every document, sort the matches by the index key, take
10. Target: the store answers at least 20x faster than the baseline.

    python bench/bench_store.py [--documents N] [--queries N] [--baseline-queries N]

Exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from convex_sim import Simulator, define_app, define_schema, define_table, v
from convex_sim.index_keys import KEY_MAX

TARGET_RATIO = 20.0
SCHEMA = define_schema(
    {
        "docs": define_table({"group": v.int64(), "score": v.float64(), "name": v.string()})
        .index("by_group_score", ["group", "score"])
        .index("by_name", ["name"])
    }
)


def load(sim: Simulator, count: int, rng: random.Random) -> None:
    batch = 1_000
    for first in range(0, count, batch):
        documents = [
            {
                "group": rng.randrange(1_000),
                "score": rng.random(),
                "name": f"n{rng.randrange(10**9):09d}",
            }
            for _ in range(min(batch, count - first))
        ]

        async def insert(ctx: Any, documents: list[dict[str, Any]] = documents) -> None:
            for document in documents:
                await ctx.db.insert("docs", document)

        sim.run(insert)


def random_query(rng: random.Random) -> tuple[str, Any]:
    if rng.random() < 0.5:
        return "group", (rng.randrange(1_000), rng.random())
    return "name", f"n{rng.randrange(10**9):09d}"


def store_query(sim: Simulator, query: tuple[str, Any]) -> list[dict[str, Any]]:
    """One query in its own read-only transaction (``peek``: nothing traced)."""
    kind, argument = query

    async def run(db: Any) -> list[dict[str, Any]]:
        if kind == "group":
            group, score = argument
            return await (
                db.query("docs")
                .with_index("by_group_score", lambda q: q.eq("group", group).gte("score", score))
                .take(10)
            )
        return await (
            db.query("docs").with_index("by_name", lambda q: q.gte("name", argument)).take(10)
        )

    result: list[dict[str, Any]] = sim.peek(run)
    return result


def brute_force(documents: list[dict[str, Any]], query: tuple[str, Any]) -> list[dict[str, Any]]:
    kind, argument = query
    if kind == "group":
        group, score = argument
        matches = [d for d in documents if d["group"] == group and d["score"] >= score]
        matches.sort(key=lambda d: (d["score"], d["_creationTime"], d["_id"]))
    else:
        matches = [d for d in documents if d["name"] >= argument]
        matches.sort(key=lambda d: (d["name"], d["_creationTime"], d["_id"]))
    return matches[:10]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--baseline-queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()

    rng = random.Random(options.seed)
    sim = Simulator(define_app(schema=SCHEMA, modules=[]), seed=options.seed)
    started = time.perf_counter()
    load(sim, options.documents, rng)
    load_seconds = time.perf_counter() - started

    # The baseline's copy of the data, read straight from the store: a single
    # transaction may not read 100 000 documents (TooManyDocumentsRead).
    store = sim.runtime.database.store
    number = store.table_number("", "docs", create=False)
    assert number is not None
    documents = [
        document
        for _, document in store.scan(
            number, "by_creation_time", b"", KEY_MAX, reverse=False, ts=store.latest_ts
        )
    ]
    queries = [random_query(rng) for _ in range(options.queries)]

    # Same answers first: a fast wrong store would be no result at all.
    for query in queries[: options.baseline_queries]:
        expected = [d["_id"] for d in brute_force(documents, query)]
        assert [d["_id"] for d in store_query(sim, query)] == expected, query

    started = time.perf_counter()
    for query in queries:
        store_query(sim, query)
    store_rate = len(queries) / (time.perf_counter() - started)

    started = time.perf_counter()
    for query in queries[: options.baseline_queries]:
        brute_force(documents, query)
    baseline_rate = options.baseline_queries / (time.perf_counter() - started)

    ratio = store_rate / baseline_rate
    print(
        f"loaded {options.documents} documents in {load_seconds:.1f} s "
        f"({options.documents / load_seconds:,.0f} inserts/s)"
    )
    print(f"store:       {store_rate:10,.0f} queries/s  ({options.queries} queries, take(10))")
    print(f"brute force: {baseline_rate:10,.1f} queries/s  ({options.baseline_queries} queries)")
    print(f"ratio:       {ratio:10,.1f}x  (target >= {TARGET_RATIO:.0f}x)")
    if ratio < TARGET_RATIO:
        print("FAILED: the store is not fast enough against the baseline")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
