"""The points where one execution may give way to another (convex-semantics.md §2.7).

Every ``ctx`` operation awaits a :class:`Checkpoint` before it touches the
database. Awaiting it suspends the handler's coroutine all the way up to
whoever drives it, with the checkpoint as the yielded value: the executor
uses that moment to choose which execution moves next, and the trace uses the
checkpoint to say what was about to happen. Handlers never see any of this;
they just ``await ctx.db.get(...)``.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from convex_sim.errors import ConvexSimError

T = TypeVar("T")


@dataclass(slots=True)
class Checkpoint:
    """An awaited operation: ``operation`` like ``"db.get"``, ``detail`` like a table name.

    Not frozen: one is made for every ``ctx`` call, and a frozen dataclass's
    ``__init__`` costs several times a plain one. Nothing changes it once made.
    """

    operation: str
    detail: str = ""

    def __await__(self) -> Generator[Checkpoint, None, None]:
        yield self


class ForeignAwaitError(ConvexSimError, RuntimeError):
    """A handler awaited something that is not a ``ctx`` operation (e.g. asyncio.sleep)."""


def drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion with no other execution interleaved."""
    while True:
        try:
            yielded = coroutine.send(None)
        except StopIteration as stop:
            result: T = stop.value
            return result
        if not isinstance(yielded, Checkpoint):
            coroutine.close()
            raise foreign_await_error(yielded)


def foreign_await_error(yielded: Any) -> ForeignAwaitError:
    """The error for a handler that awaited ``yielded``, which no ``ctx`` call gives."""
    return ForeignAwaitError(
        f"a handler awaited {yielded!r}, which is not a ctx operation; handlers run "
        "in virtual time and may only await ctx.db, ctx.scheduler and ctx.run_* calls"
    )
