"""A process that runs the example app on a SQLite file and dies at a chosen statement.

    python crash_child.py PATH ACK_LOG EVENTS SEED KILL_AT [STATEMENT_LOG]

It adds ``EVENTS`` events (event ``i`` has the value ``2**i``, so any sum of
distinct events names exactly which ones it holds), each its own client
mutation, appending ``i`` to ``ACK_LOG`` and fsyncing once the mutation
returned (it is acknowledged), then drains the worker. Every SQL statement
the store runs is counted; when the count reaches ``KILL_AT`` (> 0) the
process sends itself SIGKILL before that statement runs, so it dies with no
chance to clean up, wherever that is: inside a SQLite transaction, on its
COMMIT, or between two. ``STATEMENT_LOG`` (for a run with ``KILL_AT`` 0)
gets one JSON line per statement, ``[count, phase, first word]``, from which
the test picks its kill points.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any


def main(argv: list[str]) -> int:
    path, ack_path, events, seed, kill_at = argv[:5]
    statement_log = open(argv[5], "w") if len(argv) > 5 else None  # noqa: SIM115
    kill = int(kill_at)
    count = 0
    phase = "open"

    def on_statement(statement: str) -> None:
        nonlocal count
        count += 1
        if statement_log is not None:
            word = statement.split(None, 1)[0].upper() if statement.strip() else ""
            statement_log.write(json.dumps([count, phase, word]) + "\n")
        if count == kill:
            os.kill(os.getpid(), signal.SIGKILL)

    import sqlite_utils.db

    connect = sqlite_utils.db.sqlite3.connect

    def traced_connect(*args: Any, **kwargs: Any) -> Any:
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(on_statement)
        return connection

    sqlite_utils.db.sqlite3.connect = traced_connect  # type: ignore[assignment]

    from convex_sim import Simulator
    from example import make_app
    from example.example import add_event

    sim = Simulator(make_app(), store=path, seed=int(seed))
    ack = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    phase = "add"
    for i in range(int(events)):
        sim.mutation(add_event, {"value": float(2**i)})
        os.write(ack, f"{i}\n".encode())
        os.fsync(ack)
    phase = "drain"
    sim.finish_all_scheduled_functions()
    phase = "close"
    sim.close()
    if statement_log is not None:
        statement_log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
