"""The base state machine: its rules, its checks, and one-line replay of its failures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule, run_state_machine_as_test

from convex_sim import Simulator
from convex_sim.testing import (
    REPLAY_PREFIX,
    ExecutionRecord,
    SimulatorMachine,
    executions,
    recorded,
    replay_line,
)
from convex_sim.testing.__main__ import main
from convex_sim.testing.machine import parse_reproducer
from tests.apps import race_app

CELL_LIMIT = 3


def _cell_value(sim: Simulator) -> int:
    async def read(db: Any) -> int:
        cells = await db.query("cells").collect()
        return int(cells[0]["value"]) if cells else 0

    value: int = sim.peek(read)
    return value


class CounterMachine(SimulatorMachine):
    """Concurrent bumps of one counter: its value is the number of committed bumps."""

    def __init__(self) -> None:
        super().__init__()
        self.committed_bumps = 0

    def make_simulator(self) -> Simulator:
        return Simulator(race_app.make_app(), seed=self.seed)

    @rule(count=st.integers(1, 3))
    @recorded
    def bump(self, count: int) -> None:
        for _ in range(count):
            self.call_soon(race_app.bump, {"name": "c"})

    def check_after_step(self, new: list[ExecutionRecord]) -> None:
        self.committed_bumps += sum(1 for r in new if r.function.endswith(":bump") and r.committed)
        assert _cell_value(self.sim) == self.committed_bumps

    def settle(self) -> None:
        self.start_queued_calls()
        self.invariants_hold()


class CappedCounterMachine(CounterMachine):
    """A wrong model on purpose: it believes the counter never passes CELL_LIMIT."""

    def check_after_step(self, new: list[ExecutionRecord]) -> None:
        super().check_after_step(new)
        assert _cell_value(self.sim) <= CELL_LIMIT, f"counter passed {CELL_LIMIT}"


def _run(machine: type[SimulatorMachine]) -> None:
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=60, stateful_step_count=15, phases=[Phase.generate]),
    )


def _caught_line() -> tuple[str, AssertionError]:
    with pytest.raises(AssertionError, match=f"counter passed {CELL_LIMIT}") as caught:
        _run(CappedCounterMachine)
    (line,) = [n for n in getattr(caught.value, "__notes__", []) if n.startswith(REPLAY_PREFIX)]
    return line, caught.value


def test_a_sound_model_passes_and_conflicting_bumps_really_raced() -> None:
    _run(CounterMachine)
    machine = CounterMachine.replay(
        REPLAY_PREFIX
        + json.dumps(
            {
                "machine": "tests.testing.test_machine:CounterMachine",
                "seed": 0,
                "steps": [["bump", {"count": 3}], ["run_next_moment", {"schedule": [1, 0, 1, 0]}]],
                "trace": "",
            }
        )
    ).machine
    records = executions(machine.sim.trace)
    assert any(r.conflict is not None for r in records), "three bumps at one instant conflict"
    assert _cell_value(machine.sim) == 3


def test_a_failure_carries_a_line_that_replays_it_exactly() -> None:
    line, error = _caught_line()
    payload = parse_reproducer(line)
    assert payload["machine"] == "tests.testing.test_machine:CappedCounterMachine"
    replay = CappedCounterMachine.replay(line)
    assert replay.identical
    assert str(replay.error).splitlines()[0] == str(error).splitlines()[0]
    assert replay_line(line).identical
    with pytest.raises(ValueError, match=r"replays tests\.testing\.test_machine:CappedCounter"):
        CounterMachine.replay(line)


def test_the_replay_command_reports_an_identical_trace(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    line, _ = _caught_line()
    path = tmp_path / "trace.jsonl"
    assert main(["replay", line, "--trace", str(path)]) == 0
    out = capsys.readouterr().out
    assert "trace identical to the recorded run" in out
    assert f"counter passed {CELL_LIMIT}" in out
    assert path.read_text(encoding="utf-8").count("\n") > 10
    tampered = json.loads(line[len(REPLAY_PREFIX) :])
    tampered["trace"] = "sha256:0"
    assert main(["replay", json.dumps(tampered)]) == 1
    assert "trace differs" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("convex-sim replay: {not json", "not a convex-sim reproducer line"),
        ('{"machine": "x:Y"}', "lacks ['seed', 'steps', 'trace']"),
        (
            '{"machine": "tests.apps.race_app:SCHEMA", "seed": 0, "steps": [], "trace": ""}',
            "is not a SimulatorMachine subclass",
        ),
    ],
)
def test_bad_lines_are_refused_with_the_reason(
    line: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        replay_line(line)
    assert main(["replay", line]) == 2
    assert "cannot replay" in capsys.readouterr().out


def test_a_machine_must_say_how_to_make_its_simulator() -> None:
    with pytest.raises(NotImplementedError, match="must define make_simulator"):
        SimulatorMachine()
