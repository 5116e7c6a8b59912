"""The app and component definitions the runtime tests use."""

from __future__ import annotations

from convex_sim import define_app, define_component, define_schema, define_table, v
from tests.apps import counter, notes

notes_component = define_component(
    "notes",
    schema=define_schema({"notes": define_table({"text": v.string()})}),
    modules=[notes],
    env=["GREETING"],
)


def make_app():  # type: ignore[no-untyped-def]
    app = define_app(
        schema=define_schema(
            {
                "counters": define_table({"name": v.string(), "value": v.int64()}).index(
                    "by_name", ["name"]
                ),
                "messages": define_table({"body": v.string(), "sentAt": v.number()}),
            }
        ),
        modules=[counter],
    )
    app.use(notes_component, name="notes", env={"GREETING": "hello"})
    return app
