"""The demo runs, shows the loop's steps, and ends with the right totals."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from example.demo import main, run_demo


def test_a_thousand_events_total_500500() -> None:
    output = io.StringIO()
    result = run_demo(events=1000, show=3, console=Console(file=output, width=120))
    assert (result.total, result.count) == (500500, 1000)
    assert result.status == {"kind": "idle"}
    assert result.executions["worker mutation"] == 100  # batches of 10
    text = output.getvalue()
    assert "total 500500, count 1000" in text
    assert "more executions not shown" in text


def test_the_steps_of_the_loop_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--events", "3", "--log-level", "DEBUG"]) == 0
    text = capsys.readouterr().out
    assert "example:add_event" in text
    assert "work query (snapshot read)" in text
    assert "worker mutation" in text
    assert "status: None → {'kind': 'running'}" in text
    assert "→ {'kind': 'idle'}" in text
    assert "log.debug" in text
    assert "total 6, count 3" in text
