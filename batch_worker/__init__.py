"""The ``@convex-dev/batch-worker`` component, written against ``convex_sim``.

Runs one background loop per named worker over work you insert into your own
table: call :func:`ping` after inserting work; your work query returns the
next batch (or idle), your worker mutation processes it. Mount it with
``app.use(batch_worker.component)`` (name ``batchWorker``, env ``LOG_LEVEL``).

The contract is batch-worker-spec.md, section by section: ``shared`` (§1, §3),
``schema`` (§2), ``state`` (§4), ``scheduling`` (§5), ``lib`` (§6), ``loop``
(§7), ``monitor`` (§8), ``logging`` (§9), ``client`` (the app-side ping).
Later releases: ``batch_worker.release("0.3.6")``; ``releases`` names each rule
they change, ``v0_3`` holds their added functions and shapes.
"""

from batch_worker import lib, loop, monitor
from batch_worker.client import ping
from batch_worker.logging import LogRecords, RecordingLogger
from batch_worker.releases import RELEASES, Release, UnknownReleaseError, known_release
from batch_worker.schema import schema, schema_with_cursor
from batch_worker.shared import (
    DEFAULT_COOLDOWN_MS,
    DEFAULT_POLL_INTERVAL_MS,
    MONITOR_LAG_MS,
    MONITOR_REFRESH_WITHIN_MS,
    RUNNING_THRESHOLD_MS,
    STUCK_RUNNER_GRACE_MS,
    BatchWorkerValidators,
    batch_query_args,
    batch_result,
    config_validator,
    default_cursor,
    define_batch_worker_validators,
    worker_result,
)
from batch_worker.state import UnknownWorkerError
from batch_worker.v0_3 import lib as lib_0_3
from convex_sim import define_component
from convex_sim.components import ComponentDefinition

component = define_component(
    "batchWorker",
    schema=schema,
    modules=[lib, loop, monitor],
    env=["LOG_LEVEL"],
    constants={"release": "0.2.0"},
)
"""Release 0.2.0, as batch-worker-spec.md describes it."""

_LATER = {
    "0.3.6": define_component(
        "batchWorker",
        schema=schema_with_cursor,
        modules=[lib_0_3, loop, monitor],
        env=["LOG_LEVEL"],
        constants={"release": "0.3.6"},
    )
}


def release(version: str) -> ComponentDefinition:
    """The component as release ``version`` behaves: ``"0.2.0"`` is :data:`component`.

    ``"0.3.6"`` adds the fixes of batch-worker-evolution.md (see ``releases``
    for each rule), the cursor column and ``lib.kick`` / ``get_cursor`` /
    ``set_cursor``. Any other version is an :class:`UnknownReleaseError`
    naming the known ones.
    """
    known_release(version)
    return component if version == "0.2.0" else _LATER[version]


__all__ = [
    "DEFAULT_COOLDOWN_MS",
    "DEFAULT_POLL_INTERVAL_MS",
    "MONITOR_LAG_MS",
    "MONITOR_REFRESH_WITHIN_MS",
    "RELEASES",
    "RUNNING_THRESHOLD_MS",
    "STUCK_RUNNER_GRACE_MS",
    "BatchWorkerValidators",
    "LogRecords",
    "RecordingLogger",
    "Release",
    "UnknownReleaseError",
    "UnknownWorkerError",
    "batch_query_args",
    "batch_result",
    "component",
    "config_validator",
    "default_cursor",
    "define_batch_worker_validators",
    "ping",
    "release",
    "worker_result",
]
