"""An emulator served from a thread of the test process, so tests can run the command
against it (in-process, or in the few subprocess tests) and then look at what reached it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from asyncbyok.emulator import Emulator


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Options of ``emu``; parametrize ``emulator_options`` to change them."""
    return {}


@pytest.fixture
def emu(emulator_options: dict[str, Any]) -> Iterator[Emulator]:
    with Emulator(seed=3, **emulator_options).run_in_thread() as emulator:
        yield emulator


@pytest.fixture
def conn(emu: Emulator) -> list[str]:
    """The options pointing the command at ``emu``."""
    return ["--base-url", emu.base_url, "--api-key", emu.management_key]
