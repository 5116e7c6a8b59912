"""The ``@convex-dev/batch-worker`` component, written against ``convex_sim``.

Its contract is ``batch-worker-spec.md`` (kept beside the project's design
documents); the implementation arrives with the component itself.
"""
