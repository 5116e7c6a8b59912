"""A base hypothesis state machine over a :class:`~convex_sim.Simulator`.

Every stateful test of a component needs the same moves — let virtual time
pass, run what falls due under a drawn interleaving, race client calls
against it — and the same bookkeeping: check invariants on what the last step
did, and turn any failure into **one line** that replays it exactly. This
class provides both; a subclass adds its own rules and checks::

    class MyMachine(SimulatorMachine):
        def make_simulator(self) -> Simulator:
            return Simulator(my_app(), seed=self.seed)

        @rule(value=st.integers(0, 9))
        @recorded
        def add(self, value: int) -> None:
            self.call_soon(my_module.add, {"value": value})

        def check_after_step(self, new: list[ExecutionRecord]) -> None:
            ...  # assert on the state (sim.peek) and on what ``new`` did

        def settle(self) -> None:
            ...  # end of run: clear faults, let time pass, check liveness

    TestMyMachine = MyMachine.TestCase

Client calls queued with :meth:`call_soon` start together with the next jobs
to fall due, so they really race them (executions overlap only when they
start at the same virtual instant). Every ``@recorded`` rule is written to
:attr:`script`; a failure carries the note ``convex-sim replay: {...}`` —
the machine class, seed, steps and a digest of the trace at the failure —
and :meth:`replay` (or ``python -m convex_sim.testing replay '<line>'``) runs
it again and says whether the trace is identical. The batch worker's
machine (``tests/races/example_machine.py``) builds on it to check
batch-worker-spec.md §11; the replay line is the reproducer design.md asks of
every failing run ("same seed, same run, byte for byte").
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from convex_sim.executor import ScheduleSpec
from convex_sim.simulator import Simulator
from convex_sim.testing.executions import ExecutionRecord, executions
from convex_sim.testing.locate import import_test_module, module_file
from convex_sim.testing.strategies import schedules

REPLAY_PREFIX = "convex-sim replay: "

R = TypeVar("R")
M = TypeVar("M", bound="SimulatorMachine")


def time_steps(max_ms: int = 120_000) -> st.SearchStrategy[int]:
    """How far a step moves the clock: the component's own intervals, or anything."""
    landmarks = [0, 1, 100, 200, 1_000, 2_000, 10_000, 60_000]
    return st.one_of(
        st.sampled_from([ms for ms in landmarks if ms <= max_ms]), st.integers(0, max_ms)
    )


def recorded(method: Callable[..., R]) -> Callable[..., R]:
    """Write each call of a rule into the machine's script, so failures can be replayed.

    Rules must take JSON-friendly keyword arguments (ints, floats, strings,
    lists, dicts, None): the script is printed as JSON.
    """

    @functools.wraps(method)
    def run_step(self: SimulatorMachine, **kwargs: Any) -> R:
        self.script.append([method.__name__, kwargs])
        with self.reproducer_on_failure():
            return method(self, **kwargs)

    return run_step


