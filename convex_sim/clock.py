"""Virtual time: the only clock the emulator reads (convex-semantics.md §8.1).

Nothing in the emulator looks at the wall clock. The simulator owns one
:class:`VirtualClock`; executions take their frozen ``Date.now()`` from it
when they start, and the scheduler moves it forward to the next due job.
Like trio's ``MockClock`` it refuses to go backwards.
"""

from __future__ import annotations

import math
from typing import Final

from convex_sim.errors import ConvexSimError

DEFAULT_START_MS: Final = 1_704_067_200_000.0
"""2024-01-01T00:00:00Z: a realistic epoch, so code that treats 0 as "long ago" behaves."""


class ClockError(ConvexSimError, ValueError):
    """The clock was asked to move backwards or to a time that is not a number."""


class VirtualClock:
    """Milliseconds since the Unix epoch, moved only by the simulator."""

    def __init__(self, start_ms: float = DEFAULT_START_MS) -> None:
        self._now_ms = self._check(start_ms, "start_ms")

    @staticmethod
    def _check(value: float, what: str) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ClockError(f"{what} must be a finite number of milliseconds, got {value!r}")
        return float(value)

    @property
    def now_ms(self) -> float:
        return self._now_ms

    def advance(self, ms: float) -> float:
        """Move forward by ``ms`` (≥ 0) and return the new time."""
        ms = self._check(ms, "ms")
        if ms < 0:
            raise ClockError(f"the virtual clock cannot go backwards (advance by {ms} ms)")
        self._now_ms += ms
        return self._now_ms

    def advance_to(self, when_ms: float) -> float:
        """Move forward to ``when_ms``; a time in the past is an error."""
        when_ms = self._check(when_ms, "when_ms")
        if when_ms < self._now_ms:
            raise ClockError(
                f"the virtual clock cannot go backwards (from {self._now_ms} to {when_ms})"
            )
        self._now_ms = when_ms
        return self._now_ms

    def __repr__(self) -> str:
        return f"VirtualClock(now_ms={self._now_ms!r})"
