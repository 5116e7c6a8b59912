"""The demo's scenarios: the same name and seed give the same run; each shows what it says."""

from __future__ import annotations

import pytest

from convex_sim.testing import executions
from example import example
from example.scenarios import SCENARIOS


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_scenario_is_the_same_run_for_the_same_seed(name: str) -> None:
    first, again = SCENARIOS[name].run(seed=3), SCENARIOS[name].run(seed=3)
    assert first.sim.trace.digest() == again.sim.trace.digest()
    assert first.schedule == again.schedule


@pytest.mark.parametrize("seed", [0, 1, 2, 5])
def test_the_going_idle_race_always_finds_its_conflict_and_loses_no_event(seed: int) -> None:
    run = SCENARIOS["race-going-idle"].run(seed=seed)
    records = executions(run.sim.trace)
    hit = [r for r in records if r.conflict is not None and r.function.endswith("loop:loop")]
    assert hit, f"seed {seed}: no loop run conflicted"
    assert hit[0].conflict is not None
    assert hit[0].conflict.table == "events"
    assert hit[0].retry is not None
    assert run.sim.query(example.get_totals) == {"total": 3.0, "count": 2}
    assert run.sim.query(example.worker_status) == {"kind": "idle"}


@pytest.mark.parametrize("seed", [0, 1, 2, 5])
def test_ping_racing_stop_conflicts_and_start_still_drains_everything(seed: int) -> None:
    run = SCENARIOS["ping-vs-stop"].run(seed=seed)
    assert any(record.conflict is not None for record in executions(run.sim.trace))
    assert run.sim.query(example.get_totals) == {"total": 3.0, "count": 2}


def test_the_other_scenarios_end_idle_or_stopped_with_every_event_counted() -> None:
    expected = {
        "drain": (325.0, 25, "idle"),
        "burst-during-cooldown": (55.0, 10, "idle"),
        "throw-once": (15.0, 5, "idle"),
        "stop-start": (21.0, 6, "idle"),
        "sleep-and-wake": (21.0, 6, "stopped"),
    }
    for name, (total, count, status) in expected.items():
        sim = SCENARIOS[name].run().sim
        assert sim.query(example.get_totals) == {"total": total, "count": count}, name
        assert sim.query(example.worker_status) == {"kind": status}, name
