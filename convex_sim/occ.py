"""Retrying mutations that lose an OCC race (convex-semantics.md §4.6, §6.4).

A client (or action-issued) mutation gets 4 retries, 5 attempts in all; a
scheduled mutation retries without limit. Before each retry the execution
sleeps a "full jitter" backoff — uniform between 0 and an exponentially
growing cap, rounded up to a whole millisecond — in *virtual* time, drawn
from the simulator's seeded generator, so a replay retries at exactly the
same moments.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from convex_sim.checkpoint import Checkpoint
from convex_sim.errors import ConvexSimError

if TYPE_CHECKING:
    from convex_sim.database import ConflictError


@dataclass(slots=True)
class Sleep(Checkpoint):
    """Await this to wait ``ms`` of virtual time; the executor decides what runs meanwhile."""

    ms: float = 0.0


@dataclass(frozen=True)
class RetryPolicy:
    client_retries: int = 4
    client_base_ms: float = 100.0
    client_cap_ms: float = 2_000.0
    scheduled_base_ms: float = 100.0
    scheduled_cap_ms: float = 60_000.0

    def backoff_ms(self, attempt: int, rng: random.Random, *, unlimited: bool) -> float:
        """The sleep before retry number ``attempt`` (1 = the first retry), in whole ms.

        Rounded up so virtual time stays on the millisecond grid the backend's
        ``Date.now()`` lives on: a retry after a fractional sleep would start,
        and schedule, at a fraction of a millisecond.
        """
        base, cap = (
            (self.scheduled_base_ms, self.scheduled_cap_ms)
            if unlimited
            else (self.client_base_ms, self.client_cap_ms)
        )
        ceiling = min(base * 2 ** min(attempt - 1, 30), cap)
        return float(math.ceil(rng.uniform(0.0, ceiling)))

    async def sleep(self, ms: float) -> None:
        await Sleep("sleep", f"{ms:.3f} ms", ms)


class OccFailureError(ConvexSimError):
    """A mutation conflicted on every attempt (code ``OptimisticConcurrencyControlFailure``)."""

    code = "OptimisticConcurrencyControlFailure"

    def __init__(self, function: str, conflict: ConflictError, table: str = "") -> None:
        self.function = function
        self.conflict = conflict
        table = table or f"#{conflict.change.table_number}"
        super().__init__(
            f'Documents read from or written to the "{table}" table changed while this '
            "mutation was being run and on every subsequent retry. Another call to this "
            f'mutation changed the document with ID "{conflict.change.doc_id}". '
            "See https://docs.convex.dev/error#1"
        )
