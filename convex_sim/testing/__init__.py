"""convex_sim.testing: property tests of races against the simulator.

The simulator interleaves concurrent executions as a schedule says; these
pieces choose the schedules. ``strategies`` lets hypothesis draw them (and
shrink a failing one), ``explore`` runs every interleaving of a small
scenario, and a base state machine drives a deployment through random
client calls. Tests only: this package imports hypothesis, which is in the
``testing`` extra, not a dependency of ``convex_sim`` itself.
"""

from convex_sim.testing.explore import (
    Exploration,
    ExplorationTooLargeError,
    InterleavingAssertionError,
    NondeterministicScenarioError,
    explore_interleavings,
)
from convex_sim.testing.strategies import choice_lists, drawn_chooser, schedules, seeds

__all__ = [
    "Exploration",
    "ExplorationTooLargeError",
    "InterleavingAssertionError",
    "NondeterministicScenarioError",
    "choice_lists",
    "drawn_chooser",
    "explore_interleavings",
    "schedules",
    "seeds",
]
