"""The interactive stepper: a Textual app over a :class:`~convex_sim.story.stepper.Stepper`.

Panes: the virtual clock and the timeline (one swimlane per kind of
function: client calls, the loop, the monitor, ...), the execution in flight
and its current await, the documents (fields the latest commit changed are
highlighted), the ``_scheduled_functions`` rows, and why the current
execution did what it did. Keys step one await, one execution, one moment of
virtual time, or back; ``q`` quits. Needs the ``explore`` extra (Textual).

It is design.md's ``python -m example explore`` (and ``trace explore``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from convex_sim.story.build import plain_value
from convex_sim.story.stepper import JobView, Stepper, TableView, View

CHANGED = "bold black on yellow"
TIMELINE_ROWS = 14
"""Rows the timeline shows before it knows its height (then: as many as fit)."""
JOB_ROWS = 10
DOCUMENTS_PER_TABLE = 12
"""A table with more documents shows the ones the latest commit changed, then the newest."""


class ExplorerApp(App[int]):
    """Step through a told run. ``run()`` returns the event position it was closed at."""

    TITLE = "convex_sim explorer"
    CSS = """
    Screen { layout: vertical; }
    #clock { height: 1; background: $primary; color: $text; padding: 0 1; }
    #panes { height: 1fr; }
    #left { width: 3fr; }
    #right { width: 2fr; }
    .pane { border: round $secondary; padding: 0 1; height: auto; }
    #timeline { height: 1fr; }
    #documents-box { height: 1fr; border: round $secondary; }
    #jobs { max-height: 15; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n,right", "await_step", "next await"),
        Binding("e", "execution_step", "next execution"),
        Binding("m,space", "moment_step", "next moment"),
        Binding("b,left", "step_back", "back"),
        Binding("q,escape", "quit_explorer", "quit"),
        Binding("ctrl+c", "quit_explorer", "quit", show=False, priority=True),
    ]

    def __init__(self, stepper: Stepper, *, title: str = "") -> None:
        super().__init__()
        self.stepper = stepper
        self.heading = title
        self.last_view: View | None = None
        self.documents_text: Text = Text()

    def compose(self) -> ComposeResult:
        yield Static(id="clock")
        with Horizontal(id="panes"):
            with Vertical(id="left"):
                yield Static(id="timeline", classes="pane")
                yield Static(id="explanation", classes="pane")
            with Vertical(id="right"):
                yield Static(id="flight", classes="pane")
                with VerticalScroll(id="documents-box"):
                    yield Static(id="documents")
                yield Static(id="jobs", classes="pane")
        yield Footer()

    def on_mount(self) -> None:
        for name, title in (
            ("timeline", "timeline"),
            ("explanation", "why"),
            ("flight", "in flight"),
            ("documents-box", "documents"),
            ("jobs", "_scheduled_functions"),
        ):
            self.query_one(f"#{name}").border_title = title
        self.refresh_panes()

    # -- actions ------------------------------------------------------------------------

    def action_await_step(self) -> None:
        self._moved(self.stepper.forward_await())

    def action_execution_step(self) -> None:
        self._moved(self.stepper.forward_execution())

    def action_moment_step(self) -> None:
        self._moved(self.stepper.forward_moment())

    def action_step_back(self) -> None:
        self._moved(self.stepper.back())

    def action_quit_explorer(self) -> None:
        self.exit(self.stepper.position)

    def _moved(self, moved: bool) -> None:
        if moved:
            self.refresh_panes()
        else:
            self.bell()

    # -- drawing ------------------------------------------------------------------------

    def refresh_panes(self) -> None:
        view = self.stepper.view()
        self.last_view = view
        heading = f"{self.heading} · " if self.heading else ""
        self._set(
            "clock",
            Text(
                f"{heading}clock {view.clock} · event {view.position + 1} of {view.total}",
                style="bold",
            ),
        )
        height = self.query_one("#timeline").size.height
        self._set(
            "timeline", timeline_table(view, rows=height - 1 if height > 3 else TIMELINE_ROWS)
        )
        self._set("explanation", Text("\n".join(view.explanation) or "(the simulator itself)"))
        self._set("flight", flight_text(view))
        self.documents_text = documents_text(view.tables, view.job_labels)
        self._set("documents", self.documents_text)
        self._set("jobs", jobs_table(view))

    def _set(self, name: str, renderable: RenderableType) -> None:
        self.query_one(f"#{name}", Static).update(renderable)


