"""Shared test setup: hypothesis profiles, registered once.

``ci`` (the default) is derandomized so every run explores the same examples
and a red build is reproducible; ``deep`` is for exploring locally:
``pytest --hypothesis-profile=deep``.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep",
    deadline=None,
    max_examples=5_000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")
