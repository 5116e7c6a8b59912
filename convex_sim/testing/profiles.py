"""The hypothesis settings profiles the docs recommend: ``ci`` and ``deep``.

``pytest --hypothesis-profile=deep`` must work in any project that installed
convex-sim, not only in this repository, so the pytest plugin registers these
at start-up (before hypothesis' own plugin loads the profile the command line
names). It registers a profile only under a name nobody has taken: a project
that defines its own ``deep`` (in its conftest, say) keeps it, and hypothesis'
built-in ``ci`` (the same settings, in recent versions) stays as it is.
Registering loads nothing: the active profile is still whatever hypothesis,
the project or the command line chose.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

PROFILES: dict[str, settings] = {
    # Derandomized, so every run explores the same examples and a red build reproduces.
    "ci": settings(
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    ),
    # For exploring locally: fifty times the default number of examples.
    "deep": settings(
        deadline=None,
        max_examples=5_000,
        suppress_health_check=[HealthCheck.too_slow],
    ),
}


def register_missing_profiles() -> list[str]:
    """Register each of :data:`PROFILES` whose name is free; return the names registered."""
    registered = []
    for name, profile in PROFILES.items():
        try:
            settings.get_profile(name)
        except InvalidArgument:
            settings.register_profile(name, profile)
            registered.append(name)
    return registered
