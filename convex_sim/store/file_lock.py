"""One writer per store file: an operating-system lock beside the database.

Why the OS and not a row in the database: a process killed with SIGKILL
cannot clean up after itself, and a lock it left behind in a row would keep
the file locked forever. An ``flock`` dies with the process that held it.

Why a separate ``.lock`` file and not the database itself: SQLite locks the
database with POSIX record locks, and POSIX drops every such lock a process
holds on a file as soon as the process closes *any* descriptor of it — so a
descriptor of our own on the database file could silently unlock SQLite.
"""

from __future__ import annotations

import os
from pathlib import Path

from convex_sim.store.base import StoreInUseError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, as SQLite alone gives
    fcntl = None  # type: ignore[assignment]


class FileLock:
    """An exclusive, non-blocking lock on ``<database>.lock``, held until :meth:`release`."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise StoreInUseError(
                    f"{database} is already open for writing (by {holder}); a store has one "
                    "writer at a time. Close the other Simulator (sim.close()), or let its "
                    "process exit; to look at the file meanwhile, use "
                    f"`python -m convex_sim inspect {database}`"
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()}".encode())
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock

    def __del__(self) -> None:
        self.release()
