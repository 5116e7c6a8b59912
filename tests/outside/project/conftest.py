"""The project's own fixture: the plugin's ``simulator`` and ``simulator_factory`` use it."""

import pytest
from convex_sim.components import AppDefinition

from tally import make_app


@pytest.fixture
def convex_sim_app() -> AppDefinition:
    return make_app()
