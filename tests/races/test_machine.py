"""The example app's state machine (``example_machine.py``) under hypothesis.

CI runs at least :data:`MACHINE_EXAMPLES` runs of :data:`STEPS` steps each
(derandomized, so every CI run explores the same ones); explore further with
``pytest tests/races --hypothesis-profile=deep``.
"""

from __future__ import annotations

from hypothesis import settings

from tests.races.example_machine import ExampleMachine

MACHINE_EXAMPLES = 200
STEPS = 40

TestExampleMachine = ExampleMachine.TestCase
TestExampleMachine.settings = settings(
    max_examples=max(MACHINE_EXAMPLES, settings.default.max_examples),
    stateful_step_count=STEPS,
)
