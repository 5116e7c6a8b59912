"""The app the test_s2 … test_s5 runtime tests run against.

``items`` has every index those tests range over; ``empty_box`` is declared
and never written (a declared table exists even when empty, §2.5); the
``relay`` component calls function handles it is given (§5.6).
"""

from __future__ import annotations

from typing import Any

from convex_sim import (
    Id,
    Simulator,
    define_app,
    define_component,
    define_schema,
    define_table,
    v,
)
from convex_sim.components import AppDefinition
from tests.apps import s2_reads, s4_probe, s5_calls, s5_relay

SCHEMA = define_schema(
    {
        "items": define_table(
            {
                "name": v.string(),
                "n": v.number(),
                "tag": v.optional(v.union(v.string(), v.null())),
                "meta": v.optional(v.any()),
            }
        )
        .index("by_name", ["name"])
        .index("by_n", ["n"])
        .index("by_name_n", ["name", "n"])
        .index("by_tag", ["tag"]),
        "counters": define_table({"name": v.string(), "value": v.number()}).index(
            "by_name", ["name"]
        ),
        "empty_box": define_table({"x": v.number()}).index("by_x", ["x"]),
    }
)

relay = define_component("relay", modules=[s5_relay])


def make_app() -> AppDefinition:
    app = define_app(schema=SCHEMA, modules=[s2_reads, s4_probe, s5_calls])
    app.use(relay, name="relay")
    return app


def new_sim(seed: int = 0) -> Simulator:
    return Simulator(make_app(), seed=seed)


def insert(sim: Simulator, table: str, rows: list[dict[str, Any]]) -> list[Id]:
    """Insert ``rows`` in one committed mutation; their ids, in order."""

    async def run(ctx: Any) -> list[Id]:
        return [await ctx.db.insert(table, row) for row in rows]

    ids: list[Id] = sim.run(run)
    return ids


def read_all(sim: Simulator, table: str) -> list[dict[str, Any]]:
    """Every committed document of an app table, in creation order."""

    async def run(ctx: Any) -> list[dict[str, Any]]:
        return list(await ctx.db.query(table).collect())

    rows: list[dict[str, Any]] = sim.run(run)
    return rows
