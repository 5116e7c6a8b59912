"""The function runtime's shortcuts agree with the general paths they skip.

A child seed hashed only when first needed gives the bytes an eager draw
would; a frame's session made on first use is the one the frame would have
had; results, handles and choices come out the same on every call.
"""

from __future__ import annotations

from hashlib import blake2b
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim import define_app, internal, internal_mutation, mutation, query, v
from convex_sim.errors import ValidationError
from convex_sim.seeds import ExecutionSeed


def _eager_draw(seed: int, position: int) -> bytes:
    material = seed.to_bytes(8, "big") + position.to_bytes(8, "big")
    return blake2b(material, digest_size=16).digest()


def _eager_child_seed(seed: int, position: int) -> int:
    return int.from_bytes(_eager_draw(seed, position)[:8], "big")


@given(
    st.integers(min_value=0, max_value=2**64 - 1),
    st.lists(st.sampled_from(["id", "child", "random"]), max_size=12),
)
@settings(max_examples=200)
def test_lazy_child_seeds_match_eager_draws(seed: int, steps: list[str]) -> None:
    """Whatever the order of draws, children and ids are what eager hashing gives."""
    stream = ExecutionSeed(seed)
    position = 0
    children: list[tuple[ExecutionSeed, int]] = []
    for step in steps:
        if step == "id":
            position += 1
            assert stream.id_bytes() == _eager_draw(seed, position)
        elif step == "child":
            position += 1
            children.append((stream.child(), _eager_child_seed(seed, position)))
        else:
            position += 1
            stream.random.random()
    # Ask the children only now, after the parent drew on: their seeds are unchanged.
    for child, expected in reversed(children):
        grandchild = child.child()
        assert child.id_bytes() == _eager_draw(expected, 2)
        assert child.seed == expected
        assert grandchild.seed == _eager_child_seed(expected, 1)


def test_a_grandchild_derives_through_a_lazy_parent() -> None:
    root = ExecutionSeed(99)
    child = root.child()
    grandchild = child.child()  # the child's own seed is not hashed yet
    child_seed = _eager_child_seed(99, 1)
    assert grandchild.seed == _eager_child_seed(child_seed, 1)
    assert child.seed == child_seed


# -- an app to compare frames, sessions and return checks ---------------------------------

seen: dict[str, Any] = {}


@internal_mutation(args={"a": v.string()})
async def make_doc(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.db.insert("docs", {"a": args["a"]})


@mutation(args={})
async def nested_inserts(ctx: Any, args: dict[str, Any]) -> Any:
    first = await ctx.run_mutation(internal.test_call_fast_paths.make_doc, {"a": "x"})
    second = await ctx.run_mutation(internal.test_call_fast_paths.make_doc, {"a": "y"})
    return [first, second, ctx.random.random()]


@mutation(args={}, returns=v.null())
async def returns_none(ctx: Any, args: dict[str, Any]) -> None:
    return None


@mutation(args={"give": v.boolean()}, returns=v.number())
async def returns_number_or_none(ctx: Any, args: dict[str, Any]) -> Any:
    return None if args["give"] else 1.0


@query(args={})
async def session_once(ctx: Any, args: dict[str, Any]) -> bool:
    from convex_sim.runtime import current_frame

    frame = current_frame()
    assert frame is not None
    session = frame.session
    return session is frame.session and ctx.db._session is session


def _sim(seed: int = 3) -> Any:
    import sys

    from convex_sim import Simulator

    app = define_app(modules=[sys.modules[__name__]])
    return Simulator(app, seed=seed)


def test_nested_ids_and_random_replay_from_the_seed() -> None:
    first = _sim().mutation(nested_inserts, {})
    again = _sim().mutation(nested_inserts, {})
    other = _sim(seed=4).mutation(nested_inserts, {})
    assert first == again
    assert first[:2] != other[:2]


def test_a_frame_makes_its_session_once_and_ctx_db_uses_it() -> None:
    assert _sim().query(session_once, {}) is True


def test_none_results_are_checked_the_same_on_every_call() -> None:
    sim = _sim()
    for _ in range(3):
        assert sim.mutation(returns_none, {}) is None
    assert sim.mutation(returns_number_or_none, {"give": False}) == 1.0
    for _ in range(2):  # a validator refusing None refuses it every time
        with pytest.raises(ValidationError, match="ReturnsValidationError"):
            sim.mutation(returns_number_or_none, {"give": True})


# -- references, handles and the executor -------------------------------------------


def test_proxy_children_are_kept_and_never_hide_methods() -> None:
    from convex_sim.references import FunctionReference, _Proxy, as_reference

    root = _Proxy("api", expected="public")
    child = root.mod.fn
    assert root.mod.fn is child  # found again in the instance dict
    assert as_reference(child) == FunctionReference("mod:fn", expected="public")
    assert callable(root.mod.reference)  # a method, not a child named "reference"
    with pytest.raises(AttributeError):
        _ = root.mod.__wrapped__


def test_handles_are_the_same_for_every_spelling_and_failures_raise_every_time() -> None:
    from convex_sim.functions import FunctionNotFoundError
    from convex_sim.references import handle_for

    sim = _sim()
    runtime = sim.runtime
    app = runtime.namespaces[""]
    first = runtime.handle(internal.test_call_fast_paths.make_doc, app)
    assert first == handle_for("", "test_call_fast_paths:make_doc")
    assert runtime.handle("test_call_fast_paths:make_doc", app) == first
    for _ in range(2):
        with pytest.raises(FunctionNotFoundError):
            runtime.handle("test_call_fast_paths:missing", app)


def test_a_chooser_subclass_sees_every_turn_and_makes_the_same_run() -> None:
    """A chooser that watches each choice (lone tasks included) changes nothing."""
    from convex_sim.executor import Chooser
    from convex_sim.trace import ExecutionStarted

    class Asking(Chooser):
        def __init__(self) -> None:
            super().__init__(lambda n: (n * 7 + 3) % n, "asking")
            self.asked: list[int] = []

        def choose(self, n: int) -> int:
            self.asked.append(n)
            return super().choose(n)

    def run(schedule: Any) -> tuple[str, list[int]]:
        sim = _sim()
        calls = [(nested_inserts, {}), (returns_none, {}), (nested_inserts, {})]
        sim.concurrently(calls, schedule=schedule)
        sim.mutation(nested_inserts, {})
        assert sim.trace.of(ExecutionStarted)
        return sim.trace.to_jsonl(), sim.last_chooser.choices

    asking = Asking()
    plain = Chooser(lambda n: (n * 7 + 3) % n, "plain")
    assert run(asking) == run(plain)
    assert 1 in asking.asked  # the subclass saw the lone-task turns too
