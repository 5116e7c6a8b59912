"""The app definition (the original's ``convex.config.ts``; spec §10's example): the schema, the
functions in ``example.example``, and the batch worker mounted as ``batchWorker``."""

from __future__ import annotations

import batch_worker
from convex_sim import define_app
from convex_sim.components import AppDefinition
from example import example
from example.schema import schema


def make_app(log_level: str | None = None, release: str = "0.2.0") -> AppDefinition:
    """A fresh app definition; ``log_level`` sets the component's ``LOG_LEVEL``,
    ``release`` which of the batch worker's releases is mounted."""
    app = define_app(schema=schema, modules=[example])
    env = {} if log_level is None else {"LOG_LEVEL": log_level}
    app.use(batch_worker.release(release), name="batchWorker", env=env)
    return app
