"""The ``byok_emulator`` fixture needs no ``pytest_plugins`` line: installing asyncbyok
registers its plugin with pytest (a ``pytest11`` entry point), cheap to load."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN = "asyncbyok.emulator.pytest_plugin"

USER_TESTS = """
import json
import sys
import urllib.request

import pytest

PLUGIN = "asyncbyok.emulator.pytest_plugin"


def test_loaded_from_the_installed_distribution(pytestconfig):
    manager = pytestconfig.pluginmanager
    assert manager.get_plugin(PLUGIN) is not None
    assert any(dist.project_name == "asyncbyok" for _, dist in manager.list_plugin_distinfo())
    # Loading the plugin imported no part of the server: tests that never ask for an
    # emulator do not pay for it.
    assert "asyncbyok.emulator.server" not in sys.modules


def test_the_fixture(byok_emulator):
    request = urllib.request.Request(
        byok_emulator.base_url + "/byok",
        headers={"Authorization": "Bearer " + byok_emulator.management_key},
    )
    with urllib.request.urlopen(request) as response:
        assert json.load(response) == {"data": [], "total_count": 0}


@pytest.mark.byok_emulator(seed=3)
def test_the_marker(byok_emulator):
    assert byok_emulator.seed == 3
"""


def test_a_fresh_pytest_run_gets_the_fixture_from_the_entry_point(tmp_path: Path) -> None:
    points = importlib.metadata.entry_points(group="pytest11")
    assert PLUGIN in {p.name for p in points if p.value == PLUGIN}, (
        "no pytest11 entry point: this environment predates it; reinstall (pip install -e .)"
    )
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers"]
    command += ["-W", "error::ResourceWarning", "-p", "no:hypothesispytest", str(tmp_path)]
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
