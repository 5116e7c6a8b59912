"""Per-transaction limits and the errors that name them (convex-semantics.md §10).

Why enforce them in an emulator: code that passes here and then fails in
production on "too many documents read" is exactly the surprise a test
should catch. Each error carries the backend's short code.
"""

from __future__ import annotations

from typing import Final

from convex_sim.errors import ConvexSimError

MAX_DOCUMENTS_SCANNED: Final = 32_000
MAX_BYTES_READ: Final = 16 * 1024 * 1024
MAX_READ_INTERVALS: Final = 4_096
MAX_DOCUMENTS_WRITTEN: Final = 16_000
MAX_BYTES_WRITTEN: Final = 16 * 1024 * 1024
MAX_FUNCTIONS_SCHEDULED: Final = 1_000
MAX_SCHEDULED_ARGS_BYTES: Final = 16 * 1024 * 1024
MAX_FUNCTION_ARGS_BYTES: Final = 16 * 1024 * 1024
MAX_CALL_DEPTH: Final = 8


class LimitExceededError(ConvexSimError):
    """A transaction or call went past one of Convex's limits; ``code`` is the backend's."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"{code}: {message}")
