"""The batch worker's executions told in the spec's terms (batch-worker-spec.md §5–§8).

Registered as a ``convex_sim.explainers`` entry point, so any trace that has
a batch worker in it (this example's, or a user's app mounting it under any
name) reads as the loop's branches, ping's decisions and the monitor's
checks, not as anonymous patches of ``workerState``. Everything here is read
back from the trace: the function each execution ran, what its nested calls
returned, what it scheduled and canceled, and the ``workers`` /
``workerState`` documents as they were when it started and after it
committed.
"""

from __future__ import annotations

from typing import Any

from batch_worker.shared import (
    DEFAULT_COOLDOWN_MS,
    DEFAULT_POLL_INTERVAL_MS,
    RUNNING_THRESHOLD_MS,
)
from convex_sim.execution_records import ExecutionRecord
from convex_sim.story.build import plain_value, short_name
from convex_sim.story.model import Explanation
from convex_sim.story.world import World
from convex_sim.trace import ExecutionStarted, FunctionScheduled

Document = dict[str, Any]

_LOOP = "loop:loop"
_MONITOR = "monitor:monitor"
_LIB = ("lib:ping", "lib:start", "lib:stop")


def _is(function: str, name: str) -> bool:
    """``batchWorker/loop:loop`` is the loop whatever name the app mounted it under."""
    return function.rpartition("/")[2] == name and "/" in function


class BatchWorkerExplainer:
    """Explains loop runs, monitor runs, and app calls that ping, start or stop a worker."""

    def explain(self, record: ExecutionRecord, world: World) -> Explanation | None:
        function = record.function
        if _is(function, _LOOP):
            return _Reading(record, world).loop()
        if _is(function, _MONITOR):
            return _Reading(record, world).monitor()
        calls = [
            call
            for call in [record.started, *record.calls]
            if any(_is(call.function, name) for name in _LIB)
        ]
        if not calls:
            return None
        reading = _Reading(record, world)
        said = [reading.lib_call(call) for call in calls]
        own = record.started in calls
        return Explanation(
            says="; ".join(said),
            varying="" if own else _value_args(record.started.args),
            details=reading.details(),
            covers_own_writes=own,
        )


explainer = BatchWorkerExplainer()
"""The instance the ``convex_sim.explainers`` entry point names."""


def _value_args(args: Any) -> str:
    if not isinstance(args, dict):
        return ""
    return ", ".join(
        f"{key}={plain_value(value)}" for key, value in args.items() if key != "config"
    )


def _ms(value: float) -> str:
    """``200 ms``, ``30 s``: how the spec's defaults are usually said."""
    if value >= 1000:
        return f"{value / 1000:g} s"
    return f"{plain_value(float(value))} ms"


