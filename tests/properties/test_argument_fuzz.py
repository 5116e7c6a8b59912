"""Arguments a Python caller might pass, Convex values or not, to mutations that write.

Every call either succeeds or raises one of the emulator's own errors (a
``ConvexSimError``, ``ConvexError`` included), never a ``RecursionError``,
``TypeError`` or ``KeyError`` from its insides, and a call that fails leaves
every table exactly as it was. The values: Convex values and near misses
(NaN, ±inf, −0.0, ints past int64, lone surrogates), Python values that are not
Convex values (tuples, sets, arbitrary objects, subclasses, ``MISSING``), dicts
with non-string keys or keys starting with ``$`` or ``_``, and nesting up to
5 000 levels deep.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim import MISSING, ConvexSimError, Simulator, api
from convex_sim.values import COMMIT_TS
from tests.apps.traps import make_app
from tests.snapshots import database_snapshot


class _Opaque:
    """An object of the user's own."""


class _BadRepr:
    """An object whose repr raises: error messages must not depend on it."""

    def __repr__(self) -> str:
        raise ValueError("no repr for you")


class _Str(str):
    pass


class _Int(int):
    pass


class _Dict(dict[str, Any]):
    pass


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([2**63, -(2**63) - 1, 10**30, -(10**300), 2**10_000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, -0.0, math.inf, -math.inf]),
    st.text(max_size=8),
    st.sampled_from(["\ud800", "a\udfffb", "é", "\x00"]),
    st.binary(max_size=8),
)
_NOT_VALUES = st.one_of(
    st.builds(_Opaque),
    st.builds(_BadRepr),
    st.builds(object),
    st.sampled_from([MISSING, COMMIT_TS, _Str("sub"), _Int(3), 1 + 2j, Ellipsis, len]),
    st.frozensets(st.integers(0, 3), max_size=3),
)
_KEYS = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["$id", "$", "_id", "_creationTime", "_private", "", "x" * 1_100]),
    st.integers(-2, 2),
    st.none(),
    st.booleans(),
    st.tuples(st.integers(0, 2)),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.sets(st.integers(0, 5), max_size=3),
        st.dictionaries(_KEYS, children, max_size=4),
        st.dictionaries(st.text(max_size=4), children, max_size=4).map(_Dict),
    )


_VALUES = st.recursive(st.one_of(_SCALARS, _NOT_VALUES), _containers, max_leaves=10)

_WRAPPERS = ("list", "dict", "tuple", "odd-key dict")


def _nest(depth: int, wrappers: list[str], leaf: Any) -> Any:
    """``leaf`` inside ``depth`` containers, their kinds cycling through ``wrappers``.

    Built here, not drawn whole, so hypothesis reports a falsifying example as
    three small values rather than a repr thousands of levels deep.
    """
    value = leaf
    for level in range(depth):
        kind = wrappers[level % len(wrappers)]
        if kind == "list":
            value = [value]
        elif kind == "dict":
            value = {"k": value}
        elif kind == "tuple":
            value = (value,)
        else:
            value = {"$k" if level % 2 else 7: value}
    return value


_DEEP = st.builds(
    _nest,
    st.one_of(st.integers(0, 70), st.integers(0, 5_000)),
    st.lists(st.sampled_from(_WRAPPERS), min_size=1, max_size=3),
    _SCALARS,
)


@st.composite
def _arguments(draw: st.DrawFn) -> Any:
    """Mostly a dict of arguments (some of it deep), sometimes not a dict at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(_VALUES, st.tuples(_VALUES)))
    args = draw(st.dictionaries(_KEYS, _VALUES, max_size=4))
    if draw(st.booleans()):
        args[draw(st.sampled_from(["value", "items", "meta", "deep"]))] = draw(_DEEP)
    return args


_FUNCTIONS = st.sampled_from(
    [api.traps.store_args, api.traps.store_value, api.traps.store_typed, api.traps.forward]
)


@settings(max_examples=300)
@given(calls=st.lists(st.tuples(_FUNCTIONS, _arguments()), min_size=1, max_size=3))
def test_every_call_succeeds_or_fails_cleanly_and_a_failure_changes_nothing(
    calls: list[tuple[Any, Any]],
) -> None:
    sim = Simulator(make_app())
    for function, args in calls:
        before = database_snapshot(sim)
        try:
            sim.mutation(function, args)
        except ConvexSimError:
            assert database_snapshot(sim) == before
        except Exception as error:
            raise AssertionError(
                f"{type(error).__name__} escaped from {function!r}: {error}"
            ) from error


_REFUSED = [
    (api.traps.store_args, {"deep": _nest(5_000, ["tuple", "odd-key dict"], math.nan)}),
    (api.traps.store_value, {"value": _nest(5_000, ["dict", "list"], 1)}),
    (api.traps.forward, {"deep": _nest(988, ["list"], 1)}),
    (api.traps.store_args, {"$x": 1}),
    (api.traps.store_args, {1: "one"}),
    (api.traps.store_args, {"_id": "mine"}),
    (api.traps.store_value, {"value": _BadRepr()}),
    (api.traps.store_value, {"value": {1, 2}}),
    (api.traps.store_value, {"value": (1, 2)}),
    (api.traps.store_value, {"value": 2**64}),
    (api.traps.store_value, {"value": MISSING}),
    (api.traps.store_typed, {"items": [_Int(3)]}),
    (api.traps.forward, (1, 2)),
]


def test_the_nastiest_cases_are_refused_by_the_emulator() -> None:
    sim = Simulator(make_app())
    for function, args in _REFUSED:
        before = database_snapshot(sim)
        try:
            sim.mutation(function, args)
        except ConvexSimError:
            assert database_snapshot(sim) == before
        else:
            raise AssertionError(f"{function!r} accepted {args!r:.60}")


def test_odd_but_valid_values_are_stored() -> None:
    sim = Simulator(make_app())
    sim.mutation(api.traps.store_value, {"value": {"_inner": [math.nan, -0.0, 2**63 - 1]}})
    sim.mutation(api.traps.store_args, {"x": _nest(15, ["list"], math.inf)})
    _, tables = database_snapshot(sim)
    assert len(tables["/things"]) == 2
