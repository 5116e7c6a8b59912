"""Carrying a deployment across a restart (convex-semantics.md §6.4, §6.5, §8.1).

A store that already has history is a deployment that stopped — closed, or
killed mid-run — and a new :class:`~convex_sim.simulator.Simulator` on it
carries on as the backend does after a crash. Everything the simulator keeps
in memory was looked at, piece by piece, for what a restart would lose:

Kept with every commit (``Store.commit(state=...)``, in the same SQLite
transaction, so it can never disagree with the documents):

- **the clock**. It resumes at the time of the last commit (or of the
  close), never earlier, so new documents never get a ``_creationTime``
  before existing ones; a later ``start_ms`` is honoured (time passed while
  the deployment was down).
- **the last creation time handed out**: creation times are unique and
  rise across transactions, and may run a few ulps ahead of the clock.
- **the position of the root random stream** (``seed`` and how many 32-bit
  words of it were used). Every execution's seed is drawn from it, and each
  execution's ids, job ids, nested seeds and ``ctx.random`` derive from its
  seed (``seeds.py``). Every committed id came from a draw made before its
  commit, so continuing after the last commit's position never repeats a
  seed whose ids are in the store; draws made after it belonged to work that
  never committed. Reopening with the same seed therefore continues one
  stream deterministically; a different seed starts that seed's own stream,
  whose 64-bit execution seeds collide with the old ones only by chance.
- **the position of the default interleaving stream** (the choices the
  simulator makes when a call gives no ``schedule``), for the same reason:
  with both streams where they were, a deployment closed and reopened
  between two calls behaves exactly as one that stayed open.

Rebuilt from the documents at open (they are the truth; a copy could only
disagree with them):

- **the due-job queue**, from every ``pending`` ``_scheduled_functions`` row
  of every namespace, in due order. A row does not keep the time it was
  scheduled at, only ``_creationTime``, which is never earlier, and the
  clock resumes at or after every commit; so a row is due at its
  ``scheduledTime`` or, if that had passed when it was scheduled, at once
  (``min(_creationTime, clock)``), which is when it would have run anyway.
  A scheduled mutation that was running
  when the process died had not committed (its ``inProgress`` lives only
  inside its own transaction, §6.4), so its row is still pending and it runs
  exactly once.
- **lost actions**: a row found ``inProgress`` belongs to an action whose
  process died (an action commits ``inProgress`` before it starts, §6.5).
  Actions run at most once, so it is marked ``failed`` with the backend's
  message, :data:`LOST_ACTION_ERROR`.
- **the finished-job cleanup times**: each finished row's
  ``completedTime`` plus the retention (§6.8).

Not kept, on purpose: the trace (it records what this process did; it begins
afresh with a :class:`~convex_sim.trace.Resumed` event), conflict and retry
counts, planned faults, client calls
submitted for a later time (never acknowledged), and the OCC commit log (no
transaction outlives the process).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from convex_sim.checkpoint import drive
from convex_sim.errors import ValidationError
from convex_sim.ids import decode_id_string
from convex_sim.index_keys import KEY_MAX, KEY_MIN
from convex_sim.jobs import finish_job, note_finished
from convex_sim.scheduler import (
    FAILED,
    FINISHED_STATES,
    IN_PROGRESS,
    PENDING,
    SCHEDULED_FUNCTIONS_TABLE,
    due_job,
    state_of,
)
from convex_sim.schema import BY_CREATION_TIME, Schema
from convex_sim.store.base import Store
from convex_sim.trace import Resumed

if TYPE_CHECKING:
    from convex_sim.runtime import Runtime

STATE_FORMAT: Final = 1
LOST_ACTION_ERROR: Final = "Transient error while executing action"
"""The backend's error for an action found ``inProgress`` after a crash (§6.5)."""


class SchemaMismatchError(ValidationError):
    """A stored document does not match the schema of the app that opened the store.

    Raised at open, before anything is written, as a push of that schema to
    a deployment holding that document would be refused.
    """

    def __init__(self, error: ValidationError, *, where: str, table: str, document_id: str) -> None:
        self.table = table
        self.document_id = document_id
        super().__init__(
            error.reason,
            path=error.path,
            value=error.value,
            validator=error.validator,
            context=(
                f"{where} holds a document that does not match the schema: table {table!r}, "
                f"document {document_id!r}. Change the schema (for example v.optional or a "
                "union) or migrate the document"
            ),
        )


