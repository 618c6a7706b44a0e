"""A real `asyncbyok apply` process killed with SIGKILL half-way, then run again, converges:
every credential of the manifest exists exactly once. (The rerun and the final plan run
in-process: only the victim needs to be a process of its own.)"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..cli._run import asyncbyok, clean_env, command, remote_emulator
from .conftest import WS_A

COUNT = 300

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
    pytest.mark.slow,  # a real process killed half-way through 300 creates: seconds
]


def write_manifest(path: Path) -> None:
    lines = ["version: 1", f"defaults: {{provider: openai, workspace_id: {WS_A}}}", "keys:"]
    lines += [f"  - {{name: cred-{i:03d}, key_env: FLEET_KEY}}" for i in range(COUNT)]
    path.write_text("\n".join(lines) + "\n")


def test_sigkill_mid_apply_then_reapply_converges(tmp_path: Path) -> None:
    manifest = tmp_path / "fleet.yaml"
    write_manifest(manifest)
    # Latency makes the apply last long enough to be killed in the middle.
    with remote_emulator(["--latency", "0.03", "--seed", "5"]) as emu:
        connection = ["--base-url", emu.base_url, "--api-key", emu.management_key]
        env = {"FLEET_KEY": "sk-proj-fleet-key-0000AbCd"}
        args = ["apply", str(manifest), "--yes", "--concurrency", "8", *connection]

        victim = subprocess.Popen(
            [*command(), *args],
            env=clean_env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        created = 0
        while created < COUNT // 4 and time.monotonic() < deadline and victim.poll() is None:
            time.sleep(0.02)
            created = emu.get(f"/byok?workspace_id={WS_A}&limit=1")["total_count"]
        os.kill(victim.pid, signal.SIGKILL)
        assert victim.wait(timeout=10) == -signal.SIGKILL
        time.sleep(0.2)  # let the requests the victim left in flight finish on the server
        after_kill = len(emu.all_keys(WS_A))
        assert 0 < after_kill < COUNT, "the kill should land in the middle of the apply"

        rerun = asyncbyok(*args, env=env)
        assert rerun.code == 0, rerun.stderr
        assert f"Plan: {COUNT - after_kill} to create" in rerun.stdout

        names = collections.Counter(k["name"] for k in emu.all_keys(WS_A))
        assert len(names) == COUNT
        assert set(names.values()) == {1}, "no duplicates"

        again = asyncbyok("plan", str(manifest), *connection, env=env)
        assert again.code == 0
        assert "No changes" in again.stdout
