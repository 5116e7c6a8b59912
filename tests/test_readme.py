"""The README stays true: its Python blocks run, and CI runs its test command."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# A block preceded by ``<!-- continues -->`` runs in the module of the block before it.
_FOUND = re.findall(r"(<!-- continues -->\n)?```python\n(.*?)```", README, flags=re.S)
BLOCKS: list[str] = []
for continues, code in _FOUND:
    if continues and BLOCKS:
        BLOCKS[-1] += "\n" + code
    else:
        BLOCKS.append(code)
# Module names the blocks refer to (``internal.<module>...``), in order.
NAMES = ["readme_first_app", "readme_worker"]


def _command(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```\n(.*?)\n```", README)
    assert match, f"README has no {marker}"
    return match.group(1)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_blocks_run(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    name = NAMES[index] if index < len(NAMES) else f"readme_block_{index}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), module.__dict__)
    finally:
        del sys.modules[name]


def test_the_readme_opens_with_the_demo_and_the_test_command() -> None:
    head = README.split("## ", 1)[0]
    assert head.index("demo-command") < head.index("test-command")
    assert "python -m example" in _command("demo-command")
    assert "pytest" in _command("test-command")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in ci
    assert 'bash -c "$test_command"' in ci


_PROJECT_SNIPPETS = re.findall(r"```py\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize("index", range(len(_PROJECT_SNIPPETS)))
def test_readme_snippets_are_the_outside_projects_own_code(index: int) -> None:
    # ``py`` blocks are quoted from tests/outside/project, where they run.
    project = ROOT / "tests" / "outside" / "project"
    sources = [path.read_text(encoding="utf-8") for path in project.rglob("*.py")]
    assert any(_PROJECT_SNIPPETS[index] in source for source in sources), _PROJECT_SNIPPETS[index]


def test_the_readme_gives_the_step_limit_the_code_has() -> None:
    from convex_sim.settle import DEFAULT_MAX_STEPS

    match = re.search(r"`convex_sim\.settle\.DEFAULT_MAX_STEPS`, ([\d ]+)\)", README)
    assert match, "README does not state the step limit"
    assert int(match.group(1).replace(" ", "")) == DEFAULT_MAX_STEPS


def test_the_readme_race_story_is_what_the_demo_prints() -> None:
    from tests.example.test_golden_stories import render

    match = re.search(r"<!-- race-story -->\n```\n(.*?)\n```", README, flags=re.S)
    assert match, "README has no race story excerpt"
    assert match.group(1) in render("race-going-idle")


def test_the_readme_lists_every_scenario() -> None:
    from example.scenarios import SCENARIOS

    for name in SCENARIOS:
        assert f"| `{name}`" in README, name
