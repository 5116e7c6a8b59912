"""Values nested deeper than Convex allows (64 levels for a value, 16 for a document,
convex-semantics.md §1.5) are refused with an error naming the path, at every way
into the emulator, however deep they go: nothing recursive sees them first."""

from __future__ import annotations

from typing import Any

import pytest

from convex_sim import InvalidValueError, Simulator, ValidationError, api
from tests.apps.traps import make_app, nested
from tests.snapshots import database_snapshot

DEPTHS = [100, 988, 5_000]
"""Past the limit; past the depth where Python's recursion limit used to give way."""


@pytest.fixture
def sim() -> Simulator:
    sim = Simulator(make_app())
    sim.mutation(api.traps.store_value, {"value": "before"})
    return sim


def _refused(sim: Simulator, call: Any, error: type[Exception], path: str) -> str:
    before = database_snapshot(sim)
    with pytest.raises(error) as caught:
        call()
    message = str(caught.value)
    assert "nested too deeply" in message
    assert path in message
    assert database_snapshot(sim) == before
    return message


@pytest.mark.parametrize("depth", DEPTHS)
def test_client_arguments_too_deep(sim: Simulator, depth: int) -> None:
    deep = nested(depth)
    message = _refused(
        sim, lambda: sim.mutation(api.traps.store_args, {"x": deep}), InvalidValueError, ".x[0]"
    )
    assert "64 levels" in message
    _refused(
        sim,
        lambda: sim.mutation(api.traps.store_value, {"value": deep}),
        ValidationError,
        "Path: .value[0][0]",
    )


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize(
    ("via", "path"),
    [
        ("nested call", "at path .value[0][0]"),
        ("scheduler", "at path (scheduled args).value[0][0]"),
        ("insert", "at path .value[0][0]"),
        ("patch", "at path .value[0][0]"),
        ("replace", "at path .value[0][0]"),
        ("return", "at path [0][0]"),
    ],
)
def test_values_a_function_passes_on_too_deep(
    sim: Simulator, depth: int, via: str, path: str
) -> None:
    _refused(
        sim,
        lambda: sim.mutation(api.traps.deep_write, {"depth": depth, "via": via}),
        InvalidValueError,
        path,
    )


def test_the_limits_are_convex_limits(sim: Simulator) -> None:
    """A value may nest 64 levels (the arguments object is one), a document 16."""
    sim.query(api.traps.ignore_args, {"x": nested(63)})
    with pytest.raises(InvalidValueError, match="a value may nest arrays and objects 64"):
        sim.query(api.traps.ignore_args, {"x": nested(64)})
    # The document {"value": [...]} is the first level.
    sim.mutation(api.traps.deep_write, {"depth": 15, "via": "insert"})
    with pytest.raises(InvalidValueError, match="a document may nest arrays and objects 16"):
        sim.mutation(api.traps.deep_write, {"depth": 16, "via": "insert"})
    sim.mutation(api.traps.deep_write, {"depth": 63, "via": "nested call"})
    with pytest.raises(InvalidValueError, match="64 levels"):
        sim.mutation(api.traps.deep_write, {"depth": 64, "via": "nested call"})
