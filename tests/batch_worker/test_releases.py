"""Release 0.3.6's rules one by one (batch-worker-evolution.md A–I), next to 0.2.0's.

Each test names its section; where a rule changes an outcome, both releases
are run and both outcomes asserted, so switching either rule off fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

import batch_worker
from batch_worker.lib import start_worker
from batch_worker.scheduling import continue_running
from convex_sim import Simulator, components
from convex_sim.functions import FunctionNotFoundError
from convex_sim.trace import ExecutionStarted
from example import example, lab, make_app
from tests.batch_worker.support import COMPONENT, must_state, run_in_component, with_worker

RELEASES = ("0.2.0", "0.3.6")


# -- mounting ------------------------------------------------------------------------------


def test_release_0_2_0_is_the_component_and_an_unknown_release_names_the_known_ones() -> None:
    assert batch_worker.release("0.2.0") is batch_worker.component
    assert batch_worker.release("0.3.6").constants["release"] == "0.3.6"
    with pytest.raises(batch_worker.UnknownReleaseError, match=r"'0\.3\.0'.*0\.2\.0, 0\.3\.6"):
        batch_worker.release("0.3.0")


@pytest.mark.parametrize("release", RELEASES)
def test_only_0_3_6_has_kick_and_the_cursor_functions(release: str) -> None:
    sim = Simulator(make_app(release=release))
    sim.mutation(example.add_event, {"value": 1})

    async def kick(ctx: Any) -> None:
        await ctx.run_mutation(components.batchWorker.lib.kick, {"name": "events"})

    if release == "0.2.0":
        with pytest.raises(FunctionNotFoundError, match="kick"):
            sim.run(kick)
    else:
        sim.run(kick)


# -- A: a fresh cooldown window ---------------------------------------------------------------


@pytest.mark.parametrize("release", RELEASES)
def test_a_continue_running_from_idle_opens_a_cooldown_window(release: str) -> None:
    sim = Simulator(lab.make_lab_app(release=release))
    sim.mutation(lab.add_task, {"value": 1})
    sim.advance(10_000)  # idle; lastWorkTs is when the task was processed
    before = must_state(sim, "tasks")["lastWorkTs"]

    async def go(ctx: Any, worker: dict[str, Any]) -> None:
        await continue_running(ctx, worker, 0)

    with_worker(sim, go, name="tasks")
    after = must_state(sim, "tasks")["lastWorkTs"]
    assert after == (sim.now if release == "0.3.6" else before)


# -- D: the cursor's functions and its other cases ------------------------------------------


def _lab_sim() -> Simulator:
    return Simulator(lab.make_lab_app(release="0.3.6"))


def _call(sim: Simulator, function: str, args: dict[str, Any]) -> Any:
    async def call(ctx: Any) -> Any:
        reference = getattr(components.batchWorker.lib, function)
        if function == "get_cursor":
            return await ctx.run_query(reference, args)
        return await ctx.run_mutation(reference, args)

    return sim.run(call)


def test_d_set_cursor_then_clearing_it_and_get_cursor_creates_nothing() -> None:
    sim = _lab_sim()
    assert _call(sim, "get_cursor", {"name": "marks"}) is None
    with pytest.raises(batch_worker.UnknownWorkerError, match=r'no worker named "marks"\. Ping'):
        _call(sim, "set_cursor", {"name": "marks", "cursor": 99})
    sim.mutation(lab.add_marks, {"count": 0})
    _call(sim, "set_cursor", {"name": "marks", "cursor": 99})
    assert _call(sim, "get_cursor", {"name": "marks"}) == 99
    _call(sim, "set_cursor", {"name": "marks"})
    assert _call(sim, "get_cursor", {"name": "marks"}) is None
    assert "cursor" not in must_state(sim, "marks")


def test_d_a_seeded_cursor_is_where_the_scan_starts() -> None:
    sim = _lab_sim()
    sim.mutation(lab.add_marks, {"count": 0})
    sim.advance(10_000)
    _call(sim, "set_cursor", {"name": "marks", "cursor": 2})
    sim.mutation(lab.add_marks, {"count": 5})
    sim.advance(10_000)
    assert sim.query(lab.handed_out) == [[2, 3], [4]]
    assert _call(sim, "get_cursor", {"name": "marks"}) == 5


def test_d_a_failed_batch_keeps_its_cursor_and_is_handed_out_again() -> None:
    sim = _lab_sim()
    sim.faults.fail_next(lab.do_marks)
    sim.mutation(lab.add_marks, {"count": 3})
    sim.advance(5 * 60_000)  # the failed run rolls back; the monitor restarts the loop
    assert sim.query(lab.handed_out) == [[0, 1], [2]]
    assert _call(sim, "get_cursor", {"name": "marks"}) == 3


# -- E: kick ----------------------------------------------------------------------------------


def test_e_kick_resumes_a_stopped_worker_without_touching_the_cooldown() -> None:
    sim = Simulator(make_app(release="0.3.6"))
    sim.mutation(example.add_event, {"value": 1})
    sim.advance(10_000)
    sim.mutation(example.stop_worker)
    before = must_state(sim, "events")

    async def kick(ctx: Any) -> None:
        await ctx.run_mutation(components.batchWorker.lib.kick, {"name": "events"})

    sim.run(kick)
    after = must_state(sim, "events")
    assert sim.query(example.worker_status) == {"kind": "running"}
    assert after["generation"] == before["generation"] + 1
    assert after["lastWorkTs"] == before["lastWorkTs"]
    assert after["monitorRunAtMs"] == sim.now + batch_worker.MONITOR_LAG_MS


# -- F: a recording logger --------------------------------------------------------------------


def test_f_start_on_a_running_worker_logs_one_debug_line_to_a_recording_logger() -> None:
    sim = Simulator(make_app(release="0.3.6"))
    sim.mutation(example.add_event, {"value": 1})
    log = batch_worker.RecordingLogger()

    async def call(ctx: Any) -> None:
        await start_worker(ctx, "events", log)

    run_in_component(sim, call)
    assert len(log.entries) == 1
    assert log.entries[0]["level"] == "debug"
    assert "[start" in log.entries[0]["args"][0]


@pytest.mark.parametrize(("release", "fails"), [("0.2.0", False), ("0.3.6", True)])
def test_f_an_invalid_log_level_fails_status_only_on_0_3_6(release: str, fails: bool) -> None:
    app = make_app(log_level="LOUD", release=release)
    sim = Simulator(app)

    async def status(ctx: Any) -> Any:
        return await ctx.run_query(components.batchWorker.lib.status, {"name": "events"})

    if fails:
        with pytest.raises(batch_worker.logging.InvalidLogLevelError):
            sim.run(status)
    else:
        assert sim.run(status) is None


# -- G: both spellings of the snapshot read -------------------------------------------------


def test_g_both_releases_read_the_same_snapshot_with_the_same_trace() -> None:
    def run(release: str) -> list[Any]:
        sim = Simulator(make_app(release=release))
        for value in range(7):
            sim.mutation(example.add_event, {"value": value})
        sim.advance(5_000)
        return [
            (e.function, e.snapshot) for e in sim.trace.of(ExecutionStarted) if e.parent
        ]

    assert run("0.2.0") == run("0.3.6")


# -- I: the settled scenarios agree but for lastWorkTs after start ------------------------


def _history(sim: Simulator) -> list[tuple[Any, ...]]:
    return [
        (row["name"], row["scheduledTime"], row["state"]["kind"], repr(row["args"]))
        for row in sim.scheduled_functions(component=COMPONENT)
    ]


def _settle(sim: Simulator) -> None:
    sim.advance(10 * 60_000)


def _single_event(sim: Simulator) -> None:
    sim.mutation(example.add_event, {"value": 1})


def _batch_25(sim: Simulator) -> None:
    for value in range(25):
        sim.mutation(example.add_event, {"value": value})


def _rerun_after_idle(sim: Simulator) -> None:
    sim.mutation(example.add_event, {"value": 1})
    _settle(sim)
    sim.mutation(example.add_event, {"value": 2})


def _stop_then_start(sim: Simulator) -> None:
    sim.mutation(example.add_event, {"value": 1})
    sim.mutation(example.stop_worker)
    sim.advance(60_000)
    sim.mutation(example.start_worker)


def _throw_once(sim: Simulator, lag: float | None = None) -> None:
    sim.faults.fail_next(example.process_batch)
    config = None if lag is None else {"monitorLagMs": lag}
    sim.mutation(example.add_event, {"value": 1, **({"config": config} if config else {})})


SCENARIOS = {
    "single_event": _single_event,
    "batch_25": _batch_25,
    "idle_after_drain": _single_event,
    "rerun_after_idle": _rerun_after_idle,
    "stop_then_start": _stop_then_start,
    "throw_once": _throw_once,
    "throw_once_monitorLag10s": lambda sim: _throw_once(sim, 10_000),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_i_settled_scenarios_have_the_same_scheduled_functions_on_both_releases(
    scenario: str,
) -> None:
    runs = {}
    for release in RELEASES:
        sim = Simulator(make_app(release=release))
        SCENARIOS[scenario](sim)
        after_start = must_state(sim, "events")["lastWorkTs"]
        _settle(sim)
        runs[release] = (_history(sim), after_start, must_state(sim, "events"))
    (old_history, old_start, old_state), (new_history, new_start, new_state) = runs.values()
    assert old_history == new_history
    assert old_state["generation"] == new_state["generation"]
    if scenario == "stop_then_start":
        # A: start's wake (60 s after the first ping) opens a window, now + debounceMs,
        # on 0.3.6 only; the original's recorded runs show 0 and 60 001 (their clock
        # starts at 1).
        assert (old_start, new_start) == (0, sim.opened_at_ms + 60_000)
    # Settled, the first batch after any wake has set lastWorkTs to its own time.
    assert old_state["lastWorkTs"] == new_state["lastWorkTs"]
