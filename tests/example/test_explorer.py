"""The interactive stepper, driven through Textual's pilot: keys step, panes follow, q quits."""

from __future__ import annotations

import asyncio
from pathlib import Path

from convex_sim.story import build_story, installed_explainers
from convex_sim.story.explorer import CHANGED, JOB_ROWS, ExplorerApp, jobs_to_show
from convex_sim.story.stepper import Stepper
from convex_sim.trace import Trace
from example.explore import TABLES
from example.scenarios import SCENARIOS

SIZE = (160, 50)


def _app(scenario: str = "drain") -> ExplorerApp:
    trace = SCENARIOS[scenario].run(events=3 if scenario == "drain" else None).sim.trace
    return ExplorerApp(Stepper(build_story(trace, installed_explainers()), TABLES), title=scenario)


def test_stepping_forward_and_back_moves_the_clock_and_the_timeline() -> None:
    async def drive() -> None:
        app = _app()
        async with app.run_test(size=SIZE) as pilot:
            assert app.last_view is not None
            assert len(app.last_view.timeline) == 1
            await pilot.press("e", "e")
            after_two = app.last_view
            assert len(after_two.timeline) == 3
            await pilot.press("m")
            assert app.last_view.clock == "t+0.200s"
            assert len(app.last_view.timeline) > len(after_two.timeline)
            await pilot.press("b")
            assert app.last_view.position == after_two.position
            await pilot.press("n")
            assert app.last_view.position == after_two.position + 1
            await pilot.press("q")
        assert app.return_value == after_two.position + 1

    asyncio.run(drive())


def test_the_document_pane_highlights_the_field_a_commit_changed() -> None:
    async def drive() -> None:
        app = _app()
        async with app.run_test(size=SIZE) as pilot:
            while "commits" not in app.last_view.event:  # type: ignore[union-attr]
                await pilot.press("n")
            text = app.documents_text
            highlighted = {
                text.plain[span.start : span.end] for span in text.spans if span.style == CHANGED
            }
            assert "status: {kind: running}" in highlighted
            assert "generation: 1" in highlighted
            await pilot.press("e")  # the next execution has not committed anything new
            await pilot.press("q")

    asyncio.run(drive())


def test_ctrl_c_quits_without_a_traceback() -> None:
    async def drive() -> None:
        app = _app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("m")
            await pilot.press("ctrl+c")
        assert app.return_value == app.stepper.position

    asyncio.run(drive())


def test_the_explorer_opens_a_saved_trace(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    SCENARIOS["throw-once"].run().sim.trace.write_jsonl(path)
    trace = Trace.read_jsonl(path)

    async def drive() -> None:
        app = ExplorerApp(Stepper(build_story(trace, installed_explainers()), TABLES))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("m")  # the failed run, then nothing until the monitor's lag
            assert app.last_view is not None
            assert app.last_view.clock == "t+60.000s"
            assert "restarts it" in app.last_view.explanation[0]
            await pilot.press("q")

    asyncio.run(drive())


def test_documents_name_the_scheduled_functions_they_hold_and_running_jobs_always_show() -> None:
    async def drive() -> None:
        app = _app()
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(8):
                await pilot.press("m")  # well into the cooldown polls: many finished runs
            view = app.last_view
            assert view is not None
            running = [job for job in view.jobs if job.state in ("pending", "inProgress")]
            assert running
            assert len(view.jobs) > JOB_ROWS
            shown = jobs_to_show(view.jobs)
            assert len(shown) == JOB_ROWS
            assert all(job in shown for job in running)
            text = app.documents_text.plain
            for job in running:
                if job.function == "loop" and job.state == "pending":
                    assert f"runnerId: {job.label} (" in text
            await pilot.press("q")

    asyncio.run(drive())


def test_a_big_table_shows_what_just_changed_and_says_how_many_it_left_out() -> None:
    from convex_sim.story.explorer import DOCUMENTS_PER_TABLE, documents_text

    trace = SCENARIOS["drain"].run(events=40).sim.trace
    stepper = Stepper(build_story(trace, installed_explainers()), [("", "events")])
    while len(stepper.view().tables[0].documents) < 40:
        assert stepper.forward_execution()
    table = stepper.view().tables[0]
    text = documents_text([table]).plain
    assert f"… {40 - DOCUMENTS_PER_TABLE} more" in text
    newest = table.documents[-1]
    assert f"value: {int(newest['value'])}\n" in text  # the one the latest commit inserted