class _Reading:
    """One execution's view: the worker's documents before it and after its commit."""

    def __init__(self, record: ExecutionRecord, world: World) -> None:
        self.record = record
        self.world = world
        self.start_seq = record.started.seq
        commit = world.commit_seq(record)
        self.after_seq = None if commit is None else commit + 1

    # -- documents ---------------------------------------------------------------------

    def worker(self, component: str, name: str, seq: int) -> Document | None:
        for worker in self.world.documents(component, "workers", seq):
            if worker.get("name") == name:
                return worker
        return None

    def state(self, component: str, worker: Document | None, seq: int) -> Document | None:
        if worker is None:
            return None
        return self.world.document(component, "workerState", worker.get("stateId"), seq)

    def status_change(self) -> tuple[str, ...]:
        """``status: idle → running`` for every worker whose status this commit changed."""
        if self.after_seq is None:
            return ()
        changes = []
        for component, table in self.world.tables():
            if table != "workers":
                continue
            for after in self.world.documents(component, table, self.after_seq):
                before = self.world.document(component, table, after["_id"], self.start_seq)
                old = None if before is None else before["status"]["kind"]
                new = after["status"]["kind"]
                if old != new and self._wrote(after["_id"]):
                    changes.append(f"status of {after['name']!r}: {old or 'none'} → {new}")
        return tuple(changes)

    def _wrote(self, doc_id: Any) -> bool:
        return any(write.id == str(doc_id) for write in self.record.effective_writes())

    # -- what it scheduled -------------------------------------------------------------

    # What a nested call that raised (and was caught) scheduled or canceled never happened.

    def scheduled(self, name: str) -> list[FunctionScheduled]:
        return [item for item in self.record.effective_schedules() if _is(item.function, name)]

    def canceled(self, name: str) -> list[str]:
        found = []
        for job in self.record.effective_cancels():
            row = self.world.jobs.get(job)
            if row is not None and _is(row.function, name):
                found.append(self.world.jobs.label(job))
        return found

    def _label(self, scheduled: FunctionScheduled) -> str:
        """``#3 `` (with its space) once committed; an attempt that did not commit has none."""
        return f"{self.world.jobs.label(scheduled.job)} " if self.record.committed else ""

    def _when(self, run: FunctionScheduled) -> str:
        delay = run.run_at_ms - self.record.started.time_ms
        return "at once" if delay <= 0 else f"in {_ms(delay)}"

    def next_run(self, why: str) -> str:
        runs = self.scheduled(_LOOP)
        if not runs:
            return ""
        return f" → next run {self._when(runs[-1])}{why}"

    def monitor_moves(self) -> list[str]:
        said: list[str] = []
        if not self.record.committed:
            return said  # what an attempt that did not commit would have moved never happened
        canceled = self.canceled(_MONITOR)
        for run in self.scheduled(_MONITOR):
            at = self.world.relative_s(run.run_at_ms)
            if canceled:
                said.append(f"monitor {canceled.pop(0)} pushed back: {self._label(run)}at {at}")
            else:
                said.append(f"monitor {self._label(run)}scheduled at {at}")
        said.extend(f"monitor {label} canceled" for label in canceled)
        return said

    def details(self) -> tuple[str, ...]:
        return (*self.monitor_moves(), *self.status_change())

    # -- the loop (§7) -----------------------------------------------------------------

    def loop(self) -> Explanation:
        record = self.record
        args = record.args if isinstance(record.args, dict) else {}
        generation = int(args.get("generation", 0))
        component = record.started.component
        worker = self.worker(component, str(args.get("name")), self.start_seq)
        state = self.state(component, worker, self.start_seq)
        varying = f"gen {generation}"
        queries = [
            call
            for call in record.calls
            if call.parent == record.execution and call.function_type == "query"
        ]
        if not queries:
            if worker is None:
                return Explanation("no such worker: exits", varying, lane="loop")
            if state is not None and int(state["generation"]) != generation:
                says = f"superseded (the state is at generation {int(state['generation'])}): exits"
                return Explanation(says, varying, lane="loop")
            return Explanation("exits", varying, lane="loop")
        snapshot = queries[0]
        result = record.results.get(snapshot.execution)
        if record.failure is not None and result is None:
            says = "the work query raised: the run rolls back; the monitor restarts the loop"
            return Explanation(says, varying, lane="loop", details=self.details())
        if isinstance(result, dict) and "batch" in result:
            return self._work(result, varying)
        result = result if isinstance(result, dict) else {}
        if len(queries) == 1:
            last_work = 0.0 if state is None else float(state.get("lastWorkTs", 0))
            cooldown = float(result.get("cooldownMs") or DEFAULT_COOLDOWN_MS)
            left = last_work + cooldown - record.started.time_ms
            says = "no work, cooling down" + self.next_run(" (poll)")
            return Explanation(
                says, f"{varying}, {left / 1000:g} s left", lane="loop", details=self.details()
            )
        confirm = record.results.get(queries[1].execution)
        if isinstance(confirm, dict) and "batch" in confirm:
            says = "cooled down; the confirming read found work the snapshot missed"
            return Explanation(
                says + self.next_run(""), varying, lane="loop", details=self.details()
            )
        says = "cooled down; confirming read (a normal read): no work"
        timeout = result.get("timeoutMs") if result.get("kind") == "idle" else None
        if timeout is not None:
            poll = result.get("pollIntervalMs") or DEFAULT_POLL_INTERVAL_MS
            if timeout > RUNNING_THRESHOLD_MS and timeout > poll:  # the loop's own rule (§7.6)
                says += f" → sleeps as idle for {_ms(timeout)} (timeoutMs; a ping wakes it)"
            else:
                says += f" → timeoutMs {_ms(timeout)} is short: keeps running" + self.next_run("")
        elif self.record.committed:
            says += " → goes idle (generation retired, no next run)"
        elif record.conflict is not None:
            says += " → would go idle"
        return Explanation(says, varying, lane="loop", details=self.details())

    def _work(self, result: Document, varying: str) -> Explanation:
        record = self.record
        batch = result.get("batch")
        items = ""
        if isinstance(batch, dict) and len(batch) == 1:
            (only,) = batch.values()
            if isinstance(only, list):
                items = f", {len(only)} item{'s' if len(only) != 1 else ''}"
        mutations = [
            call
            for call in record.calls
            if call.parent == record.execution and call.function_type == "mutation"
        ]
        name = short_name(mutations[0].function) if mutations else "the worker mutation"
        if record.failure is not None and record.conflict is None:
            says = f"work → {name} raised: the run rolls back, its job fails"
            return Explanation(says, varying, lane="loop", details=self.details())
        says = f"work → {name}" + self.next_run(" (debounce)")
        return Explanation(says, varying + items, lane="loop", details=self.details())

    # -- the monitor (§8) --------------------------------------------------------------

    def monitor(self) -> Explanation:
        record = self.record
        component = record.started.component
        args = record.args if isinstance(record.args, dict) else {}
        worker = self.worker(component, str(args.get("name")), self.start_seq)
        state = self.state(component, worker, self.start_seq)
        if worker is None:
            return Explanation("no such worker", lane="monitor")
        status = worker["status"]["kind"]
        if status != "running":
            says = f"the worker is {status}: no monitor needed"
            return Explanation(says, lane="monitor", details=self.details())
        runner_id = None if state is None else state.get("runnerId")
        runner = None if runner_id is None else self.world.jobs.get(runner_id)
        runner_state = None if runner is None else runner.state_at(self.start_seq)
        if runner is None or runner_state != "pending":
            label = (
                "none" if runner is None else f"{self.world.jobs.label(runner.job)} {runner_state}"
            )
            says = f"the loop is not running (its run: {label}) → restarts it"
            says += self.next_run("")
            return Explanation(says, lane="monitor", details=self.details())
        says = f"the loop's run {self.world.jobs.label(runner.job)} is pending: the loop is alive"
        return Explanation(says, lane="monitor", details=self.details())

    # -- ping, start, stop (§6) --------------------------------------------------------

    def lib_call(self, call: ExecutionStarted) -> str:
        args = call.args if isinstance(call.args, dict) else {}
        name = str(args.get("name"))
        verb = short_name(call.function)
        worker = self.worker(call.component, name, self.start_seq)
        scheduled = self._scheduled_by(call)
        if verb == "stop":
            if worker is None:
                return "stop: no such worker"
            parts = [f"{label} canceled" for label in self.canceled(_LOOP)]
            return "stop: " + ", ".join([*parts, "status stopped"])
        status = None if worker is None else worker["status"]["kind"]
        if verb == "start":
            if status != "stopped":
                return f"start: {status or 'no such worker'}, nothing to do"
            return "start: resumes the worker" + self._woken(scheduled)
        if worker is None:
            return f"ping: creates worker {name!r}" + self._loop_scheduled(scheduled)
        if status == "running":
            return "ping: no-op (running)"
        if status == "stopped":
            return "ping: ignored (stopped; only start resumes it)"
        if not scheduled:
            return f"ping: idle, but its run is due within {_ms(RUNNING_THRESHOLD_MS)}: left alone"
        wakes = "wakes" if self.record.committed else "would wake"
        return f"ping: {wakes} the idle worker" + self._woken(scheduled)

    def _scheduled_by(self, call: ExecutionStarted) -> list[FunctionScheduled]:
        inside = {call.execution} | {
            nested.execution for nested in self.record.calls if nested.parent == call.execution
        }
        return [
            item
            for item in self.record.effective_schedules()
            if item.execution in inside and _is(item.function, _LOOP)
        ]

    def _woken(self, scheduled: list[FunctionScheduled]) -> str:
        replaced = self.canceled(_LOOP)
        canceled = f", cancels its sleeping run {', '.join(replaced)}" if replaced else ""
        return canceled + self._loop_scheduled(scheduled)

    def _loop_scheduled(self, scheduled: list[FunctionScheduled]) -> str:
        if not scheduled:
            return ""
        run = scheduled[-1]
        return f", loop run {self._label(run)}{self._when(run)}"
