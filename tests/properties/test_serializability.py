"""Concurrent transactions are serializable (convex-semantics.md §4.1–§4.5).

Random scripts of reads (by id, by index range with take/collect in either
order) and writes (insert, patch, delete — each computed from what was read)
run concurrently under a random interleaving. Replaying the committed ones
one at a time, in commit order, must reproduce every value each of them read
and the final database. A test with the conflict check switched off shows the
property has teeth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from convex_sim import Simulator
from convex_sim.database import Database
from convex_sim.trace import Committed, ExecutionStarted
from tests.apps import occ_app

SEEDED = 4

ops = st.one_of(
    st.fixed_dictionaries({"op": st.just("get"), "i": st.integers(0, SEEDED - 1)}),
    st.fixed_dictionaries(
        {
            "op": st.just("range"),
            "lo": st.integers(0, 2),
            "hi": st.integers(1, 3),
            "take": st.integers(-1, 3),
            "order": st.sampled_from(["asc", "desc"]),
        }
    ),
    st.fixed_dictionaries({"op": st.just("insert"), "k": st.integers(0, 2)}),
    st.fixed_dictionaries(
        {"op": st.sampled_from(["patch", "delete"]), "i": st.integers(0, SEEDED - 1)}
    ),
)


@dataclass
class Case:
    scripts: list[list[dict[str, Any]]]
    choices: list[int]


cases = st.builds(
    Case,
    scripts=st.lists(st.lists(ops, min_size=1, max_size=4), min_size=2, max_size=4),
    choices=st.lists(st.integers(0, 7), min_size=8, max_size=40),
)


def _fresh() -> tuple[Simulator, list[str]]:
    sim = Simulator(occ_app.make_app(), seed=0)
    ids = sim.mutation(occ_app.seed, {"count": SEEDED})
    return sim, ids


def violation(case: Case) -> str | None:
    """Why the concurrent run is not serializable, or None when it is."""
    sim, ids = _fresh()
    calls = [
        (occ_app.run_script, {"txn": n, "ids": ids, "ops": script})
        for n, script in enumerate(case.scripts)
    ]
    results = sim.concurrently(calls, schedule=case.choices)
    txn_of = {
        event.execution: event.args["txn"]
        for event in sim.trace.of(ExecutionStarted)
        if event.function == "occ_app:run_script"
    }
    commits = [event for event in sim.trace.of(Committed) if event.execution in txn_of]
    # A read-only transaction commits at its snapshot: after writers with the same ts.
    order = sorted(commits, key=lambda event: (event.ts, event.writes == 0, event.seq))
    final = sim.mutation(occ_app.snapshot)

    serial, serial_ids = _fresh()
    assert serial_ids == ids
    for event in order:
        n = txn_of[event.execution]
        replayed = serial.mutation(
            occ_app.run_script, {"txn": n, "ids": ids, "ops": case.scripts[n]}
        )
        if replayed != results[n]:
            return f"transaction {n} read {results[n]!r} concurrently, {replayed!r} serially"
    committed = {txn_of[event.execution] for event in commits}
    for n, result in enumerate(results):
        if n not in committed and not isinstance(result, Exception):
            return f"transaction {n} returned without committing"
    serial_final = serial.mutation(occ_app.snapshot)
    if serial_final != final:
        return f"final state {final!r} concurrently, {serial_final!r} serially"
    return None


@given(cases)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_concurrent_mutations_are_serializable(case: Case) -> None:
    assert violation(case) is None


def test_without_the_conflict_check_the_property_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Database, "check", lambda self, transaction: None)
    counterexample = find(
        cases,
        lambda case: violation(case) is not None,
        settings=settings(max_examples=300, database=None),
    )
    assert violation(counterexample) is not None
