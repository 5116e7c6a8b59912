"""Every interleaving of a small race, one run each: stateless model checking.

A seeded or hypothesis-drawn schedule samples interleavings; a race that
shows up in one schedule in a thousand can slip through. For a scenario small
enough (two or three executions, a handful of ``ctx`` calls each) it is cheaper
to run them all: the executor's choices form a tree, and a depth-first walk
over it, replaying a prefix of choices and then always picking the first
runnable execution, visits every leaf exactly once.

The walk is stateless: each run rebuilds the scenario from nothing, so the
scenario must make the same choice points given the same choices. When it
does not (a seed drawn from a counter, a wall-clock read), the walk would
silently miss or repeat interleavings, so it stops with
:class:`NondeterministicScenarioError` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from convex_sim.errors import ConvexSimError
from convex_sim.executor import Chooser

T = TypeVar("T")

DEFAULT_MAX_RUNS = 100_000


class NondeterministicScenarioError(ConvexSimError):
    """Replaying the same choices met a different number of runnable executions."""


class ExplorationTooLargeError(ConvexSimError):
    """The scenario has more interleavings than the caller allowed runs for."""


class InterleavingAssertionError(AssertionError):
    """A check failed on one interleaving; ``choices`` replays it.

    An ``AssertionError`` so pytest reports it as a failed assertion; the
    original one is its ``__cause__``. It reports the user's failing check,
    so a test's traceback hides the exploration machinery above it.
    """

    reports_user_fault = True

    def __init__(self, message: str, *, run_number: int, choices: list[int]) -> None:
        super().__init__(message)
        self.run_number = run_number
        self.choices = choices


@dataclass
class Exploration(Generic[T]):
    """What a complete exploration saw.

    ``results`` holds what ``run`` returned for each interleaving, in the
    order visited, so a test can assert across all of them (every final state
    valid, every trace distinct). They are all kept: for a large exploration,
    have ``run`` return a small summary rather than the simulator.
    """

    runs: int
    """How many interleavings there are (and how many runs it took)."""
    choice_points: int
    """The most choices any one interleaving made."""
    results: list[T] = field(default_factory=list)


def explore_interleavings(
    run: Callable[[Chooser], T],
    *,
    check: Callable[[T], bool | None] | None = None,
    max_runs: int = DEFAULT_MAX_RUNS,
) -> Exploration[T]:
    """Run ``run`` once per interleaving of the executions it starts.

    ``run(chooser)`` builds a fresh scenario and passes ``chooser`` as
    ``schedule=`` to its simulator calls (to all of them: the choices of one
    run are one sequence). ``check(result)`` runs after each run and may
    assert or answer: returning ``False``, or raising ``AssertionError``,
    fails the interleaving; returning ``None`` or ``True`` passes it; any
    other return value is a mistake in the check (a predicate written as
    ``lambda r: r.count`` says nothing clear) and raises ``TypeError``. A
    failed interleaving (from the check or from ``run``) raises
    :class:`InterleavingAssertionError` naming the run and the choices that
    replay it; any other exception propagates with the same reproducer as a
    note. More than ``max_runs`` interleavings raises
    :class:`ExplorationTooLargeError` rather than checking only some of them.

    A scenario with one simulator call replays a failure with
    ``schedule=error.choices``; one with several, with
    ``run(as_chooser(error.choices))``, so that the calls share the list.
    """
    forced: list[tuple[int, int]] = []
    exploration: Exploration[T] = Exploration(runs=0, choice_points=0)
    while True:
        if exploration.runs >= max_runs:
            raise ExplorationTooLargeError(
                f"the scenario has more than max_runs={max_runs} interleavings; shrink it "
                "(fewer executions or ctx calls) or raise max_runs"
            )
        run_number = exploration.runs + 1
        path = _Path(forced, run_number)
        chooser = Chooser(path.pick, f"exploration run {run_number}")
        try:
            result = run(chooser)
        except AssertionError as error:
            path.check_replayed()
            raise _failed(error, run_number, chooser) from error
        except Exception as error:
            path.check_replayed()
            error.add_note(f"in interleaving {run_number}; replay it with {chooser.reproducer()}")
            raise
        path.check_replayed()
        if check is not None:
            _check(check, result, run_number, chooser)
        exploration.runs = run_number
        exploration.choice_points = max(exploration.choice_points, len(path.taken))
        exploration.results.append(result)
        forced = _next_prefix(path.taken)
        if not forced:
            return exploration


class _Path:
    """One run's walk down the tree: forced choices first, then always the first runnable.

    A replay that meets a different number of runnable executions is noted,
    not raised on the spot: raised inside the executor, the error would pass
    through the scenario, which could catch it or fail some other way first.
    """

    def __init__(self, forced: list[tuple[int, int]], run_number: int) -> None:
        self._forced = forced
        self._run_number = run_number
        self._divergence: str | None = None
        self.taken: list[tuple[int, int]] = []
        """``(choice, n)`` at each choice point, in order."""

    def pick(self, n: int) -> int:
        position = len(self.taken)
        choice = 0
        if position < len(self._forced):
            choice, recorded_n = self._forced[position]
            if n != recorded_n:
                self._divergence = self._divergence or (
                    f"at choice point {position} found {n} runnable executions where an "
                    f"earlier run found {recorded_n}"
                )
                choice = 0
        self.taken.append((choice, n))
        return choice

    def check_replayed(self) -> None:
        """Raise if the run did not retrace the earlier run it replayed."""
        if self._divergence is None and len(self.taken) < len(self._forced):
            self._divergence = (
                f"ended after {len(self.taken)} choice points where an earlier run went on "
                f"past {len(self._forced)}"
            )
        if self._divergence is not None:
            raise NondeterministicScenarioError(
                f"run {self._run_number} replayed the same choices but {self._divergence}; "
                "the scenario must depend only on the chooser (a fixed simulator seed, "
                "no counters, no wall clock)"
            )


def _check(check: Callable[[T], bool | None], result: T, run_number: int, chooser: Chooser) -> None:
    """Apply ``check`` to one run's result; see :func:`explore_interleavings` for the rules."""
    try:
        verdict = check(result)
    except AssertionError as error:
        raise _failed(error, run_number, chooser) from error
    except Exception as error:
        error.add_note(f"in interleaving {run_number}; replay it with {chooser.reproducer()}")
        raise
    if verdict is False:
        name = getattr(check, "__qualname__", repr(check))
        raise _failed(AssertionError(f"check {name} returned False"), run_number, chooser)
    if verdict is not None and verdict is not True:
        raise TypeError(
            f"an exploration check must return None, True or False (or raise "
            f"AssertionError); {getattr(check, '__qualname__', repr(check))} returned "
            f"{verdict!r}"
        )


def _failed(error: AssertionError, run_number: int, chooser: Chooser) -> InterleavingAssertionError:
    return InterleavingAssertionError(
        f"{error}\n(interleaving {run_number} of the exploration; replay it with "
        f"{chooser.reproducer()})",
        run_number=run_number,
        choices=list(chooser.choices),
    )


def _next_prefix(taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The forced choices of the next leaf: bump the deepest choice that has a sibling left.

    Empty when every choice of ``taken`` is the last one, that is, when the
    walk has visited the whole tree.
    """
    for position in range(len(taken) - 1, -1, -1):
        choice, n = taken[position]
        if choice < n - 1:
            return [*taken[:position], (choice + 1, n)]
    return []