class CountingRandom(random.Random):
    """The runtime's root generator, counting the 32-bit words it has drawn.

    Every draw goes through ``random()`` (two words) or ``getrandbits``
    (one word per 32 bits), so the count is the stream's position, and
    :meth:`skip` replays a stream up to it. The draws themselves are
    ``random.Random``'s, so traces are those of a plain generator.
    """

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.words = 0

    def random(self) -> float:
        self.words += 2
        return super().random()

    def getrandbits(self, k: int) -> int:
        if k > 0:
            self.words += (k - 1) // 32 + 1
        return super().getrandbits(k)

    def skip(self, words: int) -> None:
        """Move on to position ``words`` (from the position just after seeding)."""
        draw = super().getrandbits
        for _ in range(words - self.words):
            draw(32)
        self.words = max(self.words, words)


def capture(runtime: Runtime) -> dict[str, Any]:
    """The state a restart needs, as of now (see the module docstring)."""
    creation = runtime.database.last_creation_time
    return {
        "format": STATE_FORMAT,
        "clock_ms": runtime.clock.now_ms,
        "creation_time": None if creation == float("-inf") else creation,
        "seed": runtime.seed,
        "rng_words": runtime.rng.words,
        "schedule_words": runtime.schedule_rng.words,
    }


def check_documents(store: Store, namespace: str, schema: Schema, where: str) -> None:
    """Every stored document of the schema's tables matches it, or one clear error."""
    if not schema.schema_validation:
        return
    resolve_id = _id_resolver(store, namespace)
    for name, table in schema.tables.items():
        number = store.table_number(namespace, name, create=False)
        if number is None or table.validator is None:
            continue
        rows = store.scan(
            number, BY_CREATION_TIME, KEY_MIN, KEY_MAX, reverse=False, ts=store.latest_ts
        )
        for _, document in rows:
            user_fields = {k: item for k, item in document.items() if not k.startswith("_")}
            try:
                table.validator.validate(user_fields, resolve_id=resolve_id)
            except ValidationError as error:
                label = f"{namespace}/{name}" if namespace else name
                raise SchemaMismatchError(
                    error, where=where, table=label, document_id=str(document["_id"])
                ) from None


def _id_resolver(store: Store, namespace: str) -> Callable[[str], str | None]:
    def resolve(doc_id: str) -> str | None:
        number = decode_id_string(doc_id)
        info = None if number is None else store.table_info(number)
        return None if info is None or info.namespace != namespace else info.name

    return resolve


def resume(runtime: Runtime, state: dict[str, Any] | None) -> None:
    """Carry on from a store with history: restore the kept state, rebuild the rest."""
    if state is not None and state.get("format") == STATE_FORMAT:
        clock = runtime.clock
        clock.advance_to(max(clock.now_ms, float(state["clock_ms"])))
        creation = state.get("creation_time")
        if creation is not None:
            runtime.database.note_creation_time(float(creation))
        if state.get("seed") == runtime.seed:
            runtime.rng.skip(int(state["rng_words"]))
            runtime.schedule_rng.skip(int(state["schedule_words"]))
    pending, lost = _requeue_jobs(runtime)
    runtime.record(
        Resumed,
        0,
        latest_ts=runtime.database.store.latest_ts,
        pending=pending,
        lost_actions=len(lost),
    )
    for namespace, job_id, name in lost:
        drive(
            finish_job(
                runtime, runtime.namespaces[namespace], job_id, name, FAILED, LOST_ACTION_ERROR
            )
        )


def _requeue_jobs(runtime: Runtime) -> tuple[int, list[tuple[str, str, str]]]:
    """Queue every pending row and note every finished one; the lost actions' rows."""
    store = runtime.database.store
    pending = 0
    lost: list[tuple[str, str, str]] = []
    for namespace in runtime.namespaces:
        number = store.table_number(namespace, SCHEDULED_FUNCTIONS_TABLE, create=False)
        if number is None:
            continue
        rows = store.scan(
            number, BY_CREATION_TIME, KEY_MIN, KEY_MAX, reverse=False, ts=store.latest_ts
        )
        for _, row in rows:
            job_id = str(row["_id"])
            state = state_of(row)
            if state == PENDING:
                scheduled_at = min(float(row["_creationTime"]), runtime.clock.now_ms)
                runtime.due.push(due_job(row, namespace, job_id, scheduled_at))
                pending += 1
            elif state == IN_PROGRESS:
                lost.append((namespace, job_id, str(row["name"])))
            elif state in FINISHED_STATES:
                note_finished(runtime, row, namespace, job_id)
    return pending, lost
