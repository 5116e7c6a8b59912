"""Index range queries agree with a brute-force model, and read exactly what §4.2 says.

The model never touches the key encoding: it filters with ``values.compare``
and sorts by comparing (a, b, _creationTime, _id) element by element.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from convex_sim import MISSING, define_schema, define_table
from convex_sim.db import DatabaseReader
from convex_sim.index_keys import encode_key
from convex_sim.values import compare
from tests.support import Harness

SCHEMA = define_schema({"docs": define_table().index("by_ab", ["a", "b"])})
FIELDS = ("a", "b")
POOL = [MISSING, None, -1, 0, 1, 2, 0.5, 1.0, False, "", "x", b"\x00", [1], {"k": 1}]

pool_values = st.sampled_from(POOL)


@dataclass
class Case:
    documents: list[dict[str, Any]]
    eqs: list[Any]
    lower: tuple[str, Any] | None
    upper: tuple[str, Any] | None
    descending: bool
    limit: int | None
    only_b: Any


@st.composite
def cases(draw: st.DrawFn) -> Case:
    documents = []
    for _ in range(draw(st.integers(0, 25))):
        document = {}
        for name in FIELDS:
            value = draw(pool_values)
            if value is not MISSING:
                document[name] = value
        documents.append(document)
    eq_count = draw(st.integers(0, 2))
    eqs = [draw(pool_values) for _ in range(eq_count)]
    lower = upper = None
    if eq_count < 2:
        lower = draw(st.none() | st.tuples(st.sampled_from(["gt", "gte"]), pool_values))
        upper = draw(st.none() | st.tuples(st.sampled_from(["lt", "lte"]), pool_values))
    return Case(
        documents=documents,
        eqs=eqs,
        lower=lower,
        upper=upper,
        descending=draw(st.booleans()),
        limit=draw(st.none() | st.integers(0, 8)),
        only_b=draw(st.none() | pool_values),
    )


def _tuple(document: dict[str, Any]) -> list[Any]:
    return [
        document.get("a", MISSING),
        document.get("b", MISSING),
        document["_creationTime"],
        document["_id"],
    ]


def _compare_tuples(left: list[Any], right: list[Any]) -> int:
    for a, b in zip(left, right, strict=True):
        result = compare(a, b)
        if result:
            return result
    return 0


def _in_range(case: Case, values: list[Any]) -> bool:
    for position, expected in enumerate(case.eqs):
        if compare(values[position], expected) != 0:
            return False
    position = len(case.eqs)
    tests = {
        "gt": lambda c: c > 0,
        "gte": lambda c: c >= 0,
        "lt": lambda c: c < 0,
        "lte": lambda c: c <= 0,
    }
    for bound in (case.lower, case.upper):
        if bound is not None and not tests[bound[0]](compare(values[position], bound[1])):
            return False
    return True


def _passes(case: Case, document: dict[str, Any]) -> bool:
    return case.only_b is None or compare(document.get("b", MISSING), case.only_b) == 0


def _run(case: Case) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any, Harness]:
    harness = Harness(SCHEMA)
    harness.insert_many("docs", case.documents)

    def build(q: Any) -> Any:
        for name, value in zip(FIELDS, case.eqs, strict=False):
            q = q.eq(name, value)
        field = FIELDS[len(case.eqs)] if len(case.eqs) < 2 else None
        for bound in (case.lower, case.upper):
            if bound is not None:
                q = getattr(q, bound[0])(field, bound[1])
        return q

    async def query(db: DatabaseReader) -> list[dict[str, Any]]:
        q = db.query("docs").with_index("by_ab", build).order("desc" if case.descending else "asc")
        if case.only_b is not None:
            q = q.filter(lambda f: f.eq(f.field("b"), case.only_b))
        return await (q.collect() if case.limit is None else q.take(case.limit))

    async def everything(db: DatabaseReader) -> list[dict[str, Any]]:
        return await db.query("docs").collect()

    stored, _ = harness.read(everything)
    result, transaction = harness.read(query)
    return stored, result, transaction, harness


def _model(
    case: Case, stored: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the expected result, the rows the scan must have handed out)."""
    ordered = sorted(
        (d for d in stored if _in_range(case, _tuple(d))),
        key=functools.cmp_to_key(lambda x, y: _compare_tuples(_tuple(x), _tuple(y))),
        reverse=case.descending,
    )
    result: list[dict[str, Any]] = []
    scanned: list[dict[str, Any]] = []
    if case.limit == 0:
        return result, scanned
    for document in ordered:
        scanned.append(document)
        if _passes(case, document):
            result.append(document)
            if case.limit is not None and len(result) == case.limit:
                return result, scanned
    return result, ordered


@given(cases())
@settings(max_examples=500)
def test_index_range_queries_agree_with_a_brute_force_model(case: Case) -> None:
    stored, result, _, _ = _run(case)
    expected, _ = _model(case, stored)
    assert [d["_id"] for d in result] == [d["_id"] for d in expected]


@given(cases(), st.lists(st.tuples(pool_values, pool_values), max_size=10))
@settings(max_examples=500)
def test_the_read_set_covers_exactly_the_scanned_part_of_the_range(
    case: Case, probes: list[tuple[Any, Any]]
) -> None:
    stored, _result, transaction, harness = _run(case)
    expected, scanned = _model(case, stored)
    number = harness.database.store.table_number("", "docs", create=False)
    assert number is not None
    exhausted = case.limit is None or (case.limit > 0 and len(expected) < case.limit)
    sort_key = functools.cmp_to_key(_compare_tuples)
    last = _tuple(scanned[-1]) if scanned else None

    def should_cover(values: list[Any]) -> bool:
        if case.limit == 0 or not _in_range(case, values):
            return False
        if exhausted:
            return True
        assert last is not None
        if case.descending:
            return bool(sort_key(values) >= sort_key(last))
        return bool(sort_key(values) <= sort_key(last))

    candidates = [_tuple(d) for d in stored]
    # Probe keys between and around the stored ones: same field values, other
    # creation times and ids, so the interval's edges are tested, not just its rows.
    for a, b in probes:
        for creation_time in (-1.0, 1e18):
            candidates.append([a, b, creation_time, "probe"])
    for values in candidates:
        covered = transaction.read_set.covers(number, "by_ab", encode_key(values))
        assert covered == should_cover(values), (values, case)
