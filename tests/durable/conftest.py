"""Collects the durability tests' figures (crash trials, losses) and prints them after the
run, so every CI log shows how many crashes were survived and what, if anything, was lost."""

from __future__ import annotations

from typing import Any

import pytest

_REPORT: list[str] = []


@pytest.fixture
def durability_report() -> list[str]:
    """Append one line per finding; they are printed in the terminal summary."""
    return _REPORT


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _REPORT:
        terminalreporter.section("crashes survived")
        for line in _REPORT:
            terminalreporter.write_line(line)
