"""Replay finds a project's own machine module the way pytest imported it.

Each test writes a small project (its app in a rootdir module, its machine in
a test directory without ``__init__.py``), lets pytest fail the machine in a
subprocess, and replays the printed line from a fresh process: what a user
does, with nothing set on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from convex_sim.testing import REPLAY_PREFIX

APP_MODULE = '''
import sys
from typing import Any

from convex_sim import define_app, define_schema, define_table, mutation, v


@mutation(args={})
async def bump(ctx: Any, args: dict[str, Any]) -> None:
    await ctx.db.insert("bumps", {"at": 0})


def make_app() -> Any:
    schema = define_schema({"bumps": define_table({"at": v.number()})})
    return define_app(schema=schema, modules=[sys.modules[__name__]])
'''

MACHINE_MODULE = '''
from hypothesis import settings
from hypothesis.stateful import rule

from convex_sim import Simulator
from convex_sim.testing import SimulatorMachine, recorded

import counter_app


async def count(db):
    return len(await db.query("bumps").collect())


class CountingMachine(SimulatorMachine):
    def make_simulator(self):
        return Simulator(counter_app.make_app(), seed=self.seed)

    @rule()
    @recorded
    def bump(self):
        self.call_soon(counter_app.bump)

    def check_after_step(self, new):
        assert self.sim.peek(count) < 2, "a wrong model: at most one bump"


TestCounting = CountingMachine.TestCase
TestCounting.settings = settings(derandomize=True, database=None, max_examples=50)
'''


def _clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=_clean_env(), capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "conftest.py").write_text("")
    (root / "counter_app.py").write_text(APP_MODULE)
    (root / "checks").mkdir()
    (root / "checks" / "test_counting_machine.py").write_text(MACHINE_MODULE)
    return root


def _failing_line(project: Path, *options: str) -> str:
    result = _run(["-m", "pytest", "-p", "no:cacheprovider", *options, "checks"], project)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line.strip() for line in result.stdout.splitlines() if REPLAY_PREFIX in line]
    assert lines, result.stdout
    return lines[0][lines[0].index(REPLAY_PREFIX) :]


@pytest.fixture(scope="module")
def line(project: Path) -> str:
    return _failing_line(project)


def test_the_line_names_the_module_as_pytest_did(line: str) -> None:
    payload = json.loads(line[len(REPLAY_PREFIX) :])
    assert payload["machine"] == "test_counting_machine:CountingMachine"


def test_replay_from_the_project_root_finds_the_module(project: Path, line: str) -> None:
    result = _run(["-m", "convex_sim.testing", "replay", line], project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a wrong model: at most one bump" in result.stdout
    assert "trace identical to the recorded run" in result.stdout


def test_replay_from_a_subdirectory_finds_the_project(project: Path, line: str) -> None:
    result = _run(["-m", "convex_sim.testing", "replay", line], project / "checks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_replay_from_elsewhere_needs_the_rootdir(
    project: Path, line: str, tmp_path: Path
) -> None:
    lost = _run(["-m", "convex_sim.testing", "replay", line], tmp_path)
    assert lost.returncode == 2
    assert "No module named 'test_counting_machine'" in lost.stdout
    assert "--rootdir" in lost.stdout
    found = _run(
        ["-m", "convex_sim.testing", "replay", line, "--rootdir", str(project)], tmp_path
    )
    assert found.returncode == 0, found.stdout + found.stderr


def test_a_rootdir_relative_name_from_importlib_mode_replays_too(project: Path) -> None:
    line = _failing_line(project, "--import-mode=importlib", "-o", "pythonpath=.")
    assert '"machine":"checks.test_counting_machine:CountingMachine"' in line
    result = _run(["-m", "convex_sim.testing", "replay", line], project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_class_replays_a_line_that_names_its_module_otherwise(
    project: Path, line: str
) -> None:
    # Imported here as checks.test_counting_machine; the line says test_counting_machine.
    script = (
        "import sys\n"
        "from checks.test_counting_machine import CountingMachine\n"
        "replay = CountingMachine.replay(sys.argv[1])\n"
        "print(replay.identical, replay.error)\n"
    )
    result = _run(["-c", script, line], project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True a wrong model: at most one bump"


def test_a_replay_that_no_longer_fails_exits_3(project: Path, line: str) -> None:
    payload = json.loads(line[len(REPLAY_PREFIX) :])
    payload["steps"] = []
    result = _run(["-m", "convex_sim.testing", "replay", json.dumps(payload)], project)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "no invariant failed" in result.stdout
    assert "trace differs" in result.stdout


def test_the_exit_codes_are_in_the_help(project: Path) -> None:
    result = _run(["-m", "convex_sim.testing", "replay", "--help"], project)
    assert result.returncode == 0
    for code in ("0  reproduced", "1  the trace differs", "2  cannot replay", "3  the trace"):
        assert code in result.stdout
