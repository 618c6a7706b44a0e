"""The README's promises: its commands are what CI runs, and its example runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from asyncbyok.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_the_first_lines_give_the_two_fresh_machine_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
    main_job, tests = blocks[0].strip(), blocks[1].strip()
    assert main_job.startswith("python3 -m venv .venv && ")
    assert "asyncbyok apply examples/fleet.yaml --emulator --yes" in main_job
    assert tests.endswith(".venv/bin/python -m pytest")
    assert README.index(tests) < 600  # in the first lines, not buried
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'readme_command "Main job on a fresh machine"' in ci
    assert 'readme_command "Tests on a fresh machine"' in ci
    assert (ROOT / "examples" / "fleet.yaml").exists()


def test_the_example_runs_against_the_emulator(tmp_path: Path) -> None:
    code = re.findall(r"```python\n(.*?)```", README, re.DOTALL)[0]
    script = tmp_path / "example.py"
    script.write_text(code)
    with Emulator().run_in_thread() as emu:
        env = {
            **os.environ,
            "OPENROUTER_API_KEY": emu.management_key,
            "OPENROUTER_BASE_URL": emu.base_url,
        }
        done = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "sk-...AbCd" in done.stdout
        assert "prod" in done.stdout
        assert emu.store.live() == []  # it deleted what it made
        assert emu.received[1] == ("update", {"allowed_models": None})
