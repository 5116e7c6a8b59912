"""The story's parts: steps (one execution attempt each), the lines they fold into, explainers.

An :class:`Explainer` knows one component's or app's design and says, for an
execution, which branch it took and why, in that design's own terms (the
batch worker's says "no work, cooling down → poll in 200 ms"). Explainers are
found through the ``convex_sim.explainers`` entry point group, so a saved
trace of any app is told in the terms of every component installed; what no
explainer claims is told generically (what it wrote, called and scheduled).

The explainer hook is what design.md's ``trace show FILE`` needs to tell any app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from convex_sim.execution_records import ExecutionRecord
    from convex_sim.story.world import World


@dataclass(frozen=True)
class Explanation:
    """What an explainer says about one execution attempt."""

    says: str
    """The branch it took and why; equal texts fold together when steps repeat."""
    varying: str = ""
    """What differs between otherwise identical steps (time left, a value): folded
    lines show its first and last."""
    lane: str | None = None
    """The swimlane (``loop``, ``monitor``); default: ``client`` or the function's name."""
    title: str | None = None
    """Replaces the function's short name at the start of the line."""
    details: tuple[str, ...] = ()
    """Further lines: a status change, a monitor pushed back."""
    covers_own_writes: bool = True
    """False: the execution's own writes are described too (an app mutation that
    inserted a row and then called the component)."""


class Explainer(Protocol):
    """Says why an execution did what it did, or None when it is not one it knows."""

    def explain(self, record: ExecutionRecord, world: World) -> Explanation | None: ...


@dataclass(frozen=True)
class Step:
    """One top-level execution attempt, told."""

    record: ExecutionRecord
    time_ms: float
    lane: str
    title: str
    says: str
    varying: str
    details: tuple[str, ...]
    conflict: bool = False
    job_label: str = ""
    """``#3`` when it ran as scheduled function number 3 of the run."""

    @property
    def first_seq(self) -> int:
        return self.record.started.seq

    @property
    def fold_key(self) -> tuple[str, str, str, tuple[str, ...]]:
        return (self.lane, self.title, self.says, self.details)


@dataclass(frozen=True)
class Line:
    """Consecutive identical steps, folded into one printed line (most lines hold one)."""

    steps: tuple[Step, ...]

    @property
    def first(self) -> Step:
        return self.steps[0]

    @property
    def last(self) -> Step:
        return self.steps[-1]

    @property
    def count(self) -> int:
        return len(self.steps)
