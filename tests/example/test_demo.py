"""The demo runs, shows the loop's steps, and ends with the right totals."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from rich.console import Console

from convex_sim.trace import Conflict, Trace
from example.demo import main, run_demo
from example.scenarios import SCENARIOS


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """``main`` prints at the terminal's width: wide enough that no line looked for wraps."""
    monkeypatch.setenv("COLUMNS", "200")


def test_a_thousand_events_total_500500() -> None:
    output = io.StringIO()
    result = run_demo(events=1000, console=Console(file=output, width=120))
    assert (result.total, result.count) == (500500, 1000)
    assert result.status == {"kind": "idle"}
    assert result.executions["process_batch"] == 100  # batches of 10
    text = output.getvalue()
    assert "total 500500, count 1000" in text
    assert "add_event ×999" in text  # the pings after the first fold into one line
    assert "loop ×100" in text


def test_show_prints_only_the_first_lines_and_says_how_many_it_left_out() -> None:
    output = io.StringIO()
    result = run_demo(events=25, show=2, console=Console(file=output, width=100))
    assert result.story is not None
    hidden = len(result.story.lines) - 2
    assert f"… {hidden} more lines not shown (--show)" in output.getvalue()
    assert "goes idle" not in output.getvalue()


def test_the_steps_of_the_loop_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--events", "3", "--log-level", "DEBUG"]) == 0
    text = capsys.readouterr().out
    assert "add_event (value=1): inserted events; ping: creates worker 'events'" in text
    assert "work → process_batch → next run at once (debounce)" in text
    assert "no work, cooling down → next run in 200 ms (poll)" in text
    assert "confirming read" in text
    assert "status of 'events': none → running" in text
    assert "status of 'events': running → idle" in text
    assert "log.debug" in text
    assert "total 6, count 3" in text


def test_help_lists_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for name in SCENARIOS:
        assert name in text
    assert "explore" in text


def test_the_demo_saves_its_trace_and_a_picture(tmp_path: Path) -> None:
    trace_file, picture = tmp_path / "run.jsonl", tmp_path / "run.svg"
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(
            ["--scenario", "race-going-idle", "--trace-out", str(trace_file), "--svg", str(picture)]
        )
    assert code == 0
    saved = Trace.read_jsonl(trace_file)
    assert saved.of(Conflict), "the race's conflict is in the saved trace"
    svg = picture.read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    assert "conflict" in svg


def test_the_demo_shows_a_race_tests_run_from_its_replay_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.races.sabotage import sabotaged
    from tests.races.test_sabotage import run_the_machine

    with sabotaged("stop_keeps_the_generation"):
        with pytest.raises(AssertionError) as caught:
            run_the_machine()
        (line,) = [n for n in caught.value.__notes__ if n.startswith("convex-sim replay:")]
        capsys.readouterr()
        assert main(["--replay", line]) == 0
    text = capsys.readouterr().out
    assert "trace identical to the recorded run" in text
    assert "failed:" in text
    assert "carry the state's generation" in text
    assert "stop_worker" in text
    assert main(["--replay", "not a line"]) == 2
    assert "cannot replay" in capsys.readouterr().out


def test_a_log_level_that_is_not_one_is_refused_with_the_levels_listed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--events", "1", "--log-level", "NOPE"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'NOPE'" in error
    assert "DEBUG" in error
    assert "ERROR" in error
    assert "Traceback" not in error


def test_the_log_level_comes_from_the_environment_unless_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert main(["--events", "2"]) == 0
    assert "log.debug" in capsys.readouterr().out
    assert main(["--events", "2", "--log-level", "ERROR"]) == 0
    assert "log.debug" not in capsys.readouterr().out
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(SystemExit):
        main(["--events", "2"])
    assert "LOG_LEVEL='LOUD' in the environment is not a level" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("stop", "code", "said"),
    [(EOFError, 0, "stopped (end of input)"), (KeyboardInterrupt, 130, "stopped")],
)
def test_leaving_a_stepped_run_early_is_not_a_crash(
    stop: type[BaseException],
    code: int,
    said: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = iter(["", ""])

    def answer(prompt: str) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise stop from None

    monkeypatch.setattr("builtins.input", answer)
    assert main(["--events", "3", "--step"]) == code
    out = capsys.readouterr().out
    assert out.rstrip().endswith(said)
    assert "t+0.200s" in out  # the second moment was printed after the first Enter
    assert "goes idle" not in out  # it stopped where it was asked to, before the end
    assert "total" not in out
