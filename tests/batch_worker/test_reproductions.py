"""Each failure a later release fixed, reproduced on 0.2.0 and shown fixed on 0.3.6.

The figures come from ``example.reproductions`` (the demo's scenarios of the
same names) and are asserted for both releases, so a change to either
release's behaviour shows up here; the terminal summary prints them side by
side.
"""

from __future__ import annotations

from typing import Any

import pytest

from example.reproductions import REPRODUCTIONS, side_by_side, stuck_runner


def _report(report: list[str], name: str, rows: list[tuple[str, Any, Any]]) -> None:
    for figure, old, new in rows:
        report.append(f"{name:15} {figure:52} {old!s:>22} | {new!s}")


def test_release_figures_are_printed_for_every_reproduction(releases_report: list[str]) -> None:
    for name in REPRODUCTIONS:
        rows = side_by_side(name)
        assert rows, name
        _report(releases_report, name, rows)


def test_a_an_occ_storm_of_status_flips_becomes_a_fresh_cooldown_window() -> None:
    _, old = REPRODUCTIONS["occ-storm"]("0.2.0")
    _, new = REPRODUCTIONS["occ-storm"]("0.3.6")
    # Every ping wakes the worker and every loop run goes straight back to idle:
    # the twin that collided retries after that run, and wakes it again.
    assert old["status changes"] == 2 * old["pings"] == 60
    assert old["loop runs"] == old["confirming reads"] == old["pings"]
    assert old["ping conflicts"] == old["ping retries"] == 15
    assert new["status changes"] == 2  # woken once, idle once after the cooldown
    assert new["confirming reads"] == 1
    assert new["ping conflicts"] == new["ping retries"] == 1


@pytest.mark.parametrize(("lag", "monitor_runs"), [(None, 1), (10_000, 6)])
def test_b_a_stuck_runner_storms_on_0_2_0_and_is_restarted_on_0_3_6(
    lag: float | None, monitor_runs: int, releases_report: list[str]
) -> None:
    _, old = stuck_runner("0.2.0", monitor_lag_ms=lag)
    _, new = stuck_runner("0.3.6", monitor_lag_ms=lag)
    assert old["cut off at the cap"]
    assert old["tasks left"] == 1
    assert old["clock stopped at ms"] == (lag or 60_000)  # frozen at S + lag
    assert new["stuck restart at ms"] == 60_000  # the first firing at or after S + 60 s
    assert new["monitor runs"] == monitor_runs
    assert new["tasks left"] == 0
    _report(releases_report, f"stuck lag={lag}", [(k, old[k], new[k]) for k in old])


def test_c_a_ping_no_longer_postpones_a_sooner_run() -> None:
    _, old = REPRODUCTIONS["ping-postpones"]("0.2.0")
    _, new = REPRODUCTIONS["ping-postpones"]("0.3.6")
    key = "debounce 20 s: next run, ms after the wait began"
    assert (old[key], new[key]) == (20_001, 10_000)
    assert old["debounce 20 s: generation bumped"]
    assert not new["debounce 20 s: generation bumped"]
    assert old["debounce 0: status after the ping"] == "idle"
    assert old["debounce 0: status after a second ping"] == "idle"
    assert new["debounce 0: status after the ping"] == "running"
    assert new["debounce 0: lastWorkTs, ms after the wait began"] == 1_500


def test_d_the_component_keeps_the_cursor() -> None:
    _, old = REPRODUCTIONS["cursor"]("0.2.0")
    _, new = REPRODUCTIONS["cursor"]("0.3.6")
    assert not old["settled"]
    assert old["first batches"] == [[0, 1], [0, 1], [0, 1]]
    assert new["settled"]
    assert new["first batches"] == [[0, 1], [2, 3]]
    assert new["stored cursor"] == 4


def test_e_kick_unwedges_a_worker_whose_jobs_were_canceled_by_hand() -> None:
    _, old = REPRODUCTIONS["wedged"]("0.2.0")
    _, new = REPRODUCTIONS["wedged"]("0.3.6")
    assert old["tasks left after 10 minutes"] == new["tasks left after 10 minutes"] == 2
    assert not old["lib.kick exists"]
    assert new["after kick: generation"] == "1 → 2"
    assert new["tasks left a minute after kick"] == 0
