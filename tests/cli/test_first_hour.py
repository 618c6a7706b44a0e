"""What a new user meets after the main job (issue 20): hints that run as written,
workspaces that can be seen, a table that keeps what matters."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from ._run import asyncbyok


def fleet(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "fleet.yaml"
    entries = "\n".join(f"  - {{name: k{i:03d}, key_env: K{i}}}" for i in range(count))
    path.write_text(f"version: 1\ndefaults: {{provider: openai}}\nkeys:\n{entries}\n")
    return path


def test_the_hint_after_a_long_plan_runs_as_written(tmp_path: Path) -> None:
    manifest = fleet(tmp_path, 30)
    applied = asyncbyok("apply", str(manifest), "--emulator", "--yes", "--emulator-latency", "0")
    assert applied.code == 0, applied.stderr
    hint = re.search(r"^\.\.\. and 10 more \(`(.+)` lists every one\)$", applied.stdout, re.M)
    assert hint is not None, applied.stdout
    words = shlex.split(hint.group(1))
    assert words == ["asyncbyok", "plan", str(manifest), "--emulator"]
    shown = asyncbyok(*words[1:], "--emulator-latency", "0")
    assert shown.code == 0, shown.stderr  # it said "(see `asyncbyok plan`)": no API key
    assert shown.stdout.count("+ create openai/") == 30
