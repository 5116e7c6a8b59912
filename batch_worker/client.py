"""The app-side helper: ``ping`` from inside the app's own mutation (spec §6.1).

It turns the work query and worker mutation references into function handles
(so the component, which cannot see the app's functions, can call them) and
always passes a config — ``{}`` when none is given, which is why pinging
without a config clears a stored one.
"""

from __future__ import annotations

from typing import Any

from convex_sim import create_function_handle


async def ping(
    ctx: Any,
    component: Any,
    *,
    name: str,
    work_query: Any,
    worker_mutation: Any,
    config: dict[str, Any] | None = None,
) -> None:
    """Make sure the worker ``name`` is running: call after inserting work.

    ``component`` is the mounted component, e.g. ``components.batchWorker``.
    """
    await ctx.run_mutation(
        component.lib.ping,
        {
            "name": name,
            "workQuery": create_function_handle(work_query),
            "workerMutation": create_function_handle(worker_mutation),
            "config": dict(config or {}),
        },
    )
