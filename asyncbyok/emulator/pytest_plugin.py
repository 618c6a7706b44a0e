"""A pytest fixture that serves the emulator for a test: ``byok_emulator``.

Installing asyncbyok registers this plugin with pytest (a ``pytest11`` entry point), so
any test may ask for the fixture; ``-p no:asyncbyok.emulator.pytest_plugin`` turns it
off. A ``pytest_plugins = ["asyncbyok.emulator.pytest_plugin"]`` line from before is
harmless. Loading it imports nothing heavy: the emulator is imported by the first test
that asks for one::

    def test_create(byok_emulator):
        client = Client(base_url=byok_emulator.base_url, api_key=byok_emulator.management_key)
        ...

Options for :class:`~asyncbyok.emulator.Emulator` come from the ``emulator_options``
fixture (override it in a module or conftest) and then from the
``byok_emulator(**options)`` marker, which wins::

    @pytest.mark.byok_emulator(rate_limit=RateLimit(rate=5, burst=1))
    def test_backs_off(byok_emulator): ...

The emulator runs in its own thread and event loop, so the fixture works for sync tests
and under any async test framework alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .server import Emulator

__all__ = ["byok_emulator", "emulator_options"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``byok_emulator`` marker."""
    config.addinivalue_line(
        "markers", "byok_emulator(**options): options for the byok_emulator fixture's Emulator"
    )


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Keyword arguments for the ``byok_emulator`` fixture's ``Emulator``; override it."""
    return {}


@pytest.fixture
def byok_emulator(
    request: pytest.FixtureRequest, emulator_options: dict[str, Any]
) -> Iterator[Emulator]:
    """A running :class:`~asyncbyok.emulator.Emulator`, fresh for each test."""
    from .server import Emulator

    options = dict(emulator_options)
    marker = request.node.get_closest_marker("byok_emulator")
    if marker is not None:
        options.update(marker.kwargs)
    with Emulator(**options).run_in_thread() as emulator:
        yield emulator
