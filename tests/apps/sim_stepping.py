"""Interleaving by hand: run one execution a checkpoint at a time around other calls.

Every ``ctx`` operation awaits a checkpoint, and the runtime's coroutines
yield it to whoever drives them. ``Stepper`` drives one such coroutine a
checkpoint at a time, so a test can run ``sim.query``/``sim.mutation`` (or
move the clock) *while* that execution is suspended in the middle, with no
threads and no wall clock. (``sim.concurrently`` interleaves too, but only
among the calls it was given; this puts arbitrary test code between steps.)
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from convex_sim import Simulator
from convex_sim.checkpoint import Checkpoint


class Stepper:
    """Drives one coroutine of the runtime; ``step()`` runs it up to its next checkpoint."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        self._coroutine = coroutine
        self.done = False
        self.result: Any = None
        self.checkpoints: list[Checkpoint] = []

    @property
    def at(self) -> str:
        """The operation of the checkpoint it is suspended at (``"db.get"``, ``"commit"``...)."""
        return self.checkpoints[-1].operation if self.checkpoints else ""

    def step(self) -> bool:
        """Run to the next checkpoint; False once the coroutine has returned."""
        if self.done:
            return False
        try:
            yielded = self._coroutine.send(None)
        except StopIteration as stop:
            self.done = True
            self.result = stop.value
            return False
        assert isinstance(yielded, Checkpoint), f"unexpected await of {yielded!r}"
        self.checkpoints.append(yielded)
        return True

    def finish(self) -> Any:
        while self.step():
            pass
        return self.result


def start_mutation(sim: Simulator, reference: Any, args: dict[str, Any] | None = None) -> Stepper:
    """A client mutation, not yet started: call ``step()`` to run it."""
    runtime = sim.runtime
    target = runtime.resolve(reference, runtime.namespaces[""], client=True)
    return Stepper(runtime.run_mutation(target, args))


def start_only_job(sim: Simulator) -> Stepper:
    """The one queued scheduled function, not yet started; the clock moves to its due time."""
    upcoming = sim.runtime.next_due()
    assert upcoming is not None, "no scheduled function is queued"
    if upcoming.due_ms > sim.now:
        sim.clock.advance_to(upcoming.due_ms)
    jobs = sim.due_jobs()
    assert len(jobs) == 1, f"expected exactly one due job, got {jobs}"
    return Stepper(sim.runtime.run_job(jobs[0]))
