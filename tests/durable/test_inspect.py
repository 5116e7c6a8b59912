"""A store file read from outside: SQLite views for the ecosystem's tools, and ``inspect``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from convex_sim import Simulator
from convex_sim.__main__ import main
from example import make_app
from example.example import add_event

SQLITE_UTILS = Path(sys.executable).with_name("sqlite-utils")


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich wraps to the terminal's width; a wide one keeps each value on one line."""
    monkeypatch.setenv("COLUMNS", "400")


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """The example app after three events and a drain: a total, a worker, job rows."""
    path = tmp_path / "db.sqlite"
    with Simulator(make_app(), store=path) as sim:
        for value in (1, 2, 3):
            sim.mutation(add_event, {"value": value})
        sim.finish_all_scheduled_functions()
        sim.mutation(add_event, {"value": 40})  # one left waiting
    return path


def test_every_app_and_component_table_is_a_view_named_as_the_app_names_it(
    store_path: Path,
) -> None:
    db = Database(store_path)
    try:
        views = set(db.view_names())
        assert {"events", "totals", "_scheduled_functions"} <= views
        assert {"batchWorker/workers", "batchWorker/workerState"} <= views
        assert {"batchWorker/_scheduled_functions"} <= views
        (total,) = db["totals"].rows
        assert (total["key"], total["total"], total["count"]) == ("all", 6.0, 3)
        assert isinstance(total["count"], int)  # an int64 is a number, not base64
        (worker,) = db["batchWorker/workers"].rows
        assert worker["name"] == "events"
        assert json.loads(worker["status"]) == {"kind": "running"}
        (event,) = db["events"].rows
        assert set(event) == {"_id", "_creationTime", "value"}
    finally:
        db.close()


@pytest.mark.skipif(not SQLITE_UTILS.exists(), reason="the sqlite-utils command is not installed")
def test_the_sqlite_utils_command_lists_and_reads_the_views(store_path: Path) -> None:
    def run(*argv: str) -> object:
        out = subprocess.run(
            [str(SQLITE_UTILS), *argv], capture_output=True, text=True, check=True
        ).stdout
        return json.loads(out)

    names = {row["view"] for row in run("views", str(store_path))}  # type: ignore[attr-defined]
    assert {"events", "totals", "batchWorker/workers"} <= names
    assert [row["value"] for row in run("rows", str(store_path), "events")] == [40.0]  # type: ignore[attr-defined]


def test_inspect_lists_tables_with_counts_and_works_beside_a_live_simulator(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Simulator(make_app(), store=store_path):
        assert main(["inspect", str(store_path)]) == 0
    out = capsys.readouterr().out
    for name, count in (("events", 1), ("totals", 1), ("batchWorker/workers", 1)):
        assert any(
            name in line and line.rstrip(" │").endswith(str(count)) for line in out.splitlines()
        )
    assert "virtual clock: 2024-01-01T" in out


def test_inspect_prints_documents_as_the_app_sees_them(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(store_path), "totals"]) == 0
    out = capsys.readouterr().out
    assert "6.0" in out
    assert "$integer" not in out
    assert main(["inspect", str(store_path), "batchWorker/workers", "--limit", "1"]) == 0
    assert '{"kind": "running"}' in capsys.readouterr().out
    assert main(["inspect", str(store_path), "batchWorker/workerState"]) == 0
    (row,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("│")]
    generation = row.split("│")[3].strip()
    assert generation.isdigit()  # an int64 shows as a plain number


def test_inspect_names_the_tables_when_one_is_unknown(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(store_path), "event"]) == 2
    out = capsys.readouterr().out
    assert "no table 'event'" in out
    assert "events" in out
    assert main(["inspect", str(store_path.with_name("missing.sqlite"))]) == 2
