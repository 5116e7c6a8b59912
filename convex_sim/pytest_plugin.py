"""pytest plugin: a ``simulator`` fixture, a seed option, and a reproducer on failure.

A failing race is only useful if it can be run again. Every test that asks
for ``simulator`` gets one seeded from ``--convex-sim-seed`` (0 by default),
and when it fails the report carries the seed, the last schedule's choices
and the command that reruns exactly that test with exactly that seed.

Registered through the ``pytest11`` entry point, so installing convex-sim is
enough. A project supplies its app by defining a ``convex_sim_app`` fixture.
The simulator is imported only when the fixture runs, so loading the plugin
does not import convex_sim before the test session starts (before coverage
tools, for one, start measuring).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from convex_sim.components import AppDefinition
    from convex_sim.simulator import Simulator

SEED_OPTION = "--convex-sim-seed"
REPORT_SECTION = "convex_sim reproducer"

_simulator_key = pytest.StashKey["Simulator"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("convex_sim").addoption(
        SEED_OPTION,
        type=int,
        default=0,
        dest="convex_sim_seed",
        metavar="N",
        help="seed for the simulator fixture (ids, randomness, default schedules); default 0",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Offer the ``ci`` and ``deep`` hypothesis profiles, before hypothesis loads one.

    Hypothesis' own plugin loads ``--hypothesis-profile`` in its
    ``pytest_configure``; this one runs first, after the project's initial
    conftest files, so a profile the project registered there wins.
    """
    if importlib.util.find_spec("hypothesis") is None:
        return  # installed without the testing extra: there is nothing to offer
    from convex_sim.testing.profiles import register_missing_profiles

    register_missing_profiles()


@pytest.fixture
def convex_sim_seed(request: pytest.FixtureRequest) -> int:
    """The seed the ``simulator`` fixture uses, from ``--convex-sim-seed``."""
    seed: int = request.config.getoption("convex_sim_seed")
    return seed


@pytest.fixture
def convex_sim_app() -> AppDefinition:
    """Placeholder: the project overrides this with its own app."""
    pytest.fail(
        "the simulator fixture needs your app: define a fixture named convex_sim_app "
        "(in conftest.py or the test module) that returns your define_app(...) result",
        pytrace=False,
    )


@pytest.fixture
def simulator(
    request: pytest.FixtureRequest, convex_sim_app: AppDefinition, convex_sim_seed: int
) -> Simulator:
    """A fresh simulator of ``convex_sim_app``, seeded from ``--convex-sim-seed``."""
    from convex_sim.simulator import Simulator

    sim = Simulator(convex_sim_app, seed=convex_sim_seed)
    request.node.stash[_simulator_key] = sim
    return sim


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    sim = item.stash.get(_simulator_key, None)
    if sim is not None and report.failed and report.when != "setup":
        report.sections.append((REPORT_SECTION, reproducer(item.nodeid, sim)))
    return report


def reproducer(nodeid: str, sim: Simulator) -> str:
    """What to paste to see the failure again."""
    quoted = "'" + nodeid.replace("'", "'\\''") + "'"
    return (
        f"seed: {sim.seed}\n"
        f"last schedule: {sim.last_chooser.reproducer()}\n"
        f"rerun: pytest {quoted} {SEED_OPTION} {sim.seed}\n"
    )
