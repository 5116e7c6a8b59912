"""A process that schedules a job on a SQLite store and runs it until a handler kills it.

    python -m tests.durable.reopen_child PATH FUNCTION

``FUNCTION`` is ``schedule_bump`` (a scheduled mutation) or ``schedule_action``
(a scheduled action); run with ``CONVEX_SIM_DIE_IN`` naming the handler that
kills the process while it runs.
"""

from __future__ import annotations

import sys

from convex_sim import Simulator
from tests.apps import durable_app


def main(path: str, function: str) -> int:
    sim = Simulator(durable_app.make_app(), store=path)
    sim.mutation(getattr(durable_app, function), {"delayMs": 1000})
    sim.advance(1000)
    sim.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
