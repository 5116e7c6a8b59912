"""convex-semantics.md §5.1–§5.6 (nested calls, validation, visibility, handles).

Component isolation (§7) is tested elsewhere; the ``relay`` component here
only serves as "another namespace" for function handles (§5.6).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest

import convex_sim
from convex_sim import (
    ConvexError,
    ConvexSimError,
    LimitExceededError,
    Simulator,
    ValidationError,
    api,
    components,
    create_function_handle,
    internal,
)
from tests.apps import counter, s5_calls
from tests.apps.definitions import make_app as make_counter_app
from tests.apps.s2_to_s5_app import insert, new_sim, read_all
from tests.apps.s4_probe import run_probe


@pytest.fixture
def sim() -> Simulator:
    return new_sim()


def _names(sim: Simulator) -> list[str]:
    return sorted(row["name"] for row in read_all(sim, "items"))


def _job_names(sim: Simulator, component: str | None = None) -> list[str]:
    return [str(row["name"]) for row in sim.scheduled_functions(component)]


# -- §5.1 allowed nesting --------------------------------------------------------------------------


def test_5_1_query_cannot_call_mutation(sim: Simulator) -> None:
    with pytest.raises(ConvexSimError) as caught:
        sim.query(api.s5_calls.query_calls_mutation, {})
    assert "Cannot call a mutation function from a query function" in str(caught.value)
    assert _names(sim) == []


@pytest.mark.parametrize(
    ("reference", "caller"),
    [(api.s5_calls.query_calls_action, "query"), (api.s5_calls.mutation_calls_action, "mutation")],
)
def test_5_1_queries_and_mutations_cannot_call_actions(
    sim: Simulator, reference: Any, caller: str
) -> None:
    run = sim.query if caller == "query" else sim.mutation
    # In Convex a mutation ctx has no runAction at all; either way the action must not run.
    with pytest.raises((AttributeError, ConvexSimError)) as caught:
        run(reference, {})
    if isinstance(caught.value, ConvexSimError):
        assert re.search(
            rf"Cannot call an? action function from a {caller} function", str(caught.value)
        )
    assert _names(sim) == []


def test_5_1_a_mutation_may_run_queries_snapshot_queries_and_mutations(sim: Simulator) -> None:
    async def run(ctx: Any) -> Any:
        added = await ctx.run_mutation(internal.s5_calls.add_item, {"name": "nested"})
        return {
            "query": await ctx.run_query(api.s5_calls.names_of, {"name": "nested"}),
            "snapshot": await ctx.run_query(api.s5_calls.all_names, {}, use_stale_snapshot=True),
            "added": (await ctx.db.get(added))["name"],
        }

    assert sim.run(run) == {"query": ["nested"], "snapshot": [], "added": "nested"}


def test_5_1_a_query_may_run_queries(sim: Simulator) -> None:
    assert sim.query(api.s5_calls.descend_query, {"levels": 3}) == 3


def test_5_1_each_call_of_an_action_is_its_own_transaction(sim: Simulator) -> None:
    with pytest.raises(ConvexError) as caught:
        sim.action(api.s5_calls.action_steps, {})
    # The action failed at its end; what its calls committed stays, the failed call's does not.
    assert _names(sim) == ["from-action", "step-1"]
    assert caught.value.data["seen"] == ["step-1"]  # its query saw the earlier commit
    assert _job_names(sim) == []


def _descend(sim: Simulator, kind: str, levels: int) -> Any:
    if kind == "query":
        return sim.query(api.s5_calls.descend_query, {"levels": levels})
    return sim.mutation(api.s5_calls.descend_mutation, {"levels": levels})


@pytest.mark.parametrize("kind", ["query", "mutation"])
def test_5_1_depth_limit_8(sim: Simulator, kind: str) -> None:
    assert _descend(sim, kind, 8) == 8  # eight levels below the top function
    committed = _names(sim)
    with pytest.raises(LimitExceededError) as caught:
        _descend(sim, kind, 9)
    assert caught.value.code == "MaximumCallDepthExceeded"
    assert _names(sim) == committed  # the failed call wrote nothing


# -- §5.2 nested mutations are sub-transactions ----------------------------------------------------


def test_5_2_failed_nested_mutation_rolls_back_only_its_writes_and_schedules(
    sim: Simulator,
) -> None:
    async def run(ctx: Any) -> Any:
        await ctx.db.insert("items", {"name": "before", "n": 0})
        await ctx.scheduler.run_after(1_000, internal.s5_calls.add_item, {"name": "job"})
        try:
            await ctx.run_mutation(internal.s5_calls.write_schedule_then_fail, {"name": "nested"})
        except ConvexError as error:
            caught = error.data
        else:
            caught = None
        await ctx.db.insert("items", {"name": "after", "n": 0})
        return {
            "caught": caught,
            "visible": sorted(row["name"] for row in await ctx.db.query("items").collect()),
            "jobs": len(await ctx.db.system.query("_scheduled_functions").collect()),
        }

    result = sim.run(run)
    assert result == {
        "caught": {"why": "nested failure", "name": "nested"},
        "visible": ["after", "before"],
        "jobs": 1,
    }
    assert _names(sim) == ["after", "before"]
    assert _job_names(sim) == ["s5_calls.js:add_item"]


def test_5_2_an_uncaught_nested_failure_rolls_back_everything(sim: Simulator) -> None:
    async def run(ctx: Any) -> None:
        await ctx.db.insert("items", {"name": "caller", "n": 0})
        await ctx.run_mutation(internal.s5_calls.add_item, {"name": "nested-ok"})
        await ctx.run_mutation(internal.s5_calls.write_schedule_then_fail, {"name": "nested"})

    with pytest.raises(ConvexError):
        sim.run(run)
    assert _names(sim) == []
    assert _job_names(sim) == []


def test_5_2_a_successful_nested_mutation_commits_only_with_its_caller(sim: Simulator) -> None:
    async def run(ctx: Any) -> None:
        await ctx.run_mutation(internal.s5_calls.add_item, {"name": "nested-ok"})
        raise ConvexError("the caller fails afterwards")

    with pytest.raises(ConvexError):
        sim.run(run)
    assert _names(sim) == []


def test_5_2_rollback_undoes_only_the_failed_level(sim: Simulator) -> None:
    async def run(ctx: Any) -> Any:
        middle = await ctx.run_mutation(internal.s5_calls.add_and_call_failing, {"name": "middle"})
        await ctx.db.insert("items", {"name": "top", "n": 0})
        return middle

    assert sim.run(run) == "caught"
    assert _names(sim) == ["middle", "top"]
    assert _job_names(sim) == []


# -- §5.3 reads are not nested ---------------------------------------------------------------------


def _patch_n(sim: Simulator, doc_id: str, n: float) -> None:
    async def write(ctx: Any) -> None:
        await ctx.db.patch(doc_id, {"n": n})

    sim.run(write)  # another client commits while the probe's transaction is open


def test_5_3_reads_of_a_failed_nested_mutation_stay_in_the_read_set(sim: Simulator) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "watched", "n": 0}])

    async def body(ctx: Any, attempt: int) -> str:
        with contextlib.suppress(ConvexError):
            await ctx.run_mutation(internal.s5_calls.read_then_fail, {"id": doc_id})
        if attempt == 1:
            _patch_n(sim, doc_id, float(attempt))
        return "committed"

    outcome = run_probe(sim, body)
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_id")]
    assert outcome.attempts == 2
    assert outcome.result == "committed"


def test_5_3_reads_of_nested_queries_stay_in_the_read_set(sim: Simulator) -> None:
    (doc_id,) = insert(sim, "items", [{"name": "watched", "n": 0}])

    async def body(ctx: Any, attempt: int) -> Any:
        row = await ctx.run_query(api.s5_calls.get_item, {"id": doc_id})
        if attempt == 1:
            _patch_n(sim, doc_id, 7.0)
        return row["n"]

    outcome = run_probe(sim, body)
    assert [(c.table, c.index) for c in outcome.conflicts] == [("items", "by_id")]
    assert outcome.result == 7.0


# -- §5.4 time and randomness of nested calls ------------------------------------------------------


def test_5_4_nested_calls_inherit_now(sim: Simulator) -> None:
    async def run(ctx: Any) -> Any:
        started = {"now": convex_sim.now(), "ctxNow": ctx.now_ms}
        sim.advance(60_000)  # the clock moves on while this execution runs
        query = await ctx.run_query(api.s5_calls.clock_and_dice, {})
        mutation = await ctx.run_mutation(api.s5_calls.clock_and_dice_mutation, {})
        return {"started": started, "query": query, "mutation": mutation, "after": ctx.now_ms}

    began = sim.now
    result = sim.run(run)
    assert sim.now == began + 60_000
    assert result["started"] == {"now": began, "ctxNow": began}
    for nested in (result["query"], result["mutation"]):
        assert nested["now"] == began
        assert nested["ctxNow"] == began
    assert result["after"] == began


async def _dice(ctx: Any, *, draw_first: bool = False) -> list[float]:
    if draw_first:
        ctx.random.random()
    first = await ctx.run_query(api.s5_calls.clock_and_dice, {})
    second = await ctx.run_query(api.s5_calls.clock_and_dice, {})
    third = await ctx.run_mutation(api.s5_calls.clock_and_dice_mutation, {})
    return [first["random"], second["random"], third["random"]]


def test_5_4_each_nested_call_gets_a_fresh_seed_from_the_callers_generator() -> None:
    async def plain(ctx: Any) -> list[float]:
        return await _dice(ctx)

    async def drawing(ctx: Any) -> list[float]:
        return await _dice(ctx, draw_first=True)

    values = new_sim(seed=7).run(plain)
    assert len(set(values)) == 3  # every nested call has its own seed
    assert new_sim(seed=7).run(plain) == values  # drawn deterministically
    # Drawn from the caller's generator: using it first changes what the nested calls get.
    assert new_sim(seed=7).run(drawing)[0] != values[0]


# -- §5.5 validation and visibility ----------------------------------------------------------------


def test_5_5_args_and_returns_validated_with_function_named_in_error(sim: Simulator) -> None:
    async def run(ctx: Any) -> Any:
        errors: dict[str, str] = {}
        try:
            await ctx.run_mutation(internal.s5_calls.add_item, {"name": 5})
        except ValidationError as error:
            errors["args"] = str(error)
        try:
            await ctx.run_mutation(internal.s5_calls.bad_return, {"name": "returned-badly"})
        except ValidationError as error:
            errors["returns"] = str(error)
        await ctx.db.insert("items", {"name": "caller", "n": 0})
        return errors

    errors = sim.run(run)
    assert "ArgumentValidationError" in errors["args"]
    assert "s5_calls:add_item" in errors["args"]
    assert "ReturnsValidationError" in errors["returns"]
    assert "s5_calls:bad_return" in errors["returns"]
    # The callee with bad args never ran; the one with a bad result is rolled back; the
    # caller caught both and committed.
    assert _names(sim) == ["caller"]


def test_5_5_args_are_validated_before_the_callee_runs(sim: Simulator) -> None:
    with pytest.raises(ValidationError, match="descend_mutation"):
        sim.mutation(api.s5_calls.descend_mutation, {"levels": "three"})
    with pytest.raises(ValidationError, match="descend_mutation"):
        sim.mutation(api.s5_calls.descend_mutation, {"levels": 1, "extra": True})
    assert _names(sim) == []


def _counter_sim() -> Simulator:
    """The shared example app of tests/apps (counter, messages, the notes component)."""
    return Simulator(make_counter_app())  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    "reference", ["counter:secret", internal.counter.secret, api.counter.secret, counter.secret]
)
def test_5_5_internal_function_not_callable_by_client(reference: Any) -> None:
    sim = _counter_sim()
    with pytest.raises(ConvexSimError) as caught:
        sim.query(reference, {})
    assert str(caught.value) == "Could not find public function for 'counter:secret'."

    async def server_side(ctx: Any) -> Any:
        return await ctx.run_query(internal.counter.secret, {})

    assert sim.run(server_side) == "internal"


def test_5_5_internal_mutation_is_not_client_callable_and_does_not_run() -> None:
    sim = _counter_sim()
    with pytest.raises(ConvexSimError, match="Could not find public function"):
        sim.mutation(internal.counter.deliver, {"body": "hi"})
    assert sim.query(api.counter.list_messages, {}) == []


# -- §5.6 function handles -------------------------------------------------------------------------


def test_5_6_create_function_handle_names_the_function_without_js(sim: Simulator) -> None:
    async def run(ctx: Any) -> str:
        return create_function_handle(internal.s5_calls.add_item)

    handle = sim.run(run)
    assert handle.startswith("function://")
    assert handle.endswith("#s5_calls:add_item")
    assert handle == sim.function_handle(s5_calls.add_item)


def _handle(sim: Simulator, reference: Any) -> str:
    async def run(ctx: Any) -> str:
        return create_function_handle(reference)

    handle: str = sim.run(run)
    return handle


def test_5_6_handle_calls_internal_function_across_namespaces(sim: Simulator) -> None:
    add = _handle(sim, internal.s5_calls.add_item)
    names = _handle(sim, api.s5_calls.names_of)

    async def through_relay(ctx: Any) -> Any:
        added = await ctx.run_mutation(
            components.relay.s5_relay.mutate_handle, {"handle": add, "args": {"name": "via"}}
        )
        seen = await ctx.run_query(
            components.relay.s5_relay.query_handle, {"handle": names, "args": {"name": "via"}}
        )
        return {"added": added, "seen": seen}

    result = sim.run(through_relay)
    assert result["seen"] == ["via"]
    assert result["added"] in [row["_id"] for row in read_all(sim, "items")]

    async def schedule_through_relay(ctx: Any) -> Any:
        return await ctx.run_mutation(
            components.relay.s5_relay.schedule_handle,
            {"handle": add, "args": {"name": "scheduled"}},
        )

    sim.run(schedule_through_relay)
    assert _names(sim) == ["via"]
    assert sim.finish_all_scheduled_functions() == 1
    assert _names(sim) == ["scheduled", "via"]


def test_5_6_calls_through_a_handle_are_still_validated(sim: Simulator) -> None:
    add = _handle(sim, internal.s5_calls.add_item)

    async def bad(ctx: Any) -> Any:
        return await ctx.run_mutation(
            components.relay.s5_relay.mutate_handle, {"handle": add, "args": {"name": 1}}
        )

    with pytest.raises(ValidationError, match="s5_calls:add_item"):
        sim.run(bad)
    assert _names(sim) == []


def test_5_6_a_handle_resolves_by_its_id_part_only(sim: Simulator) -> None:
    add = _handle(sim, internal.s5_calls.add_item)
    id_part, _, _ = add.partition("#")
    relabeled = f"{id_part}#s5_calls:some_other_label"

    async def run(ctx: Any) -> Any:
        return await ctx.run_mutation(relabeled, {"name": "by id"})

    sim.run(run)
    assert _names(sim) == ["by id"]
