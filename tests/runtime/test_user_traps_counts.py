"""Counts as a Convex function receives them: ``v.number()`` makes 3 into 3.0, and
``take``/``paginate`` take it as 3; a count that is not a whole number ≥ 0 is refused
with the method and the value named. The usual paginated query works end to end."""

from __future__ import annotations

import math
from typing import Any

import pytest

from convex_sim import (
    InvalidQueryError,
    Simulator,
    ValidationError,
    api,
    pagination_opts_validator,
)
from tests.apps.traps import make_app


@pytest.fixture
def sim() -> Simulator:
    sim = Simulator(make_app())
    for n in (5, 1, 4, 2, 3):
        sim.mutation(api.traps.add, {"n": n})
    return sim


def test_take_accepts_the_float_a_number_argument_arrives_as(sim: Simulator) -> None:
    assert sim.query(api.traps.first_n, {"n": 3}) == [5.0, 1.0, 4.0]
    assert sim.query(api.traps.first_n, {"n": 0.0}) == []


@pytest.mark.parametrize(
    ("count", "reason"),
    [
        (2.5, "not a whole number"),
        (math.nan, "NaN"),
        (math.inf, "not a whole number"),
        (-1.0, "negative"),
    ],
)
def test_take_refuses_a_count_that_is_not_a_whole_number(
    sim: Simulator, count: float, reason: str
) -> None:
    with pytest.raises(InvalidQueryError, match=r"take\(n\) must be a non-negative integer") as e:
        sim.query(api.traps.first_n, {"n": count})
    assert repr(count) in str(e.value)
    assert reason in str(e.value)


@pytest.mark.parametrize("count", [True, "3", None])
def test_take_refuses_what_is_not_a_number(count: Any) -> None:
    async def run(ctx: Any) -> Any:
        return await ctx.db.query("items").take(count)

    sim = Simulator(make_app())
    with pytest.raises(InvalidQueryError, match=rf"take\(n\).*got {count!r}"):
        sim.run(run)


def _pages(sim: Simulator, num_items: Any) -> list[list[float]]:
    pages: list[list[float]] = []
    cursor = None
    for _ in range(10):
        result = sim.query(
            api.traps.list_items, {"paginationOpts": {"numItems": num_items, "cursor": cursor}}
        )
        pages.append([row["n"] for row in result["page"]])
        cursor = result["continueCursor"]
        if result["isDone"]:
            return pages
    raise AssertionError(f"paginated past 10 pages: {pages}")


def test_the_usual_paginated_query_walks_the_table(sim: Simulator) -> None:
    assert _pages(sim, 2) == [[1.0, 2.0], [3.0, 4.0], [5.0]]
    # A full page is not known to be the last (no look-ahead), so one empty page follows.
    assert _pages(sim, 5.0) == [[1.0, 2.0, 3.0, 4.0, 5.0], []]


def test_pagination_options_are_validated_like_convex() -> None:
    good = {"numItems": 2, "cursor": None, "id": 7, "endCursor": None}
    assert pagination_opts_validator.validate(good) == {
        "numItems": 2.0,
        "cursor": None,
        "id": 7.0,
        "endCursor": None,
    }
    with pytest.raises(ValidationError, match="cursor"):
        pagination_opts_validator.validate({"numItems": 2})
    with pytest.raises(ValidationError, match="numItems"):
        pagination_opts_validator.validate({"numItems": "2", "cursor": None})


def test_paginate_refuses_a_fractional_page_size_naming_it(sim: Simulator) -> None:
    with pytest.raises(InvalidQueryError, match=r"paginate: numItems .* got 2\.5"):
        sim.query(api.traps.list_items, {"paginationOpts": {"numItems": 2.5, "cursor": None}})


def test_an_end_cursor_pins_a_page_to_the_rows_it_had(sim: Simulator) -> None:
    first = sim.query(api.traps.list_items, {"paginationOpts": {"numItems": 2, "cursor": None}})
    sim.mutation(api.traps.add, {"n": 1.5})
    again = sim.query(
        api.traps.list_items,
        {"paginationOpts": {"numItems": 2, "cursor": None, "endCursor": first["continueCursor"]}},
    )
    assert [row["n"] for row in again["page"]] == [1.0, 1.5, 2.0]
    assert again["continueCursor"] == first["continueCursor"]
    assert again["isDone"] is False
    rest = sim.query(
        api.traps.list_items,
        {"paginationOpts": {"numItems": 1, "cursor": first["continueCursor"]}},
    )
    last = sim.query(
        api.traps.list_items,
        {
            "paginationOpts": {
                "numItems": 1,
                "cursor": first["continueCursor"],
                "endCursor": _end_of(sim),
            }
        },
    )
    assert [row["n"] for row in rest["page"]] == [3.0]
    assert [row["n"] for row in last["page"]] == [3.0, 4.0, 5.0]
    assert last["isDone"] is True


def _end_of(sim: Simulator) -> str:
    """The continueCursor of the page that reaches the end of the table."""
    result = sim.query(api.traps.list_items, {"paginationOpts": {"numItems": 100, "cursor": None}})
    assert result["isDone"] is True
    cursor: str = result["continueCursor"]
    return cursor


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"numItems": 2, "cursor": 3}, r"cursor must be None or a cursor string"),
        ({"numItems": 2, "cursor": None, "maximumRowsRead": 1.5}, r"maximumRowsRead must be"),
        ({"numItems": 2, "cursor": None, "maximumRowsRead": 10}, r"maximumRowsRead is not"),
        ({"cursor": None}, r"paginate expects \{'numItems'"),
    ],
)
def test_paginate_names_what_is_wrong_with_its_options(
    sim: Simulator, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidQueryError, match=message):
        sim.query(api.traps.list_items_unchecked, {"paginationOpts": options})
