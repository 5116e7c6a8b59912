"""Run the outside project's tests against convex-sim installed from its wheel, as a user would.

The repository's own suite imports the source tree; a user's project gets
the package from a wheel, with the plugin registered by its entry point and
nothing of this repository on the path. This builds the wheel, installs it
with the ``testing`` extra into a fresh virtual environment, and then checks,
from the repository root and from an unrelated directory, that:

- the project's tests pass (``project/tests``: the plugin's fixtures, a
  hypothesis test with ``simulator_factory`` inside ``@given``, an
  exploration, a state machine);
- its deliberately failing tests (``project/failing``) fail, each printing
  one line that reruns it, and that those lines do rerun them: the
  exploration's and the drawn interleaving's ``schedule=[...]`` give the
  same second tally, and the machine's ``convex-sim replay:`` line replays
  with a byte-identical trace (exit status 0) from the project and, with
  ``--rootdir``, from elsewhere.

Run it with ``python tests/outside/check_installed.py``; it exits 1 with the
output of the step that went wrong.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
PROJECT = Path(__file__).resolve().parent / "project"


class CheckFailed(Exception):
    pass


def run(
    command: Sequence[str | Path], cwd: Path, expect: int | None = 0
) -> subprocess.CompletedProcess[str]:
    shown = " ".join(str(part) for part in command)
    print(f"+ (in {cwd}) {shown}", flush=True)
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=False
    )
    if expect is not None and done.returncode != expect:
        raise CheckFailed(
            f"{shown} exited {done.returncode}, expected {expect}\n{done.stdout}\n{done.stderr}"
        )
    return done


def only(pattern: str, text: str, what: str) -> str:
    found = re.findall(pattern, text, flags=re.MULTILINE)
    if len(set(found)) != 1:
        raise CheckFailed(f"expected one {what}, found {found!r} in:\n{text}")
    return str(found[0])


def install(work: Path) -> Path:
    """A fresh virtual environment with the wheel and its ``testing`` extra; its bin directory."""
    dist = work / "dist"
    # Built from a copy, so a build/ directory left in the checkout cannot add stale modules.
    source = work / "source"
    shutil.copytree(
        REPOSITORY,
        source,
        ignore=shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "tests"),
    )
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source], work)
    (wheel,) = dist.glob("convex_sim-*.whl")
    run([sys.executable, "-m", "venv", work / "venv"], work)
    bin_dir = work / "venv" / "bin"
    run([bin_dir / "pip", "install", "-q", f"{wheel}[testing]"], work)
    where = run(
        [bin_dir / "python", "-I", "-c", "import convex_sim; print(convex_sim.__file__)"], work
    )
    if "site-packages" not in where.stdout:
        raise CheckFailed(f"convex_sim was not imported from the installed wheel: {where.stdout}")
    return bin_dir


def passing_tests(bin_dir: Path, elsewhere: Path) -> None:
    for cwd, target in (
        (REPOSITORY, PROJECT.relative_to(REPOSITORY) / "tests"),
        (elsewhere, PROJECT / "tests"),
    ):
        done = run([bin_dir / "pytest", "-q", target], cwd)
        only(r"^(\d+ passed) in ", done.stdout, "summary of passed tests")
        if "failed" in done.stdout or "skipped" in done.stdout:
            raise CheckFailed(f"expected every test to pass:\n{done.stdout}")


def failing_tests(bin_dir: Path, elsewhere: Path) -> None:
    done = run([bin_dir / "pytest", "-q", "failing"], PROJECT, expect=1)
    if "3 failed" not in done.stdout:
        raise CheckFailed(f"expected the three deliberate failures:\n{done.stdout}")
    explored = only(r"replay it with schedule=(\[[\d, ]*\])", done.stdout, "exploration schedule")
    drawn = only(r"drawn interleaving: schedule=(\[[\d, ]*\])", done.stdout, "drawn schedule")
    line = only(r"(convex-sim replay: \{.*\})$", done.stdout, "machine replay line")
    if re.search(r"^\S*/convex_sim/\S+\.py:\d+: ", done.stdout, flags=re.MULTILINE):
        raise CheckFailed(f"the failures show the emulator's frames:\n{done.stdout}")

    for schedule in (explored, drawn):
        rerun = run(
            [
                bin_dir / "python",
                "-c",
                "from convex_sim import Simulator\n"
                "from tally import app, make_app\n"
                "sim = Simulator(make_app())\n"
                "pair = [(app.add_from_snapshot, {'name': 'n', 'by': b}) for b in (1, 2)]\n"
                f"sim.concurrently(pair, schedule={schedule})\n"
                "rows = sim.peek(lambda db: db.query('tallies').collect())\n"
                "print('tallies', len(rows))\n",
            ],
            PROJECT,
        )
        if rerun.stdout.strip() != "tallies 2":
            raise CheckFailed(f"schedule={schedule} did not rerun the failure: {rerun.stdout}")

    for cwd, extra in ((PROJECT, []), (elsewhere, ["--rootdir", PROJECT])):
        replayed = run(
            [bin_dir / "python", "-m", "convex_sim.testing", "replay", line, *extra], cwd
        )
        if "identical" not in replayed.stdout or "2 tallies named 'm'" not in replayed.stdout:
            raise CheckFailed(f"the replay did not show the same failure:\n{replayed.stdout}")


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="convex-sim-outside-") as scratch:
        work = Path(scratch)
        elsewhere = work / "elsewhere"
        elsewhere.mkdir()
        try:
            bin_dir = install(work)
            passing_tests(bin_dir, elsewhere)
            failing_tests(bin_dir, elsewhere)
        except CheckFailed as failure:
            print(f"outside project check FAILED: {failure}", file=sys.stderr)
            return 1
    print(f"outside project check passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
