"""Prints the release reproductions' figures, 0.2.0 beside 0.3.6, after the run."""

from __future__ import annotations

from typing import Any

import pytest

_ROWS: list[str] = []


@pytest.fixture
def releases_report() -> list[str]:
    return _ROWS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _ROWS:
        terminalreporter.section("batch worker releases: 0.2.0 | 0.3.6")
        for line in _ROWS:
            terminalreporter.write_line(line)
