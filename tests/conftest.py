"""Shared test setup: this repository's hypothesis profiles, with ``ci`` the default.

``ci`` is derandomized so every run explores the same examples and a red
build is reproducible; ``deep`` is for exploring locally:
``pytest --hypothesis-profile=deep``. Both come from
``convex_sim.testing.profiles`` (the ones the plugin offers every project);
here they are registered outright, replacing any of the same name, so this
suite's settings do not depend on what the installed hypothesis ships.
``outside/`` is a separate project, run by ``test_outside_project.py`` with
convex-sim installed from a wheel; it is not part of this suite's collection.
"""

from hypothesis import settings

from convex_sim.testing.profiles import PROFILES

collect_ignore = ["outside"]

for _name, _profile in PROFILES.items():
    settings.register_profile(_name, _profile)
settings.load_profile("ci")
