"""pytest plugin: simulator fixtures, a seed option, and a reproducer on failure.

A failing race is only useful if it can be run again. Every test that asks
for ``simulator`` gets one seeded from ``--convex-sim-seed`` (0 by default),
and when it fails the report carries the seed, the last schedule's choices
and the command that reruns exactly that test with exactly that seed.
``simulator_factory`` makes a fresh simulator per call, for hypothesis tests
(see :class:`SimulatorFactory`), and reports the last one it made the same way.
The plugin also offers the hypothesis profiles ``ci`` and ``deep``, and cuts
the emulator's own frames out of a failure the user's code caused (see
:mod:`convex_sim._tracebacks`).

Registered through the ``pytest11`` entry point, so installing convex-sim is
enough. A project supplies its app by defining a ``convex_sim_app`` fixture.
The simulator is imported only when the fixture runs, so loading the plugin
does not import convex_sim before the test session starts (before coverage
tools, for one, start measuring).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from convex_sim.components import AppDefinition
    from convex_sim.simulator import Simulator
    from convex_sim.store.sqlite import SqliteStore

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
        "the simulator fixtures need your app: define a fixture named convex_sim_app "
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


class SimulatorFactory:
    """Fresh simulators of the running test's app, one per call: safe inside ``@given``.

    Hypothesis runs a test's body many times within one pytest test, while a
    function-scoped fixture is made once for all of them; hypothesis' health
    check refuses such fixtures (``simulator`` among them) for that reason.
    A factory is the way out, but it still needs the test's own
    ``convex_sim_app`` and seed, which are function-scoped. So the factory
    fixture is session-scoped (hypothesis accepts it) and the plugin binds it
    to each test that requests it, for the duration of that test; every call
    then returns a new simulator of that test's app, and each example starts
    from an empty deployment.
    """

    def __init__(self) -> None:
        self._app: AppDefinition | None = None
        self._seed = 0
        self._item: pytest.Item | None = None
        self._opened: dict[Path, tuple[Simulator, SqliteStore]] = {}

    def __call__(self, *, seed: int | None = None, **options: Any) -> Simulator:
        """A new simulator; ``seed`` defaults to ``--convex-sim-seed``.

        ``options`` go to :class:`~convex_sim.Simulator` (``start_ms``,
        ``parallelism``, ``retry_policy``, ``store``). A store given as a path
        is opened here and closed when the test ends. Asking again for a path
        already opened is a restart: the earlier simulator of that path is
        closed first (its state saved, its lock released), so a test can
        check what survives one without closing anything by hand.
        """
        if self._app is None or self._item is None:
            raise RuntimeError(
                "simulator_factory was called outside the test that requested it; "
                "call it inside that test (or its @given body)"
            )
        from convex_sim.simulator import Simulator

        store = options.get("store")
        path: Path | None = None
        if isinstance(store, str | Path):
            from convex_sim.store.sqlite import SqliteStore

            path = Path(store).resolve()
            self._close(path)
            options["store"] = SqliteStore(path)
        sim = Simulator(self._app, seed=self._seed if seed is None else seed, **options)
        if path is not None:
            self._opened[path] = (sim, options["store"])
        self._item.stash[_simulator_key] = sim
        return sim

    def _bind(self, app: AppDefinition, seed: int, item: pytest.Item) -> None:
        self._app, self._seed, self._item = app, seed, item

    def _close(self, path: Path) -> None:
        earlier = self._opened.pop(path, None)
        if earlier is not None:
            simulator, store = earlier
            try:
                simulator.close()
            finally:
                store.close()

    def _release(self) -> None:
        for path in list(self._opened):
            self._close(path)
        self._app = self._item = None


@pytest.fixture(scope="session")
def simulator_factory() -> SimulatorFactory:
    """Call it for a fresh simulator of ``convex_sim_app``; usable inside ``@given``."""
    return SimulatorFactory()


@pytest.fixture(autouse=True)
def _convex_sim_bind_factory(request: pytest.FixtureRequest) -> Generator[None, None, None]:
    """Bind ``simulator_factory`` to the test that requested it, while that test runs."""
    if "simulator_factory" not in request.fixturenames:
        yield
        return
    factory: SimulatorFactory = request.getfixturevalue("simulator_factory")
    factory._bind(
        request.getfixturevalue("convex_sim_app"),
        request.getfixturevalue("convex_sim_seed"),
        request.node,
    )
    try:
        yield
    finally:
        factory._release()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Before pytest renders a failure below; unconditionally, as a unittest-style
    # test (a hypothesis machine's TestCase) hands pytest its failure only there.
    from convex_sim._tracebacks import hide_emulator_frames

    hide_emulator_frames()
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
