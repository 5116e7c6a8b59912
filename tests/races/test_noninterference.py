"""§2/§11: while the loop drains, inserts-and-pings never conflict with it.

A backlog keeps the loop busy; at each of the next loop runs, a few
insert-and-ping transactions start at the same instant and race it under a
seeded interleaving. Conflicts between a ping and a loop run are counted in
two kinds: while the worker kept running (must be 0) and at a status
transition (going idle, waking: allowed; at going idle they are the confirm
read doing its job, see ``test_enumeration``). The counts go to the terminal
summary; ``test_sabotage`` shows the measurement catching a ping that writes
``workerState``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from convex_sim import Simulator
from convex_sim.testing import executions
from example import example, make_app
from tests.races.views import ADD_EVENT, LOOP, ping_loop_conflicts

BACKLOG = 60
RACING_MOMENTS = 40
SEEDS = range(12)


@dataclass
class Measured:
    racing_inserts: int
    loop_runs: int
    steady: int
    transitions: int
    other_conflicts: int


def measure(seed: int) -> Measured:
    sim = Simulator(make_app(), seed=seed)
    for value in range(BACKLOG):
        sim.mutation(example.add_event, {"value": value})
    rng = random.Random(seed)
    racing = 0
    for _ in range(RACING_MOMENTS):
        due_ms = sim.next_due_ms()
        if due_ms is None:  # gone idle: the next insert wakes it (a transition)
            sim.mutation(example.add_event, {"value": 1})
            continue
        due_ms = max(due_ms, sim.now)  # a retry's backoff may have run past it
        for _ in range(rng.randint(1, 3)):
            sim.submit(example.add_event, {"value": 1}, at_ms=due_ms)
            racing += 1
        sim.advance(due_ms - sim.now, schedule=rng.randrange(2**32))
    sim.advance(10 * 60_000)
    records = executions(sim.trace)
    by_execution = {record.execution: record for record in records}
    found = ping_loop_conflicts(records, by_execution)
    conflicted = [record for record in records if record.conflict is not None]
    return Measured(
        racing_inserts=racing,
        loop_runs=sum(1 for record in records if record.function == LOOP and record.committed),
        steady=sum(1 for c in found if not c.at_transition),
        transitions=sum(1 for c in found if c.at_transition),
        other_conflicts=len(conflicted) - len(found),
    )


@pytest.fixture(scope="module")
def measured() -> list[Measured]:
    return [measure(seed) for seed in SEEDS]


def test_inserts_racing_a_running_loop_never_conflict_with_it(
    measured: list[Measured], race_report: list[str]
) -> None:
    racing = sum(m.racing_inserts for m in measured)
    steady = sum(m.steady for m in measured)
    transitions = sum(m.transitions for m in measured)
    race_report.append(
        f"non-interference: {racing} inserts+pings racing {sum(m.loop_runs for m in measured)} "
        f"loop runs over {len(measured)} seeds: {steady} conflicts while running, "
        f"{transitions} at transitions, {sum(m.other_conflicts for m in measured)} others "
        f"(insert vs insert, monitor)"
    )
    assert racing > len(measured) * RACING_MOMENTS // 2, "the inserts did not race the loop"
    assert steady == 0


def test_every_insert_was_processed() -> None:
    sim = Simulator(make_app(), seed=3)
    for value in range(5):
        sim.mutation(example.add_event, {"value": value})
    for _ in range(10):
        due_ms = sim.next_due_ms()
        assert due_ms is not None
        sim.submit(example.add_event, {"value": 100}, at_ms=due_ms)
        sim.advance(due_ms - sim.now, schedule=7)
    sim.advance(10 * 60_000)
    inserted = [r for r in executions(sim.trace) if r.function == ADD_EVENT and r.committed]
    assert sim.query(example.get_totals) == {"total": 10.0 + 1000.0, "count": len(inserted)}
