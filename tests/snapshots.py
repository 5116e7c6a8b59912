"""Everything a deployment has committed, as one comparable value.

Tests of bad input use it to show that a failed call left the database exactly
as it was: every table of every namespace, system tables included, and the
latest commit timestamp (a commit that wrote nothing visible still moves it).
"""

from __future__ import annotations

from typing import Any

from convex_sim import Simulator
from convex_sim.convex_json import to_json
from convex_sim.index_keys import KEY_MAX, KEY_MIN
from convex_sim.schema import BY_CREATION_TIME


def database_snapshot(sim: Simulator) -> tuple[int, dict[str, list[Any]]]:
    """``(latest commit ts, {"namespace/table": rows as Convex JSON})``."""
    store = sim.runtime.database.store
    ts = store.latest_ts
    tables: dict[str, list[Any]] = {}
    number = 1
    while (info := store.table_info(number)) is not None:
        if store.table_exists(number, ts):
            rows = store.scan(number, BY_CREATION_TIME, KEY_MIN, KEY_MAX, reverse=False, ts=ts)
            # Convex JSON keeps what == would blur: 1 vs 1.0, -0.0, NaN.
            tables[f"{info.namespace}/{info.name}"] = [to_json(row) for _, row in rows]
        number += 1
    return ts, tables
