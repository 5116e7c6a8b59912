"""The outside project passes, and fails where it should, against the installed wheel.

``tests/outside/check_installed.py`` does the work (see its docstring): it
builds the wheel, installs it into a fresh virtual environment, and runs the
project's tests from the repository root and from another directory, then its
deliberate failures and their reproducers. This runs it as part of the suite,
so CI runs it through the README's test command.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECK = Path(__file__).parent / "outside" / "check_installed.py"


def test_the_outside_project_runs_against_the_installed_wheel() -> None:
    done = subprocess.run(
        [sys.executable, str(CHECK)], capture_output=True, text=True, check=False, timeout=900
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "outside project check passed" in done.stdout
    # Both places it must work from, and both reproducer kinds, were exercised.
    assert f"(in {CHECK.parents[2]}) " in done.stdout
    assert "/elsewhere) " in done.stdout
    assert done.stdout.count("-m convex_sim.testing replay") == 2
