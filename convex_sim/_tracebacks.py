"""Which emulator frames a failing test's traceback shows.

A handler that raises inside ``sim.mutation`` travels up through the
simulator, the runtime, the executor and the transaction before it reaches
the test: some fifteen frames of machinery between the user's two lines,
most of a seventy-line report. They say nothing about the user's bug, so the
pytest plugin hides them, through pytest's own ``__tracebackhide__``
protocol (a module global that may be a callable deciding per failure).

Hiding is right only when the fault is the user's. When something inside
``convex_sim`` raises an exception that is not one of the emulator's own
errors (a ``KeyError``, say), the emulator is at fault and its frames are the
report, so they stay. ``pytest --full-trace`` shows every frame, always.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType
from typing import Any

_PACKAGE_ROOT = Path(__file__).resolve().parent


def _is_emulator_file(filename: str) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(_PACKAGE_ROOT)
    except (OSError, ValueError):
        return False


def _innermost(traceback: TracebackType | None) -> TracebackType | None:
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback


def fault_is_the_users(error: BaseException) -> bool:
    """True when the failure is not the emulator's own doing.

    That is the case when the innermost frame is outside ``convex_sim`` (the
    user's handler, test or a library it called) or the error is one the
    emulator raises on purpose to report a misuse (a ``ConvexSimError``) or
    a failed check of the user's (an error class with ``reports_user_fault``).
    """
    from convex_sim.errors import ConvexSimError

    if isinstance(error, ConvexSimError) or getattr(error, "reports_user_fault", False):
        return True
    innermost = _innermost(error.__traceback__)
    return innermost is None or not _is_emulator_file(innermost.tb_frame.f_code.co_filename)


def emulator_frames_hidden(excinfo: Any) -> bool:
    """pytest's ``__tracebackhide__`` callable: hide this emulator frame for this failure?"""
    error = getattr(excinfo, "value", None)
    return isinstance(error, BaseException) and fault_is_the_users(error)


def hide_emulator_frames() -> None:
    """Mark every loaded ``convex_sim`` module's frames as hidden in user-caused failures.

    Called before pytest renders a failure, so modules imported during the
    test are covered. Hypothesis and pytest look the name up in each frame's
    globals; the plugin module itself is left alone, as it is never on the
    stack of a test's failure.
    """
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "convex_sim" or name.startswith("convex_sim.")):
            continue
        namespace = vars(module)
        if "__tracebackhide__" not in namespace:
            namespace["__tracebackhide__"] = emulator_frames_hidden
