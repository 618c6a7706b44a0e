"""A pytest fixture that serves the emulator for a test: ``byok_emulator``.

Enable it in your ``conftest.py``::

    pytest_plugins = ["asyncbyok.emulator.pytest_plugin"]

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
from typing import Any

import pytest

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
    options = dict(emulator_options)
    marker = request.node.get_closest_marker("byok_emulator")
    if marker is not None:
        options.update(marker.kwargs)
    with Emulator(**options).run_in_thread() as emulator:
        yield emulator
