"""Collects the race tests' counts (interleavings, conflicts, sabotage verdicts) and prints
them after the run, so every CI log shows what was covered."""

from __future__ import annotations

from typing import Any

import pytest

_REPORT: list[str] = []


@pytest.fixture
def race_report() -> list[str]:
    """Append one line per finding; they are printed in the terminal summary."""
    return _REPORT


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _REPORT:
        terminalreporter.section("races covered")
        for line in _REPORT:
            terminalreporter.write_line(line)
