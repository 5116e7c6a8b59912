"""convex-semantics.md §7, end to end: component tables, reachability and env vars.

The app (``tests/apps/s7_host.py``) and the component (``tests/apps/s7_widgets.py``)
both have a table named ``items``; the component is mounted twice, as
``widgets`` and ``gadgets``, with different env values.
"""

from __future__ import annotations

from typing import Any

import pytest

from convex_sim import (
    ConvexError,
    Simulator,
    components,
    define_app,
    define_component,
)
from convex_sim.components import ComponentError
from convex_sim.functions import FunctionNotFoundError
from tests.apps import s7_host, s7_widgets

APP_ENV = {"APP_ONLY": "app-secret"}
ALWAYS_VISIBLE = {"CONVEX_CLOUD_URL", "CONVEX_SITE_URL"}


def widgets_component() -> Any:
    return define_component("widgets", modules=[s7_widgets], env=["LOG_LEVEL", "UNSET_VAR"])


def make_sim() -> Simulator:
    app = define_app(modules=[s7_host], env=APP_ENV)
    component = widgets_component()
    app.use(component, name="widgets", env={"LOG_LEVEL": "DEBUG"})
    app.use(component, name="gadgets", env={"LOG_LEVEL": "INFO"})
    return Simulator(app)


async def _item_texts(ctx: Any) -> list[str]:
    return sorted(row["text"] for row in await ctx.db.query("items").collect())


async def _env(ctx: Any) -> dict[str, str]:
    return dict(ctx.env)


# -- §7.1 isolation -----------------------------------------------------------------------


def test_7_1_component_tables_are_isolated() -> None:
    sim = make_sim()
    app_id = sim.mutation(s7_host.add_item, {"text": "app-row"})
    widget_id = sim.mutation(s7_host.add_widget, {"text": "widget-row"})
    assert isinstance(widget_id, str)

    # Same table name, different rows.
    assert sim.query(s7_host.texts) == ["app-row"]
    assert sim.query(s7_host.widget_texts) == ["widget-row"]
    assert sim.run(_item_texts) == ["app-row"]
    assert sim.run(_item_texts, component="widgets") == ["widget-row"]
    # Another instance of the same component has its own, empty, table.
    assert sim.run(_item_texts, component="gadgets") == []

    # Each side reads its own documents by id...
    assert sim.query(s7_host.get_by_id, {"id": app_id})["text"] == "app-row"
    assert sim.query(s7_host.widget_get, {"id": widget_id})["text"] == "widget-row"
    # ...and not the other's: the id names no table of theirs.
    assert sim.query(s7_host.get_by_id, {"id": widget_id}) is None
    assert sim.query(s7_host.widget_get, {"id": app_id}) is None
    assert sim.query(s7_host.normalize, {"id": widget_id}) is None
    assert sim.query(s7_host.widget_normalize, {"id": app_id}) is None
    assert sim.query(s7_host.normalize, {"id": app_id}) == app_id


def test_7_1_each_namespace_has_its_own_scheduled_functions() -> None:
    sim = make_sim()
    sim.mutation(s7_host.schedule_both, {"text": "later"})

    assert [row["name"] for row in sim.scheduled_functions()] == ["s7_host.js:add_item_later"]
    assert [row["name"] for row in sim.scheduled_functions("widgets")] == ["s7_widgets.js:add_now"]
    assert sim.scheduled_functions("gadgets") == []
    # Seen from inside, too: each db.system reads its own table.
    assert sim.query(s7_host.jobs) == ["s7_host.js:add_item_later"]

    assert sim.finish_all_scheduled_functions() == 2
    assert sim.query(s7_host.texts) == ["later"]
    assert sim.query(s7_host.widget_texts) == ["later"]
    assert {row["state"]["kind"] for row in sim.scheduled_functions("widgets")} == {"success"}


def test_7_1_component_writes_commit_or_roll_back_with_the_calling_mutation() -> None:
    sim = make_sim()
    with pytest.raises(ConvexError):
        sim.mutation(s7_host.add_both_then_fail, {"text": "doomed"})
    assert sim.query(s7_host.texts) == []
    assert sim.query(s7_host.widget_texts) == []

    sim.mutation(s7_host.add_widget, {"text": "kept"})
    assert sim.query(s7_host.widget_texts) == ["kept"]


# -- §7.2 reachability --------------------------------------------------------------------


def test_7_2_app_reaches_only_public_component_functions() -> None:
    sim = make_sim()
    sim.mutation(s7_host.add_widget, {"text": "w"})
    # Public component functions, through components.<name>: fine.
    assert sim.query(s7_host.widget_texts) == ["w"]
    # An internal one: not reachable from the app.
    with pytest.raises(FunctionNotFoundError):
        sim.query(s7_host.call_widget_internal)
    # The component itself may call its own internal functions.
    assert sim.query(s7_host.call_widget_public_that_calls_its_internal) == "hidden"


def test_7_2_component_functions_are_not_client_callable() -> None:
    sim = make_sim()
    for reference in (components.widgets.s7_widgets.texts, s7_widgets.texts, "s7_widgets:texts"):
        with pytest.raises(FunctionNotFoundError):
            sim.query(reference)


def test_7_2_server_code_reaches_public_component_functions_only() -> None:
    sim = make_sim()
    sim.mutation(s7_host.add_widget, {"text": "w"})

    async def call_public(ctx: Any) -> Any:
        return await ctx.run_query(components.widgets.s7_widgets.texts, {})

    async def call_internal(ctx: Any) -> Any:
        return await ctx.run_query(components.widgets.s7_widgets.hidden, {})

    async def call_internal_by_definition(ctx: Any) -> Any:
        return await ctx.run_query(s7_widgets.hidden, {})

    assert sim.run(call_public) == ["w"]
    with pytest.raises(FunctionNotFoundError):
        sim.run(call_internal)
    with pytest.raises(FunctionNotFoundError):
        sim.run(call_internal_by_definition)


# -- §7.3 env vars -----------------------------------------------------------------------------


def test_7_3_env_visible_only_where_declared() -> None:
    sim = make_sim()
    app_env = sim.query(s7_host.env)
    widget_env = sim.query(s7_host.widget_env)

    assert app_env["APP_ONLY"] == "app-secret"
    assert set(app_env) >= ALWAYS_VISIBLE
    assert "LOG_LEVEL" not in app_env

    # The component sees the two URLs and what it declared and was given: nothing else.
    assert set(widget_env) == ALWAYS_VISIBLE | {"LOG_LEVEL"}
    assert widget_env["LOG_LEVEL"] == "DEBUG"
    assert {k: widget_env[k] for k in ALWAYS_VISIBLE} == {k: app_env[k] for k in ALWAYS_VISIBLE}

    # Each mount has its own values.
    assert sim.run(_env, component="gadgets")["LOG_LEVEL"] == "INFO"
    assert sim.run(_env, component="widgets") == widget_env


def test_7_3_mounting_with_an_undeclared_env_var_is_rejected() -> None:
    app = define_app(modules=[s7_host])
    with pytest.raises(ComponentError, match="APP_ONLY"):
        app.use(widgets_component(), name="widgets", env={"APP_ONLY": "leak"})
    assert app.mounts == {}