class SimulatorMachine(RuleBasedStateMachine):
    """Base rules (time passes, due work runs) and replayable failures; see the module doc."""

    seed: int = 0
    """The simulator's seed (ids, retry jitter); schedules are drawn per step."""
    max_jobs_per_step: ClassVar[int] = 5_000
    """A step that runs more scheduled functions than this fails: something spins."""

    def __init__(self) -> None:
        super().__init__()
        self.script: list[list[Any]] = []
        self.sim = self.make_simulator()
        self._queued: list[tuple[Any, dict[str, Any] | None]] = []
        self._checked_up_to = 0
        self.failed = False

    # -- what a subclass provides ------------------------------------------------------

    def make_simulator(self) -> Simulator:
        raise NotImplementedError("a SimulatorMachine subclass must define make_simulator()")

    def check_after_step(self, new: list[ExecutionRecord]) -> None:
        """Assert what must hold after every step; ``new`` is what the step ran."""

    def settle(self) -> None:
        """End of a run: clear faults, let time pass, assert the liveness properties."""

    # -- client calls -------------------------------------------------------------------

    def call_soon(self, reference: Any, args: dict[str, Any] | None = None) -> None:
        """Queue a client call; it starts with the next jobs to fall due, racing them."""
        self._queued.append((reference, args))

    def start_queued_calls(self) -> None:
        """Start the queued calls now (for ``settle``: not a step, so not in the script)."""
        self._start_queued_at(self.sim.now)
        self.sim.advance(0, max_steps=self.max_jobs_per_step)

    def _start_queued_at(self, at_ms: float) -> None:
        for reference, args in self._queued:
            self.sim.submit(reference, args, at_ms=at_ms)
        self._queued.clear()

    # -- the base rules ----------------------------------------------------------------------

    @rule(schedule=schedules())
    @recorded
    def run_next_moment(self, schedule: ScheduleSpec) -> None:
        """Jump to the next due job's time and run everything due then, queued calls too."""
        due_ms = self.sim.next_due_ms()
        at_ms = self.sim.now if due_ms is None else max(due_ms, self.sim.now)
        self._start_queued_at(at_ms)
        self.sim.advance(at_ms - self.sim.now, schedule=schedule, max_steps=self.max_jobs_per_step)

    @rule(ms=time_steps(), schedule=schedules())
    @recorded
    def advance_time(self, ms: int, schedule: ScheduleSpec) -> None:
        """Let ``ms`` of virtual time pass; queued calls start now."""
        self._start_queued_at(self.sim.now)
        self.sim.advance(ms, schedule=schedule, max_steps=self.max_jobs_per_step)

    # -- checking -----------------------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        new = executions(self.sim.trace, self._checked_up_to)
        self._checked_up_to = len(self.sim.trace)
        with self.reproducer_on_failure():
            self.check_after_step(new)

    def teardown(self) -> None:
        if self.failed:
            return  # the failure is already reported; liveness after it means nothing
        with self.reproducer_on_failure():
            self.settle()

    # -- reproducers -------------------------------------------------------------------------

    def reproducer(self) -> str:
        """The one line that replays this run so far (see :meth:`replay`)."""
        cls = type(self)
        payload = {
            "machine": f"{cls.__module__}:{cls.__qualname__}",
            "seed": self.seed,
            "steps": self.script,
            "trace": self.sim.trace.digest(),
        }
        return REPLAY_PREFIX + json.dumps(payload, separators=(",", ":"), sort_keys=True)

    @contextlib.contextmanager
    def reproducer_on_failure(self) -> Iterator[None]:
        try:
            yield
        except Exception as error:
            if not self.failed:
                self.failed = True
                error.add_note(self.reproducer())
            raise

    @classmethod
    def replay(cls: type[M], line: str) -> Replay[M]:
        """Run a reproducer line again on a fresh machine of this class.

        The line may name the class's module differently from how it was
        imported here (pytest's ``test_machine`` for what this process calls
        ``tests.test_machine``): it is the same machine if the names lead to
        the same file.
        """
        payload = parse_reproducer(line)
        if not _names_class(payload["machine"], cls):
            expected = f"{cls.__module__}:{cls.__qualname__}"
            raise ValueError(f"this line replays {payload['machine']}, not {expected}")
        return _replay(cls, payload)


@dataclass
class Replay(Generic[M]):
    """What replaying a reproducer gave: the machine, its error, and whether traces match."""

    machine: M
    error: Exception | None
    expected_trace: str
    trace: str

    @property
    def identical(self) -> bool:
        return self.trace == self.expected_trace


def parse_reproducer(line: str) -> dict[str, Any]:
    """The JSON payload of a ``convex-sim replay:`` line (the prefix is optional)."""
    text = line.strip()
    if text.startswith(REPLAY_PREFIX.strip()):
        text = text[len(REPLAY_PREFIX.strip()) :].strip()
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not a convex-sim reproducer line: {error}") from None
    missing = {"machine", "seed", "steps", "trace"} - set(payload)
    if missing:
        raise ValueError(f"reproducer line lacks {sorted(missing)}")
    return dict(payload)


def load_machine(path: str, rootdir: Path | None = None) -> type[SimulatorMachine]:
    """The machine class named ``module:QualName``, its module imported as pytest did.

    ``rootdir`` is where to look for a test module that is not importable as
    it is (see :mod:`convex_sim.testing.locate`); by default, the project the
    current directory is in.
    """
    module_name, _, qualname = path.partition(":")
    found: Any = import_test_module(module_name, rootdir)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not (isinstance(found, type) and issubclass(found, SimulatorMachine)):
        raise ValueError(f"{path} is not a SimulatorMachine subclass")
    return found


def replay_line(line: str, rootdir: Path | None = None) -> Replay[SimulatorMachine]:
    """Replay a reproducer line, loading the machine class it names."""
    payload = parse_reproducer(line)
    return _replay(load_machine(payload["machine"], rootdir), payload)


def _names_class(path: str, cls: type) -> bool:
    module_name, _, qualname = path.partition(":")
    if qualname != cls.__qualname__:
        return False
    if module_name == cls.__module__:
        return True
    own = getattr(sys.modules.get(cls.__module__), "__file__", None)
    named = module_file(module_name)
    return own is not None and named is not None and named == Path(own).resolve()


def _replay(cls: type[M], payload: dict[str, Any]) -> Replay[M]:
    machine = cls.__new__(cls)
    machine.seed = int(payload["seed"])  # before __init__, which makes the simulator
    machine.__init__()  # type: ignore[misc]
    error: Exception | None = None
    try:
        machine.invariants_hold()
        for name, kwargs in payload["steps"]:
            getattr(machine, name)(**kwargs)
            machine.invariants_hold()
        machine.teardown()
    except Exception as raised:
        error = raised
    return Replay(machine, error, str(payload["trace"]), machine.sim.trace.digest())
