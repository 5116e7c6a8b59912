"""Hypothesis strategies for ``schedule=``: let a property test pick the interleaving.

A seed covers interleavings broadly but shrinks badly (seed 41 is no simpler
than seed 7); a list of choices shrinks toward ``[]``, "always the first
runnable", which is the least interleaved run there is. :func:`drawn_chooser`
goes one step further and draws each choice when the executor needs it, so
hypothesis shrinks the interleaving itself, choice by choice.
"""

from __future__ import annotations

from hypothesis import strategies as st

from convex_sim.executor import Chooser

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
    is the replayable record (``note(chooser.reproducer())`` shows it in the
    falsifying example).
    """
    among: dict[int, st.SearchStrategy[int]] = {}

    def draw(n: int) -> int:
        if n not in among:
            among[n] = st.integers(min_value=0, max_value=n - 1)
        return data.draw(among[n])

    return Chooser(draw, "drawn by hypothesis")
