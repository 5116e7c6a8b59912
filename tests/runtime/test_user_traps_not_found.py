"""Function lookups a user gets wrong: a module run as a script registers under its
file's name, and a reference that finds nothing says what was looked up, what is
registered near it, and why (internal, a component's function, ``__main__``)."""

from __future__ import annotations

import importlib.machinery
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from convex_sim import (
    Simulator,
    api,
    components,
    define_app,
    internal,
    internal_mutation,
    mutation,
)
from convex_sim.functions import FunctionNotFoundError
from tests.apps import notes
from tests.apps.definitions import make_app

REPOSITORY = Path(__file__).resolve().parents[2]


def _said(error: BaseException) -> str:
    """The message and its notes: everything a traceback prints about the error."""
    return "\n".join([str(error), *getattr(error, "__notes__", ())])


def _fails(call: Any) -> FunctionNotFoundError:
    with pytest.raises(FunctionNotFoundError) as caught:
        call()
    error = caught.value
    # The lookup's own failure, not an implementation detail chained behind it.
    assert error.__cause__ is None
    assert error.__context__ is None
    return error


@mutation
async def _kick(ctx: Any, args: dict[str, Any]) -> Any:
    return await ctx.scheduler.run_after(5, "worker_script:slow_job", {})


@internal_mutation
async def _slow_job(ctx: Any, args: dict[str, Any]) -> None:
    return None


def _main_module(**attributes: Any) -> types.ModuleType:
    module = types.ModuleType("__main__")
    module.kick = _kick  # type: ignore[attr-defined]
    module.slow_job = _slow_job  # type: ignore[attr-defined]
    for name, value in attributes.items():
        setattr(module, name, value)
    return module


@pytest.mark.parametrize(
    "attributes",
    [
        {"__file__": "/somewhere/worker_script.py", "__spec__": None},  # python worker_script.py
        {  # python -m jobs.worker_script
            "__file__": "/somewhere/jobs/worker_script.py",
            "__spec__": importlib.machinery.ModuleSpec("jobs.worker_script", None),
        },
    ],
)
def test_a_module_run_as_a_script_registers_under_its_file_name(
    attributes: dict[str, Any],
) -> None:
    sim = Simulator(define_app(modules=[_main_module(**attributes)]))
    job = sim.mutation("worker_script:kick", {})
    (row,) = sim.scheduled_functions()
    assert row["_id"] == job
    assert row["name"] == "worker_script.js:slow_job"
    sim.finish_all_scheduled_functions()
    assert sim.scheduled_functions()[0]["state"] == {"kind": "success"}


def test_a_script_run_by_python_finds_its_own_functions_by_name(tmp_path: Path) -> None:
    script = tmp_path / "readme_worker.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from typing import Any
            from convex_sim import Simulator, define_app, internal, internal_mutation, mutation

            @internal_mutation
            async def slow_job(ctx: Any, args: dict[str, Any]) -> None:
                await ctx.db.insert("done", {"ok": True})

            @mutation
            async def kick(ctx: Any, args: dict[str, Any]) -> Any:
                return await ctx.scheduler.run_after(0, internal.readme_worker.slow_job, {})

            sim = Simulator(define_app(modules=[sys.modules[__name__]]))
            sim.mutation("readme_worker:kick", {})
            print(sim.scheduled_functions()[0]["name"])
            sim.finish_all_scheduled_functions()
            print(sim.scheduled_functions()[0]["state"]["kind"])
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPOSITORY), "PATH": ""},
        check=False,
    )
    assert done.stderr == ""
    assert done.stdout.split() == ["readme_worker.js:slow_job", "success"]


def test_a_module_with_no_file_keeps_main_and_the_error_says_why() -> None:
    sim = Simulator(define_app(modules=[_main_module()]))
    error = _fails(lambda: sim.mutation("worker_script:kick", {}))
    said = _said(error)
    assert str(error).startswith("Could not find function for 'worker_script:kick' in app")
    assert "'__main__:...'" in said
    assert "no file to take a name from" in said


def test_a_misspelt_path_suggests_the_registered_one() -> None:
    sim = Simulator(make_app())
    error = _fails(lambda: sim.query("counter:list_mesages", {}))
    assert str(error) == "Could not find function for 'counter:list_mesages' in app"
    assert "Did you mean 'counter:list_messages'?" in _said(error)


def test_a_client_call_of_an_internal_function_points_to_run_function() -> None:
    sim = Simulator(make_app())
    for reference in (internal.counter.secret, api.counter.secret, "counter:secret"):
        error = _fails(lambda reference=reference: sim.query(reference, {}))
        assert str(error) == "Could not find public function for 'counter:secret'."
        assert "'counter:secret' is an internal function" in _said(error)
        assert "sim.run_function" in _said(error)
    assert sim.run_function(internal.counter.secret, {}) == "internal"


@pytest.mark.parametrize(
    "reference", [notes.count, "notes:count", components.notes.notes.count], ids=str
)
def test_a_client_call_of_a_component_function_explains_components(reference: Any) -> None:
    sim = Simulator(make_app())
    said = _said(_fails(lambda: sim.query(reference, {})))
    assert "component mounted as 'notes'" in said
    assert "app.use(...)" in said
    assert "components.notes.notes.count" in said
    assert "list its module in" not in said


def test_server_code_reaching_a_component_internal_function_says_it_is_internal() -> None:
    sim = Simulator(make_app())

    async def by_definition(ctx: Any) -> Any:
        return await ctx.run_query(notes.hidden, {})

    async def by_reference(ctx: Any) -> Any:
        return await ctx.run_query(components.notes.notes.hidden, {})

    for run in (by_definition, by_reference):
        said = _said(_fails(lambda run=run: sim.run(run)))
        assert "internal function of the component mounted as 'notes'" in said
        assert "list its module in" not in said


def test_a_function_no_app_registers_is_told_to_list_its_module() -> None:
    sim = Simulator(make_app())
    said = _said(_fails(lambda: sim.mutation(_kick, {})))
    assert "no app or component registers it" in said
    assert "define_app(modules=[...])" in said


def test_an_unknown_component_name_suggests_the_mounted_one() -> None:
    sim = Simulator(make_app())

    async def run(ctx: Any) -> Any:
        return await ctx.run_query(components.note.notes.count, {})

    said = _said(_fails(lambda: sim.run(run)))
    assert "app mounts no component named 'note'" in said
    assert "Did you mean 'notes'?" in said
