"""``python -m convex_sim trace show|explore FILE``: a saved trace, told or stepped through.

Design.md names ``trace show FILE``; ``trace explore FILE`` opens the same stepper.
"""

from __future__ import annotations

import json
import sys

from rich.console import Console

from convex_sim.story import build_story, installed_explainers, story_table
from convex_sim.trace import Trace


def _read(path: str) -> Trace | None:
    try:
        return Trace.read_jsonl(path)
    except FileNotFoundError:
        print(f"{path}: no such file", file=sys.stderr)
    except (ValueError, KeyError, TypeError) as error:
        # json.JSONDecodeError is a ValueError; a missing field is a KeyError.
        kind = "not JSON lines" if isinstance(error, json.JSONDecodeError) else "not a trace"
        print(f"{path}: {kind} ({type(error).__name__}: {error})", file=sys.stderr)
    return None


def show_trace(path: str, *, svg: str | None = None, width: int | None = None) -> int:
    trace = _read(path)
    if trace is None:
        return 2
    console = Console(record=svg is not None, width=width)
    story = build_story(trace, installed_explainers())
    console.rule(f"[bold]{path}[/]: {len(trace)} events, {len(story.steps)} executions")
    console.print(story_table(story))
    conflicts = story.conflicts
    console.print(f"[dim]{conflicts} OCC conflict{'' if conflicts == 1 else 's'}[/]")
    if svg is not None:
        console.save_svg(svg, title=f"python -m convex_sim trace show {path}")
    return 0


def explore_trace(path: str) -> int:
    try:
        from convex_sim.story.explorer import ExplorerApp
    except ImportError as error:
        print(f"the explorer needs Textual: pip install 'convex-sim[explore]' ({error})")
        return 2
    from convex_sim.story.stepper import Stepper

    trace = _read(path)
    if trace is None:
        return 2
    stepper = Stepper(build_story(trace, installed_explainers()))
    ExplorerApp(stepper, title=path).run()
    print(f"explorer closed at event {stepper.position + 1} of {len(trace)}")
    return 0
