"""Which release of the component is running: each later fix is one named rule here.

``batch_worker.component`` is release 0.2.0, the behaviour batch-worker-spec.md
describes. ``batch_worker.release("0.3.6")`` mounts the same code with the
rules that 0.2.1–0.3.6 changed (batch-worker-evolution.md, sections A–G)
switched on. The loop, wake, the monitor and ``lib`` ask :func:`release_of`
which rules hold, so every difference between the releases is one visible
branch that names its rule, and the code still reads like the spec.

The release travels as the component's ``constants["release"]``: two
definitions over the same modules, as two bundles of one component would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class Release:
    """The rules one release follows; the field names are the evolution's sections."""

    version: str
    fresh_cooldown_window: bool
    """A: entering ``running`` (a wake, the loop, the monitor's restart of an idle
    worker) opens a new cooldown window, so a woken loop that finds nothing
    polls instead of going straight back to idle."""
    monitor_never_in_past: bool
    """B: the monitor is armed ``lag`` after ``max(loop run, now)``, never at a time
    already past (a stuck runner's ``scheduledTime`` would make it fire forever)."""
    stuck_runner_restart: bool
    """B: the monitor cancels a runner ``pending`` for ``STUCK_RUNNER_GRACE_MS``
    past its time and restarts the loop, whatever the status (except stopped)."""
    wake_keeps_sooner_run: bool
    """C: wake always marks the worker running, and keeps a pending run due
    before ``now + max(debounceMs, RUNNING_THRESHOLD_MS)`` instead of postponing it."""
    component_cursor: bool
    """D: the component stores the worker's cursor, passes it to the work query
    and commits it with the batch; ``lib.get_cursor`` / ``lib.set_cursor``."""
    kick: bool
    """E: ``lib.kick`` restarts a wedged (or stopped) worker by hand."""
    logger_on_every_call: bool
    """F: every public function builds its logger, so an invalid ``LOG_LEVEL``
    fails even ``status`` and ``get_cursor``."""
    snapshot_read_as_option: bool
    """G: the loop asks for its snapshot read with the ``{"useStaleSnapshot": True}``
    options object rather than the keyword (the same read; the trace is identical)."""


RELEASE_0_2_0: Final = Release(
    "0.2.0",
    fresh_cooldown_window=False,
    monitor_never_in_past=False,
    stuck_runner_restart=False,
    wake_keeps_sooner_run=False,
    component_cursor=False,
    kick=False,
    logger_on_every_call=False,
    snapshot_read_as_option=False,
)
RELEASE_0_3_6: Final = Release(
    "0.3.6",
    fresh_cooldown_window=True,
    monitor_never_in_past=True,
    stuck_runner_restart=True,
    wake_keeps_sooner_run=True,
    component_cursor=True,
    kick=True,
    logger_on_every_call=True,
    snapshot_read_as_option=True,
)
RELEASES: Final = {r.version: r for r in (RELEASE_0_2_0, RELEASE_0_3_6)}
"""Only releases whose behaviour was compared source to source; the patch
releases in between are not modelled."""


class UnknownReleaseError(LookupError):
    """``release(...)`` was asked for a version this package does not model."""


def known_release(version: str) -> Release:
    if version not in RELEASES:
        raise UnknownReleaseError(
            f"batch_worker has no release {version!r}; the known releases are "
            f"{', '.join(RELEASES)}"
        )
    return RELEASES[version]


def release_of(ctx: Any) -> Release:
    """The release this execution's component was mounted as (0.2.0 if unsaid)."""
    return RELEASES[str(ctx.constants.get("release", RELEASE_0_2_0.version))]
