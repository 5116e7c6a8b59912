"""Clients call the app's public functions by path or reference; a function handle is
for server code (convex-semantics.md §5.5, §5.6), so a client that passes one is
refused, and nothing runs. Server code and ``sim.run_function`` still use handles."""

from __future__ import annotations

from typing import Any

import pytest

from convex_sim import Simulator, api, components
from convex_sim.functions import FunctionNotFoundError
from tests.apps import counter, notes
from tests.apps.definitions import make_app
from tests.snapshots import database_snapshot


def _note_count(sim: Simulator) -> int:
    count: int = sim.query(api.counter.count_notes, {})
    return count


@pytest.fixture
def sim() -> Simulator:
    sim = Simulator(make_app())  # type: ignore[no-untyped-call]
    sim.mutation(api.counter.add_note, {"text": "first"})
    return sim


def _client_calls(sim: Simulator) -> list[Any]:
    return [sim.query, sim.mutation, sim.action, lambda ref, args: sim.submit(ref, args, at_ms=0)]


@pytest.mark.parametrize(
    "function",
    [notes.add, counter.add_note, counter.increment],
    ids=["component function", "app function", "app function with a validator"],
)
def test_a_client_passing_a_handle_is_refused_and_nothing_runs(
    sim: Simulator, function: Any
) -> None:
    component = "notes" if function is notes.add else None
    handle = sim.function_handle(function, component=component)
    before = database_snapshot(sim)
    for call in _client_calls(sim):
        with pytest.raises(FunctionNotFoundError, match="handles are for server code") as caught:
            call(handle, {"text": "from a client"})
        assert "sim.run_function" in str(caught.value)
    with pytest.raises(FunctionNotFoundError, match="handles are for server code"):
        sim.concurrently([(handle, {"text": "from a client"})])
    assert database_snapshot(sim) == before
    assert _note_count(sim) == 1


def test_server_code_and_run_function_still_call_through_handles(sim: Simulator) -> None:
    handle = sim.function_handle(notes.add, component="notes")

    async def through_the_handle(ctx: Any) -> Any:
        return await ctx.run_mutation(handle, {"text": "server"})

    sim.run(through_the_handle)
    sim.run_function(handle, {"text": "operator"})
    assert _note_count(sim) == 3


def test_a_client_still_reaches_the_app_by_path_and_reference(sim: Simulator) -> None:
    for reference in ("counter:add_note", api.counter.add_note, counter.add_note):
        sim.mutation(reference, {"text": "again"})
    assert _note_count(sim) == 4
    with pytest.raises(FunctionNotFoundError):
        sim.mutation(components.notes.notes.add, {"text": "direct"})
