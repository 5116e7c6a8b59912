"""``python -m example explore``: step through a scenario (or a saved trace) interactively.

The stepper is :mod:`convex_sim.story.explorer` (Textual, the ``explore``
extra); this opens it on one of the demo's scenarios, with the batch worker's
``workers`` and ``workerState`` documents and the app's totals in the
documents pane. ``--trace FILE`` opens a run saved with ``--trace-out``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from convex_sim.story import build_story, installed_explainers
from convex_sim.story.stepper import Stepper
from convex_sim.trace import Trace
from example.scenarios import COMPONENT, SCENARIOS

TABLES = [(COMPONENT, "workers"), (COMPONENT, "workerState"), ("", "totals")]


def main(argv: Sequence[str] | None = None) -> int:
    from example.demo import add_run_options, log_level_from_environment

    parser = argparse.ArgumentParser(
        prog="python -m example explore",
        description="Step through a scenario of the example app: n next await, e next "
        "execution, m next moment, b back, q quit.",
    )
    add_run_options(parser)
    parser.add_argument("--trace", metavar="FILE", help="open a saved trace instead of a scenario")
    options = parser.parse_args(argv)
    try:
        from convex_sim.story.explorer import ExplorerApp
    except ImportError as error:
        parser.exit(2, f"the explorer needs Textual: pip install -e '.[explore]' ({error})\n")
    if options.trace is not None:
        trace = Trace.read_jsonl(options.trace)
        title = options.trace
    else:
        log_level = options.log_level or log_level_from_environment(parser)
        run = SCENARIOS[options.scenario].run(
            seed=options.seed, events=options.events, log_level=log_level
        )
        trace = run.sim.trace
        title = f"{options.scenario} (seed {options.seed})"
        if options.trace_out is not None:
            trace.write_jsonl(options.trace_out)
    story = build_story(trace, installed_explainers())
    stepper = Stepper(story, TABLES)
    position = ExplorerApp(stepper, title=title).run()
    at = stepper.position if position is None else position
    print(f"explorer closed at event {at + 1} of {len(trace)} ({stepper.view().clock})")
    return 0
