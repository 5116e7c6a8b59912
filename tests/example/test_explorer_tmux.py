"""The explorer in a real terminal (tmux, 160×50): it starts, steps, and quits cleanly.

The pilot tests drive the app inside the test process; this one runs
``python -m example explore`` as a user would, from another directory, and
types at it. Nothing here waits for time to pass: each wait is for the
terminal to show something, or for the program to exit, with a deadline.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from convex_sim.trace import Trace

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

DEADLINE_S = 60.0


class Terminal:
    def __init__(self, socket: str, session: str) -> None:
        self.base = ["tmux", "-L", socket]
        self.session = session

    def run(self, *args: str, timeout: float = DEADLINE_S) -> str:
        done = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=timeout, check=True
        )
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def wait_for_text(self, text: str) -> str:
        """Read the screen until ``text`` is on it (each read is a tmux round trip)."""
        give_up = time.monotonic() + DEADLINE_S
        while time.monotonic() < give_up:
            screen = self.screen()
            if text in screen:
                return screen
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")


def test_the_explorer_starts_steps_and_quits_in_a_real_terminal(tmp_path: Path) -> None:
    terminal = Terminal(f"convex-sim-{tmp_path.name}", "explorer")
    channel = f"explorer-done-{tmp_path.name}"
    command = (
        f"cd {tmp_path} && {sys.executable} -m example explore --scenario drain --events 3 "
        f"--trace-out run.jsonl; "
        f"echo explorer-exit=$?; tmux -L convex-sim-{tmp_path.name} wait-for -S {channel}; cat"
    )
    terminal.run("new-session", "-d", "-x", "160", "-y", "50", "-s", "explorer", command)
    try:
        terminal.wait_for_text("event 1 of")
        terminal.run("send-keys", "-t", "explorer", "e", "e", "m")
        screen = terminal.wait_for_text("clock t+0.200s")
        assert "_scheduled_functions" in screen
        assert "why" in screen
        terminal.run("send-keys", "-t", "explorer", "q")
        terminal.run("wait-for", channel)
        screen = terminal.screen()
        assert "explorer closed at event" in screen
        assert "explorer-exit=0" in screen
        assert "Traceback" not in screen
        saved = Trace.read_jsonl(tmp_path / "run.jsonl")
        assert f"of {len(saved)}" in screen  # the saved run is the one it stepped through
    finally:
        subprocess.run([*terminal.base, "kill-server"], capture_output=True, check=False)
