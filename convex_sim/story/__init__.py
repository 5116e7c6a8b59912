"""A run told as a story: for each moment of virtual time, what ran and why.

``build_story(trace, explainers)`` reads a trace (live, or saved with
``Trace.write_jsonl``) and returns its steps and folded lines;
``story_table`` renders them. ``installed_explainers()`` finds the
explainers that installed packages register under the
``convex_sim.explainers`` entry point group (the batch worker registers
one), so ``python -m convex_sim trace show`` tells any app's run in its
components' own terms.

Reads design.md's ``sim.trace`` (every event so far) and nothing else; the
commands are design.md's ``python -m convex_sim trace show FILE`` and
``python -m example --scenario NAME`` / ``explore``.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from convex_sim.story.build import Story, build_story, fold, plain_value, short_name
from convex_sim.story.model import Explainer, Explanation, Line, Step
from convex_sim.story.render import line_text, moments, story_table
from convex_sim.story.world import JobBook, JobRow, World

ENTRY_POINT_GROUP = "convex_sim.explainers"


def installed_explainers() -> list[Explainer]:
    """Every explainer registered under ``convex_sim.explainers``, in name order."""
    found: list[Explainer] = []
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda item: item.name):
        found.append(entry.load())
    return found


__all__ = [
    "ENTRY_POINT_GROUP",
    "Explainer",
    "Explanation",
    "JobBook",
    "JobRow",
    "Line",
    "Step",
    "Story",
    "World",
    "build_story",
    "fold",
    "installed_explainers",
    "line_text",
    "moments",
    "plain_value",
    "short_name",
    "story_table",
]
