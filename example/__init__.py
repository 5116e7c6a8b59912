"""An app that uses the batch worker (spec §10): events summed into totals, and a demo.

``example.app`` is the app definition; ``example.example`` holds its functions
(as the original's ``convex/example.ts`` does); ``python -m example`` runs the
demo.
"""

from example.definition import make_app

app = make_app()

__all__ = ["app", "make_app"]
