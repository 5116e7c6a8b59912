"""Without the ``testing`` extra, importing convex_sim.testing says which extra to install."""

from __future__ import annotations

import subprocess
import sys

WITHOUT_HYPOTHESIS = "import sys; sys.modules['hypothesis'] = None; "


def test_importing_the_testing_package_without_hypothesis_names_the_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_HYPOTHESIS + "import convex_sim.testing"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: convex_sim.testing needs hypothesis")
    assert "pip install 'convex-sim[testing]'" in last


def test_the_error_is_still_an_import_error_about_hypothesis() -> None:
    probe = (
        WITHOUT_HYPOTHESIS
        + "\ntry:\n    import convex_sim.testing.strategies\n"
        + "except ImportError as error:\n    print(error.name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "hypothesis"
