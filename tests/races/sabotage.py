"""Five ways a careless port could break the batch worker, applied by patching handlers.

Each sabotage wraps one of the component's handlers (never copies it), so
the broken component is the real one with exactly one defence taken away:

- ``confirm_read_as_snapshot``: the loop's confirming work query (§7.7) is a
  snapshot read too, so it adds nothing to the read set;
- ``generation_check_removed``: the loop runs whatever generation it was
  given (§7.2), as if it were the state's;
- ``ping_writes_worker_state``: ping also writes ``workerState`` (§2 keeps it
  to ``workers``), here a "work arrived" ``lastWorkTs``;
- ``monitor_treats_in_progress_as_alive``: the monitor reads a job row that
  is ``inProgress`` as ``pending`` (alive), its own row included (§8);
- ``stop_keeps_the_generation``: stop cancels the runner but leaves the
  generation where it was (§6.3).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import batch_worker
from batch_worker.state import get_or_create_state, get_worker
from convex_sim.functions import FunctionDefinition

Handler = Callable[[Any, dict[str, Any]], Awaitable[Any]]


class _CtxProxy:
    """A ctx that forwards everything it does not override to the real one."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


class _SnapshotOnlyCtx(_CtxProxy):
    async def run_query(
        self, reference: Any, args: Any = None, *, use_stale_snapshot: bool = False
    ) -> Any:
        return await self._ctx.run_query(reference, args, use_stale_snapshot=True)


class _InProgressLooksPending(_CtxProxy):
    async def get(self, document_id: Any) -> Any:
        row = await self._ctx.get(document_id)
        if row is not None and row.get("state", {}).get("kind") == "inProgress":
            return {**row, "state": {"kind": "pending"}}
        return row


class _DbWithLenientSystem(_CtxProxy):
    @property
    def system(self) -> _InProgressLooksPending:
        return _InProgressLooksPending(self._ctx.system)


class _LenientMonitorCtx(_CtxProxy):
    @property
    def db(self) -> _DbWithLenientSystem:
        return _DbWithLenientSystem(self._ctx.db)


def _confirm_read_as_snapshot(original: Handler) -> Handler:
    async def loop(ctx: Any, args: dict[str, Any]) -> Any:
        return await original(_SnapshotOnlyCtx(ctx), args)

    return loop


def _generation_check_removed(original: Handler) -> Handler:
    async def loop(ctx: Any, args: dict[str, Any]) -> Any:
        worker = await get_worker(ctx, args["name"])
        if worker is not None:
            state = await get_or_create_state(ctx, worker)
            args = {**args, "generation": state["generation"]}
        return await original(ctx, args)

    return loop


def _ping_writes_worker_state(original: Handler) -> Handler:
    async def ping(ctx: Any, args: dict[str, Any]) -> Any:
        result = await original(ctx, args)
        worker = await get_worker(ctx, args["name"])
        if worker is not None:
            state = await get_or_create_state(ctx, worker)
            await ctx.db.patch(state["_id"], {"lastWorkTs": ctx.now_ms})
        return result

    return ping


def _monitor_treats_in_progress_as_alive(original: Handler) -> Handler:
    async def monitor(ctx: Any, args: dict[str, Any]) -> Any:
        return await original(_LenientMonitorCtx(ctx), args)

    return monitor


def _stop_keeps_the_generation(original: Handler) -> Handler:
    async def stop(ctx: Any, args: dict[str, Any]) -> Any:
        worker = await get_worker(ctx, args["name"])
        before = None if worker is None else (await get_or_create_state(ctx, worker))
        result = await original(ctx, args)
        if before is not None:
            after = await ctx.db.get(before["_id"])
            if after is not None and after["generation"] != before["generation"]:
                await ctx.db.patch(before["_id"], {"generation": before["generation"]})
        return result

    return stop


SABOTAGES: dict[str, tuple[FunctionDefinition, Callable[[Handler], Handler]]] = {
    "confirm_read_as_snapshot": (batch_worker.loop.loop, _confirm_read_as_snapshot),
    "generation_check_removed": (batch_worker.loop.loop, _generation_check_removed),
    "ping_writes_worker_state": (batch_worker.lib.ping, _ping_writes_worker_state),
    "monitor_treats_in_progress_as_alive": (
        batch_worker.monitor.monitor,
        _monitor_treats_in_progress_as_alive,
    ),
    "stop_keeps_the_generation": (batch_worker.lib.stop, _stop_keeps_the_generation),
}


@contextlib.contextmanager
def sabotaged(name: str) -> Iterator[None]:
    """The component with one sabotage applied, for the duration of the block."""
    definition, wrap = SABOTAGES[name]
    original = definition.handler
    definition.handler = wrap(original)
    try:
        yield
    finally:
        definition.handler = original
