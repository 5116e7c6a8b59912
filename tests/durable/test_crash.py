"""Kill a deployment with SIGKILL anywhere, reopen it with the same seed, lose nothing.

A child process (``crash_child.py``) runs the example app on a SQLite file
and dies at a seeded statement: inside a SQLite transaction, on its COMMIT,
or right after one, during the adds or during the drain. Each reopened file
must hold every acknowledged event exactly once (still waiting, or counted
into the total), nothing half-written, and carry on: more events, a drain,
and a total that counts every committed event exactly once.

Event ``i`` is worth ``2**i``, so the total's bits say exactly which events
were counted, and a count that disagrees with them means one was counted
twice. ``CONVEX_SIM_CRASH_TRIALS`` sets the number of trials (CI: 24).
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from convex_sim import Simulator
from example import make_app
from example.example import add_event, get_totals, worker_status

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[2]
EVENTS_BEFORE = 30
EVENTS_AFTER = 10
TRIALS = int(os.environ.get("CONVEX_SIM_CRASH_TRIALS", "24"))
KINDS = (
    ("add", "inside a transaction"),
    ("drain", "inside a transaction"),
    ("add", "on a COMMIT"),
    ("drain", "on a COMMIT"),
    ("add", "right after a commit"),
    ("drain", "right after a commit"),
)


def run_child(path: Path, ack: Path, kill_at: int, *, log: Path | None = None) -> int:
    argv = [sys.executable, str(CHILD), str(path), str(ack), str(EVENTS_BEFORE), "0"]
    argv.append(str(kill_at))
    if log is not None:
        argv.append(str(log))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, env=env, check=False, timeout=120).returncode


def classify(statements: list[tuple[int, str, str]]) -> dict[tuple[str, str], list[int]]:
    """Every statement of a full run, by the kind of kill point it is."""
    points: dict[tuple[str, str], list[int]] = {kind: [] for kind in KINDS}
    inside = False
    previous = ""
    for count, phase, word in statements:
        if phase in ("add", "drain"):
            if word == "COMMIT":
                points[(phase, "on a COMMIT")].append(count)
            elif inside:
                points[(phase, "inside a transaction")].append(count)
            if previous == "COMMIT":
                points[(phase, "right after a commit")].append(count)
        if word == "BEGIN":
            inside = True
        elif word in ("COMMIT", "ROLLBACK"):
            inside = False
        previous = word
    return points


@pytest.fixture(scope="module")
def kill_points(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], list[int]]:
    """One uninterrupted run, its statements logged: where a kill can land."""
    directory = tmp_path_factory.mktemp("dry-run")
    log = directory / "statements.jsonl"
    code = run_child(directory / "db.sqlite", directory / "acks", 0, log=log)
    assert code == 0
    import json

    statements = [tuple(json.loads(line)) for line in log.read_text().splitlines()]
    points = classify(statements)  # type: ignore[arg-type]
    for kind, found in points.items():
        assert found, f"the full run has no statement {kind}"
    return points


@dataclass
class Figures:
    trials: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    duplicated: int = 0
    overwritten: int = 0
    partial: int = 0
    unacknowledged_but_committed: int = 0


def bits(total: float) -> set[int]:
    whole = int(total)
    assert whole == total
    return {i for i in range(whole.bit_length()) if whole >> i & 1}


def waiting_events(sim: Simulator) -> dict[str, dict[str, Any]]:
    async def read(db: Any) -> list[dict[str, Any]]:
        return list(await db.query("events").collect())

    return {str(doc["_id"]): doc for doc in sim.peek(read)}


def check_reopened(path: Path, acked: set[int], figures: Figures) -> None:
    """Reopen, check nothing was lost or doubled, then carry on and check the totals."""
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Simulator(make_app(), store=path, seed=0) as sim:
        waiting = waiting_events(sim)
        for doc in waiting.values():
            if set(doc) != {"_id", "_creationTime", "value"} or len(bits(doc["value"])) != 1:
                figures.partial += 1
        totals = sim.query(get_totals) or {"total": 0.0, "count": 0}
        counted = bits(totals["total"])
        figures.duplicated += totals["count"] - len(counted)
        still = {next(iter(bits(doc["value"]))) for doc in waiting.values()}
        figures.duplicated += len(counted & still)
        committed = counted | still
        figures.lost += len(acked - committed)
        in_flight = {max(acked, default=-1) + 1}
        assert committed <= acked | in_flight, f"events that were never added: {committed}"
        figures.unacknowledged_but_committed += len(committed - acked)

        # Carry on: new events must not land on the ids of waiting ones.
        for i in range(EVENTS_BEFORE, EVENTS_BEFORE + EVENTS_AFTER):
            sim.mutation(add_event, {"value": float(2**i)})
            now_waiting = waiting_events(sim)
            figures.overwritten += sum(
                1 for doc_id, doc in waiting.items() if now_waiting.get(doc_id) != doc
            )
        sim.finish_all_scheduled_functions()
        assert waiting_events(sim) == {}
        assert sim.query(worker_status) == {"kind": "idle"}
        final = sim.query(get_totals)
        assert final is not None
        expected = committed | set(range(EVENTS_BEFORE, EVENTS_BEFORE + EVENTS_AFTER))
        assert bits(final["total"]) == expected
        assert final["count"] == len(expected)


def test_a_killed_deployment_reopens_with_nothing_lost_doubled_or_overwritten(
    tmp_path: Path,
    kill_points: dict[tuple[str, str], list[int]],
    durability_report: list[str],
) -> None:
    rng = random.Random(2026)
    figures = Figures()
    for trial in range(TRIALS):
        kind = KINDS[trial % len(KINDS)]
        kill_at = rng.choice(kill_points[kind])
        directory = tmp_path / f"trial{trial}"
        directory.mkdir()
        path, ack = directory / "db.sqlite", directory / "acks"
        code = run_child(path, ack, kill_at)
        assert code == -9, f"trial {trial} ({kind}, statement {kill_at}) was not killed: {code}"
        acked = {int(line) for line in ack.read_text().split()} if ack.exists() else set()
        check_reopened(path, acked, figures)
        figures.trials[f"{kind[0]}, {kind[1]}"] += 1
    durability_report.append(
        f"SIGKILL trials: {TRIALS} ("
        + "; ".join(f"{kind}: {n}" for kind, n in sorted(figures.trials.items()))
        + f"); lost {figures.lost}, duplicated {figures.duplicated}, overwritten "
        f"{figures.overwritten}, partial {figures.partial}; committed but not yet "
        f"acknowledged when killed: {figures.unacknowledged_but_committed}"
    )
    assert (figures.lost, figures.duplicated, figures.overwritten, figures.partial) == (0, 0, 0, 0)


def final_state(path: Path) -> tuple[Any, ...]:
    with Simulator(make_app(), store=path, seed=0) as sim:
        for i in range(EVENTS_BEFORE, EVENTS_BEFORE + EVENTS_AFTER):
            sim.mutation(add_event, {"value": float(2**i)})
        sim.finish_all_scheduled_functions()
        rows = sim.scheduled_functions("batchWorker")
        return sim.query(get_totals), sim.now, len(rows), sim.trace.digest()


def test_two_runs_killed_at_the_same_statement_carry_on_identically(
    tmp_path: Path, kill_points: dict[tuple[str, str], list[int]]
) -> None:
    kill_at = kill_points[("drain", "right after a commit")][3]
    outcomes = []
    for run in ("first", "second"):
        directory = tmp_path / run
        directory.mkdir()
        assert run_child(directory / "db.sqlite", directory / "acks", kill_at) == -9
        outcomes.append(final_state(directory / "db.sqlite"))
    assert outcomes[0] == outcomes[1]
