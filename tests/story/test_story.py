"""The printed story: each moment says what ran and why, repeats fold, races are shown whole."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console

from batch_worker.explain import BatchWorkerExplainer
from convex_sim import Simulator
from convex_sim.__main__ import main as convex_sim_main
from convex_sim.story import build_story, installed_explainers, line_text, story_table
from convex_sim.trace import Trace
from example import example, make_app
from example.demo import run_demo
from example.scenarios import SCENARIOS
from tests.apps.s2_to_s5_app import new_sim


def _text(trace: Trace, width: int = 100) -> str:
    output = io.StringIO()
    story = build_story(trace, installed_explainers())
    Console(file=output, width=width, color_system=None).print(story_table(story))
    return "\n".join(line.rstrip() for line in output.getvalue().splitlines())


def _told(trace: Trace) -> str:
    """The story's lines and details, unwrapped: what the tests look for in it."""
    story = build_story(trace, installed_explainers())
    told = []
    for line in story.lines:
        told.append(f"{story.world.relative_s(line.first.time_ms)} {line.first.lane} ")
        told[-1] += line_text(line, story.world)
        told.extend(f"  {detail}" for detail in line.first.details)
    return "\n".join(told)


def _lines(name: str) -> list[str]:
    story = build_story(SCENARIOS[name].run().sim.trace, installed_explainers())
    return [line_text(line, story.world) for line in story.lines]


def test_the_batch_worker_explainer_is_installed_as_an_entry_point() -> None:
    assert any(isinstance(found, BatchWorkerExplainer) for found in installed_explainers())


def test_the_drain_of_25_events_fits_in_60_lines_at_100_columns() -> None:
    output = io.StringIO()
    run_demo(events=25, console=Console(file=output, width=100, color_system=None))
    printed = output.getvalue().splitlines()
    assert len(printed) <= 60, "\n".join(printed)
    assert any("total 325, count 25" in line for line in printed[-3:])


def test_repeats_fold_into_one_line_with_a_count() -> None:
    lines = _lines("drain")
    assert any(
        "add_event ×24 (value=2 … value=25)" in line and "no-op (running)" in line for line in lines
    )
    polls = [line for line in lines if "cooling down" in line]
    assert len(polls) == 1
    assert "loop ×10 (until t+1.800s; gen 4, 2 s left … gen 13, 0.2 s left)" in polls[0]
    assert "next run in 200 ms (poll)" in polls[0]


def test_the_going_idle_race_shows_the_conflict_what_hit_it_the_retry_and_the_event_processed() -> (
    None
):
    run = SCENARIOS["race-going-idle"].run()
    text = _told(run.sim.trace)
    assert "cooled down; confirming read (a normal read): no work → would go idle" in text
    assert "⚡ conflict at commit: it read get_batch's query.take of events" in text
    assert "add_event (execution" in text
    assert "had inserted {value: 2} and committed first" in text
    assert "↻ retried as attempt 2 after" in text
    after_retry = text[text.index("(attempt 2)") :]
    assert "work → process_batch" in after_retry.split("\n")[0]
    assert run.sim.query(example.get_totals) == {"total": 3.0, "count": 2}


def test_ping_racing_stop_shows_which_one_retried() -> None:
    text = _told(SCENARIOS["ping-vs-stop"].run().sim.trace)
    assert "⚡ conflict at commit" in text
    assert "↻ retried as attempt 2" in text
    assert "ping: ignored (stopped; only start resumes it)" in text


def test_a_failed_run_and_the_monitors_restart_are_told() -> None:
    text = _told(SCENARIOS["throw-once"].run().sim.trace)
    assert "work → process_batch raised: the run rolls back, its job fails" in text
    assert "job #1 failed" in text
    assert (
        "t+60.000s monitor #2 monitor: the loop is not running (its run: #1 failed) → restarts it"
        in text
    )


def test_sleeping_and_waking_are_told() -> None:
    text = _told(SCENARIOS["sleep-and-wake"].run().sim.trace)
    assert "sleeps as idle for 30 s (timeoutMs; a ping wakes it)" in text
    assert "ping: wakes the idle worker, cancels its sleeping run #14, loop run #15 at once" in text


def test_stop_and_start_are_told() -> None:
    text = _told(SCENARIOS["stop-start"].run().sim.trace)
    assert "stop: #6 canceled, status stopped" in text
    assert "ping: ignored (stopped; only start resumes it)" in text
    assert "start: resumes the worker, loop run #7 at once" in text
    assert "status of 'events': stopped → running" in text


def test_a_monitor_that_a_busy_loop_comes_close_to_is_pushed_back() -> None:
    sim = Simulator(make_app(), seed=0)
    config = {"monitorLagMs": 10_000}  # the shortest lag: the loop nears it within 5 s
    for second in range(8):
        sim.mutation(example.add_event, {"value": second, "config": config})
        sim.advance(1_000)
    sim.finish_all_scheduled_functions()
    text = _told(sim.trace)
    assert "monitor #2 scheduled at t+10.000s" in text
    assert "monitor #2 pushed back: #" in text
    after = text.split("pushed back")[-1]
    assert "monitor #" in after
    assert "canceled" in after


def test_the_story_of_a_saved_trace_is_the_story_of_the_live_run(tmp_path: Path) -> None:
    sim = SCENARIOS["race-going-idle"].run().sim
    path = tmp_path / "run.jsonl"
    sim.trace.write_jsonl(path)
    assert _text(Trace.read_jsonl(path)) == _text(sim.trace)


def test_any_apps_trace_is_told_generically(tmp_path: Path, capsys: Any) -> None:
    from convex_sim import internal

    sim = new_sim()

    async def run(ctx: Any) -> Any:
        return await ctx.run_mutation(internal.s5_calls.add_and_call_failing, {"name": "a"})

    sim.run(run)
    path = tmp_path / "app.jsonl"
    sim.trace.write_jsonl(path)
    assert convex_sim_main(["trace", "show", str(path), "--width", "120"]) == 0
    out = capsys.readouterr().out
    assert "called add_and_call_failing" in out
    assert "→ returned caught" in out  # what the function returned, when no explainer knows it
    assert "inserted 2 in items" not in out  # the nested call that raised wrote nothing
    assert "scheduled" not in out
    assert "0 OCC conflicts" in out
    svg = tmp_path / "app.svg"
    assert convex_sim_main(["trace", "show", str(path), "--svg", str(svg)]) == 0
    assert svg.read_text(encoding="utf-8").startswith("<svg")


def test_trace_show_refuses_what_is_not_a_trace(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n", encoding="utf-8")
    assert convex_sim_main(["trace", "show", str(bad)]) == 2
    assert "not JSON lines" in capsys.readouterr().err
    assert convex_sim_main(["trace", "show", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    other = tmp_path / "other.jsonl"
    other.write_text('{"kind": "nonsense"}\n', encoding="utf-8")
    assert convex_sim_main(["trace", "show", str(other)]) == 2
    assert "not a trace" in capsys.readouterr().err


def test_a_stale_loop_run_is_told_as_superseded() -> None:
    import batch_worker

    run = SCENARIOS["drain"].run(events=1)
    sim = run.sim
    sim.run_function(
        batch_worker.loop.loop, {"name": "events", "generation": 1}, component="batchWorker"
    )
    told = _told(sim.trace).splitlines()
    assert told[-1].endswith("loop (gen 1): superseded (the state is at generation 13): exits")
