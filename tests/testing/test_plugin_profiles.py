"""The plugin offers the ``ci`` and ``deep`` hypothesis profiles to every project.

Each run is a fresh pytest process in an empty directory: this repository's
own conftest (which registers the profiles too) is not there, as it is not in
a project that merely installed convex-sim.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import pytest

from convex_sim import pytest_plugin

pytest_plugins = ["pytester"]

PROFILE_TEST = """
from hypothesis import settings


def test_profile():
    profile = settings.get_current_profile_name()
    print(f"profile={profile} max_examples={settings.default.max_examples}")
    assert settings.get_profile("deep").max_examples > 0
"""


def _profile_line(result: pytest.RunResult) -> str:
    result.assert_outcomes(passed=1)
    (line,) = [line for line in result.outlines if "profile=" in line]
    return line[line.index("profile=") :]


def test_the_deep_profile_the_docs_recommend_loads_in_any_project(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_profile=PROFILE_TEST)
    result = pytester.runpytest_subprocess("-s", "--hypothesis-profile=deep")
    assert _profile_line(result) == "profile=deep max_examples=5000"


def test_a_profile_the_project_registered_is_not_replaced(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "from hypothesis import settings\n"
        "settings.register_profile('deep', max_examples=7, deadline=None)\n"
    )
    pytester.makepyfile(test_profile=PROFILE_TEST)
    result = pytester.runpytest_subprocess("-s", "--hypothesis-profile=deep")
    assert _profile_line(result) == "profile=deep max_examples=7"


def test_without_the_option_the_active_profile_is_left_alone(pytester: pytest.Pytester) -> None:
    # Whatever hypothesis chose by itself (its default, or its ci profile under CI)
    # is what the conftest sees at import, before any plugin's pytest_configure.
    pytester.makeconftest(
        "from hypothesis import settings\nCHOSEN = settings.get_current_profile_name()\n"
    )
    pytester.makepyfile(
        test_profile=PROFILE_TEST
        + """

def test_unchanged():
    from conftest import CHOSEN
    assert settings.get_current_profile_name() == CHOSEN != "deep"
"""
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_without_hypothesis_installed_the_plugin_offers_nothing_and_does_not_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "hypothesis" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    # Importing the profiles would need hypothesis: make that import fail loudly.
    monkeypatch.setitem(sys.modules, "convex_sim.testing.profiles", None)
    pytest_plugin.pytest_configure(pytest.Config.__new__(pytest.Config))