def timeline_table(view: View, rows: int = TIMELINE_ROWS) -> RenderableType:
    lanes: list[str] = []
    for _, step in view.timeline:
        if step.lane not in lanes:
            lanes.append(step.lane)
    table = Table(expand=True, show_edge=False, box=None, padding=(0, 1))
    table.add_column("time", no_wrap=True, style="cyan")
    for lane in lanes:
        table.add_column(lane, overflow="ellipsis", no_wrap=True)
    current = view.step
    for when, step in view.timeline[-rows:]:
        cells: list[Any] = [""] * len(lanes)
        label = " ".join(part for part in (step.job_label, step.title, step.varying) if part)
        style = "reverse" if step is current else ("yellow" if step.conflict else "")
        cells[lanes.index(step.lane)] = Text(label, style=style)
        table.add_row(when, *cells)
    return table


def flight_text(view: View) -> RenderableType:
    step = view.step
    if step is None:
        return Text(f"the simulator: {view.event}")
    who = " ".join(part for part in (step.job_label, step.title) if part)
    earlier = [Text(f"  {line}", style="dim") for line in view.awaits[:-1]]
    return Group(Text(who, style="bold"), *earlier, Text(f"→ {view.event}", style="bold"))


def documents_text(tables: list[TableView], job_labels: dict[str, str] | None = None) -> Text:
    """Each table's documents, one field per line; what the latest commit changed stands out."""
    text = Text()
    for table in tables:
        text.append(f"{table.label}\n", style="bold underline")
        if not table.documents:
            text.append("  (empty)\n", style="dim")
        shown = documents_to_show(table)
        for document in shown:
            doc_id = str(document.get("_id"))
            changed = table.changed.get(doc_id, set())
            text.append(f"  {_value(doc_id)}\n", style="dim")
            for name, value in document.items():
                if name.startswith("_"):
                    continue
                text.append("    ")
                display = _value(value)
                if job_labels and str(value) in job_labels:
                    display = f"{job_labels[str(value)]} ({display})"  # a _scheduled_functions id
                text.append(f"{name}: {display}", style=CHANGED if name in changed else "")
                text.append("\n")
        if len(shown) < len(table.documents):
            text.append(f"  … {len(table.documents) - len(shown)} more\n", style="dim")
    return text


def documents_to_show(table: TableView) -> list[dict[str, Any]]:
    documents = table.documents
    if len(documents) <= DOCUMENTS_PER_TABLE:
        return documents
    changed = [doc for doc in documents if str(doc.get("_id")) in table.changed]
    rest = [doc for doc in documents if str(doc.get("_id")) not in table.changed]
    room = max(0, DOCUMENTS_PER_TABLE - len(changed))
    chosen = {id(doc) for doc in [*changed, *(rest[-room:] if room else [])]}
    return [doc for doc in documents if id(doc) in chosen]


def _value(value: Any) -> str:
    """Ids shortened and dicts without quotes, so a document fits the pane."""
    if isinstance(value, str) and len(value) > 12:
        return value[:8] + "…"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_value(item)}" for key, item in value.items()) + "}"
    return plain_value(value)


def jobs_to_show(jobs: list[JobView]) -> list[JobView]:
    """The rows still to run (or running) always; then as many of the latest finished as fit."""
    active = [job for job in jobs if job.state in ("pending", "inProgress")]
    finished = [job for job in jobs if job not in active]
    room = max(0, JOB_ROWS - len(active))
    return sorted([*finished[-room:], *active] if room else active, key=_job_number)


def _job_number(job: JobView) -> int:
    return int(job.label.lstrip("#"))


def jobs_table(view: View) -> RenderableType:
    table = Table(expand=True, show_edge=False, box=None, padding=(0, 1))
    for column in ("job", "function", "runs at", "state"):
        table.add_column(column, no_wrap=True)
    styles = {"pending": "cyan", "inProgress": "bold yellow", "failed": "red", "canceled": "dim"}
    for job in jobs_to_show(view.jobs):
        table.add_row(
            job.label, job.function, job.run_at, Text(job.state, style=styles.get(job.state, ""))
        )
    return table
