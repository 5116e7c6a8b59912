"""Fail early, and say how to fix it, when the ``testing`` extra is not installed.

Every strategy and the state machine build on hypothesis; without it the
first import deep inside would be a bare ``No module named 'hypothesis'``,
which does not say that convex-sim has an extra for it.
"""

try:
    import hypothesis  # noqa: F401
except ModuleNotFoundError as missing:
    if missing.name != "hypothesis":
        raise
    raise ModuleNotFoundError(
        "convex_sim.testing needs hypothesis, which convex-sim's 'testing' extra installs: "
        "pip install 'convex-sim[testing]'",
        name="hypothesis",
    ) from None
