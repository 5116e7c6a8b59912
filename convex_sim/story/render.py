"""The story printed: one row per line, the virtual time shown once per moment.

A grid keeps the three columns (time, lane, what happened) aligned when a
long explanation wraps, so a story stays readable at 100 columns; the same
renderable goes to the terminal, to a golden file, and to an SVG.

It is the printed form of design.md's ``python -m example`` and ``trace show``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from convex_sim.story.build import Story
from convex_sim.story.model import Line
from convex_sim.story.world import World

_DETAIL_STYLES = (
    ("⚡", "bold yellow"),
    ("↻", "yellow"),
    ("✗", "red"),
    ("status", "bold magenta"),
    ("log.", "dim"),
)


def line_text(line: Line, world: World) -> str:
    """The line's main text: who ran (folded: how often, from when to when) and why."""
    first, last = line.first, line.last
    who = first.title
    if first.job_label:
        label = first.job_label if line.count == 1 else f"{first.job_label}…{last.job_label}"
        who = f"{label} {who}"
    if line.count > 1:
        who += f" ×{line.count}"
    spans = []
    if line.count > 1 and last.time_ms != first.time_ms:
        spans.append(f"until {world.relative_s(last.time_ms)}")
    if first.varying:
        varying = first.varying
        if line.count > 1 and last.varying != first.varying:
            varying = f"{first.varying} … {last.varying}"
        spans.append(varying)
    if spans:
        who += f" ({'; '.join(spans)})"
    return f"{who}: {first.says}" if first.says else who


def moments(lines: Sequence[Line]) -> list[list[Line]]:
    """The lines grouped by the virtual time their first step started at."""
    grouped: list[list[Line]] = []
    for line in lines:
        if grouped and grouped[-1][0].first.time_ms == line.first.time_ms:
            grouped[-1].append(line)
        else:
            grouped.append([line])
    return grouped


def story_table(story: Story, lines: Sequence[Line] | None = None) -> Table:
    """The story (or some of its lines) as a three-column grid."""
    world = story.world
    # Widths from the whole story, so printing it moment by moment keeps the columns aligned.
    time_width = max((len(world.relative_s(step.time_ms)) for step in story.steps), default=8)
    lane_width = max((len(step.lane) for step in story.steps), default=6)
    table = Table.grid(padding=(0, 1))
    table.add_column("time", no_wrap=True, style="bold cyan", min_width=time_width)
    table.add_column("lane", no_wrap=True, style="bold", min_width=lane_width)
    table.add_column("what", overflow="fold")
    shown_time: float | None = None
    for line in story.lines if lines is None else lines:
        step = line.first
        when = "" if step.time_ms == shown_time else story.world.relative_s(step.time_ms)
        shown_time = step.time_ms
        style = "yellow" if step.conflict else ""
        table.add_row(when, step.lane, Text(line_text(line, story.world), style=style))
        for detail in step.details:
            text = Text(detail, style=_detail_style(detail))
            table.add_row("", "", Padding(text, (0, 0, 0, 2)))
    return table


def _detail_style(detail: str) -> str:
    for prefix, style in _DETAIL_STYLES:
        if detail.startswith(prefix):
            return style
    return "dim"
