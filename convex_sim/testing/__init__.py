"""convex_sim.testing: property tests of races against the simulator.

The simulator interleaves concurrent executions as a schedule says; these
pieces choose the schedules and check what came of them. ``strategies`` lets
hypothesis draw schedules (and shrink a failing one), ``explore`` runs every
interleaving of a small scenario, ``machine`` is a base hypothesis state
machine over a deployment whose failures replay from one line, and
``executions`` regroups a trace by execution for invariants to inspect.
Tests only: this package imports hypothesis, which is in the ``testing``
extra (``pip install 'convex-sim[testing]'``), not a dependency of
``convex_sim`` itself; without it, importing this package says so.
"""

from convex_sim.testing import _requirements  # noqa: F401  (first: says what is missing)
from convex_sim.testing.executions import ExecutionRecord, executions
from convex_sim.testing.explore import (
    Exploration,
    ExplorationTooLargeError,
    InterleavingAssertionError,
    NondeterministicScenarioError,
    explore_interleavings,
)
from convex_sim.testing.machine import (
    REPLAY_PREFIX,
    Replay,
    SimulatorMachine,
    recorded,
    replay_line,
    time_steps,
)
from convex_sim.testing.strategies import choice_lists, drawn_chooser, schedules, seeds

__all__ = [
    "REPLAY_PREFIX",
    "ExecutionRecord",
    "Exploration",
    "ExplorationTooLargeError",
    "InterleavingAssertionError",
    "NondeterministicScenarioError",
    "Replay",
    "SimulatorMachine",
    "choice_lists",
    "drawn_chooser",
    "executions",
    "explore_interleavings",
    "recorded",
    "replay_line",
    "schedules",
    "seeds",
    "time_steps",
]
