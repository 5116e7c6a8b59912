"""Hypothesis strategies for ``schedule=``: let a property test pick the interleaving.

A seed covers interleavings broadly but shrinks badly (seed 41 is no simpler
than seed 7); a list of choices shrinks toward ``[]``, "always the first
runnable", which is the least interleaved run there is. :func:`drawn_chooser`
goes one step further and draws each choice when the executor needs it, so
hypothesis shrinks the interleaving itself, choice by choice.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.control import cleanup, current_build_context
from hypothesis.reporting import report

from convex_sim.executor import Chooser

DRAWN_PREFIX = "drawn interleaving: "

SEED_MAX = 2**32 - 1
MAX_CHOICE = 7
"""Choices are taken modulo the number of runnable executions; up to 8 covers the
default parallelism without making lists shrink slowly."""


def seeds() -> st.SearchStrategy[int]:
    """Integer seeds for ``schedule=``: a pseudo-random interleaving each."""
    return st.integers(min_value=0, max_value=SEED_MAX)


def choice_lists(max_size: int = 64) -> st.SearchStrategy[list[int]]:
    """Explicit choices for ``schedule=``; shrinks toward ``[]`` (always the first runnable)."""
    return st.lists(st.integers(min_value=0, max_value=MAX_CHOICE), max_size=max_size)


def schedules(max_size: int = 64) -> st.SearchStrategy[int | list[int]]:
    """Any ``schedule=`` value; choice lists come first so failures shrink toward them."""
    return st.one_of(choice_lists(max_size), seeds())


def drawn_chooser(data: st.DataObject) -> Chooser:
    """A chooser that draws each choice from hypothesis as the executor asks for it.

    Pass it as ``schedule=`` from a test given ``st.data()``. Its ``choices``
    is the replayable record. When the test fails, the report of the minimal
    failing example ends with one line, ``drawn interleaving: schedule=[...]``:
    that list, passed as ``schedule=``, reruns the interleaving without
    hypothesis. (Hypothesis' own lines show each draw, which is not a value
    the simulator takes.)
    """
    among: dict[int, st.SearchStrategy[int]] = {}

    def draw(n: int) -> int:
        if n not in among:
            among[n] = st.integers(min_value=0, max_value=n - 1)
        return data.draw(among[n])

    chooser = Chooser(draw, "drawn by hypothesis")
    if current_build_context().is_final:
        # The choices are complete only once the example has run, after which notes
        # can no longer be taken; a cleanup task runs then, and reports directly.
        cleanup(lambda: report(DRAWN_PREFIX + chooser.reproducer()))
    return chooser
