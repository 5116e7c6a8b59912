"""Each scenario's printed story, at 100 columns, is kept as a golden file and compared whole.

The files (``__snapshots__/test_golden_stories/*.txt``) were read by eye once;
any change to what the demo prints shows up as a diff against them. After a
deliberate change, regenerate with ``pytest tests/example/test_golden_stories.py
--snapshot-update`` and read the diff before committing it.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from example.demo import run_demo
from example.scenarios import SCENARIOS

WIDTH = 100


class TextSnapshot(SingleFileSnapshotExtension):
    """One plain-text file per scenario, readable (and diffable) as it prints."""

    _write_mode = WriteMode.TEXT
    file_extension = "txt"


@pytest.fixture
def golden(snapshot: Any) -> Any:
    return snapshot.use_extension(TextSnapshot)


def render(scenario: str) -> str:
    output = io.StringIO()
    run_demo(scenario=scenario, console=Console(file=output, width=WIDTH, color_system=None))
    return "\n".join(line.rstrip() for line in output.getvalue().splitlines()) + "\n"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_printed_story_is_the_golden_one(scenario: str, golden: Any) -> None:
    assert render(scenario) == golden


def test_the_going_idle_race_golden_story_has_the_conflict_the_retry_and_the_event() -> None:
    text = render("race-going-idle")
    assert "⚡ conflict at commit" in text
    assert "↻ retried as attempt 2" in text
    assert "total 3, count 2" in text


def test_every_golden_story_fits_in_two_screens() -> None:
    for scenario in SCENARIOS:
        assert len(render(scenario).splitlines()) <= 100, scenario
