"""The ``byok_emulator`` fixture: used here directly, and enabled by a user's conftest."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from asyncbyok.emulator import Emulator
from asyncbyok.emulator.pytest_plugin import byok_emulator  # noqa: F401 - the fixture

from .conftest import VALID_KEY, sync_call


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"seed": 42, "api_version": "excerpt"}


def test_fixture_serves_with_the_overridden_options(byok_emulator: Emulator) -> None:  # noqa: F811
    assert (byok_emulator.seed, byok_emulator.api_version) == (42, "excerpt")
    headers = {
        "Authorization": f"Bearer {byok_emulator.management_key}",
        "Content-Type": "application/json",
    }
    body = json.dumps({"provider": "openai", "key": VALID_KEY}).encode()
    status, _, _ = sync_call(byok_emulator, "POST", "/byok", body=body, headers=headers)
    assert status == 201
    assert len(byok_emulator.store.live()) == 1


async def test_fixture_works_in_async_tests_too(byok_emulator: Emulator) -> None:  # noqa: F811
    import aiohttp

    headers = {"Authorization": f"Bearer {byok_emulator.management_key}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(byok_emulator.base_url + "/byok") as response,
    ):
        assert response.status == 200


USER_TESTS = """
import json
import urllib.request

import pytest

from asyncbyok.emulator import RateLimit


def get(emu):
    request = urllib.request.Request(
        emu.base_url + "/byok", headers={"Authorization": "Bearer " + emu.management_key}
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def test_default(byok_emulator):
    assert get(byok_emulator) == {"data": [], "total_count": 0}


@pytest.mark.byok_emulator(seed=3, rate_limit=RateLimit(rate=1, burst=5))
def test_marker(byok_emulator):
    assert byok_emulator.seed == 3
    assert byok_emulator.rate_limit == RateLimit(rate=1, burst=5)
    get(byok_emulator)
"""


def test_users_enable_it_with_pytest_plugins(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["asyncbyok.emulator.pytest_plugin"]\n')
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers"]
    command += ["-W", "error::ResourceWarning", "-p", "no:hypothesispytest", str(tmp_path)]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
