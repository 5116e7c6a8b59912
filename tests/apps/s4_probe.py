"""An OCC probe: a mutation (and a query) whose body the test supplies.

Why: the simulator runs one call at a time, but a handler may itself call
``sim.run(...)`` / ``sim.mutation(...)``. That inner call runs to completion
and commits at once, exactly like another client whose commit lands while the
probe's transaction is still open (after its snapshot, before its commit). So
a test can read something, let "another client" change it, and then watch
what the probe's commit does: a conflict shows up as a retry
(``sim.conflicts``), a :class:`~convex_sim.trace.Conflict` event naming the
table and index, and a second run of the body.

The body is ``async def body(ctx, attempt)``; ``attempt`` counts from 1, so a
body interferes on attempt 1 only (or on every attempt, to exhaust retries).
By default the probe also inserts a marker row, so its transaction is not
read-only (read-only transactions never conflict, §4.5).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from convex_sim import Simulator, mutation, query, v
from convex_sim.trace import Conflict

Body = Callable[[Any, int], Awaitable[Any]]

MARKER_TABLE = "probe_marks"

_active: list[Callable[[Any], Awaitable[Any]]] = []


@mutation(args={"write": v.boolean()})
async def probe(ctx: Any, args: dict[str, Any]) -> Any:
    result = await _active[-1](ctx)
    if args["write"]:
        await ctx.db.insert(MARKER_TABLE, {})
    return result


@query(args={})
async def probe_query(ctx: Any, args: dict[str, Any]) -> Any:
    return await _active[-1](ctx)


@dataclass
class ProbeOutcome:
    result: Any
    attempts: int
    conflicts: list[Conflict]


def run_probe(
    sim: Simulator,
    body: Body,
    *,
    write: bool = True,
    kind: Literal["mutation", "query"] = "mutation",
) -> ProbeOutcome:
    """Run ``body`` as a client mutation (or query); report attempts and new conflicts."""
    attempts = 0

    async def counted(ctx: Any) -> Any:
        nonlocal attempts
        attempts += 1
        return await body(ctx, attempts)

    seen = len(sim.trace.of(Conflict))
    _active.append(counted)
    try:
        if kind == "mutation":
            result = sim.mutation(probe, {"write": write})
        else:
            result = sim.query(probe_query, {})
    finally:
        _active.pop()
    return ProbeOutcome(result, attempts, sim.trace.of(Conflict)[seen:])
