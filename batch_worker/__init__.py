"""The ``@convex-dev/batch-worker`` component, written against ``convex_sim``.

Runs one background loop per named worker over work you insert into your own
table: call :func:`ping` after inserting work; your work query returns the
next batch (or idle), your worker mutation processes it. Mount it with
``app.use(batch_worker.component)`` (name ``batchWorker``, env ``LOG_LEVEL``).

The contract is batch-worker-spec.md, section by section: ``shared`` (§1, §3),
``schema`` (§2), ``state`` (§4), ``scheduling`` (§5), ``lib`` (§6), ``loop``
(§7), ``monitor`` (§8), ``logging`` (§9), ``client`` (the app-side ping).
"""

from batch_worker import lib, loop, monitor
from batch_worker.client import ping
from batch_worker.logging import LogRecords
from batch_worker.schema import schema
from batch_worker.shared import (
    DEFAULT_COOLDOWN_MS,
    DEFAULT_POLL_INTERVAL_MS,
    MONITOR_LAG_MS,
    MONITOR_REFRESH_WITHIN_MS,
    RUNNING_THRESHOLD_MS,
    batch_query_args,
    batch_result,
    config_validator,
    worker_result,
)
from convex_sim import define_component

component = define_component(
    "batchWorker", schema=schema, modules=[lib, loop, monitor], env=["LOG_LEVEL"]
)

__all__ = [
    "DEFAULT_COOLDOWN_MS",
    "DEFAULT_POLL_INTERVAL_MS",
    "MONITOR_LAG_MS",
    "MONITOR_REFRESH_WITHIN_MS",
    "RUNNING_THRESHOLD_MS",
    "LogRecords",
    "batch_query_args",
    "batch_result",
    "component",
    "config_validator",
    "ping",
    "worker_result",
]
