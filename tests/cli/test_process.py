"""The few things only a real process shows: what `--help` imports (startup cost), the
installed script, --allow-insecure-http against a non-loopback address, and Ctrl-C."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asyncbyok.emulator import Emulator, FaultConfig

from ._run import asyncbyok, asyncbyok_process, clean_env, command

HEAVY = ("rich", "yaml", "aiohttp", "asyncbyok.emulator", "asyncbyok.cli.output")

PROBE = """
import json, sys
from asyncbyok.cli import main
for args in (["--help"], ["plan", "--help"], ["export", "--help"], ["emulator", "--help"]):
    assert main(args, standalone_mode=False) == 0
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def test_help_imports_nothing_heavy() -> None:
    """`asyncbyok --help` starts fast because it imports neither rich, PyYAML, aiohttp nor
    the emulator (benchmarks/startup.py measures the time itself)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=clean_env(), check=True
    )
    modules = json.loads(done.stderr.splitlines()[-1])
    loaded = [m for m in modules for heavy in HEAVY if m == heavy or m.startswith(heavy + ".")]
    assert loaded == []


def test_the_installed_script_help_and_version() -> None:
    result = asyncbyok_process("--help")
    assert result.code == 0
    for name in ("list", "get", "create", "update", "delete", "plan", "apply", "export"):
        assert f"  {name} " in result.stdout
    assert asyncbyok("--version").stdout.startswith("asyncbyok, version ")


def _outward_address() -> str:
    """This machine's address on its network (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))
        return str(probe.getsockname()[0])


def test_plain_http_beyond_loopback_needs_allow_insecure_http() -> None:
    with Emulator(host="0.0.0.0").run_in_thread() as emu:  # reached by its address
        url = f"http://{_outward_address()}:{emu.port}/api/v1"
        conn = ["--base-url", url, "--api-key", emu.management_key]
        refused = asyncbyok("list", *conn)
        assert refused.code == 2
        assert refused.stderr == (
            f"Error: refusing to send the management key over plain http to "
            f"{_outward_address()}: use https, or pass --allow-insecure-http to accept the "
            "risk (plain http is meant for loopback, e.g. an emulator)\n"
        )
        assert sum(emu.stats.requests.values()) == 0
        allowed = asyncbyok("--allow-insecure-http", "list", "--json", *conn)
        assert allowed.code == 0, allowed.stderr
        assert allowed.json() == []


def test_ctrl_c_stops_the_emulator_command_cleanly() -> None:
    process = subprocess.Popen(
        [*command(), "emulator", "--port", "0", "--seed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("export OPENROUTER_BASE_URL=http://127.0.0.1:")
        while not process.stdout.readline().startswith("# default_workspace_id: "):
            pass
        time.sleep(0.3)  # the signal handlers are installed just after the address is printed
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("emulator_options", [{"faults": FaultConfig(latency=0.05)}])
def test_ctrl_c_mid_apply_exits_130_with_one_json_document(
    emu: Emulator, conn: list[str], tmp_path: Path, emulator_options: dict[str, object]
) -> None:
    manifest = tmp_path / "fleet.yaml"
    entries = "\n".join(f"  - {{name: k{i:03d}, key_env: K}}" for i in range(200))
    manifest.write_text(f"version: 1\ndefaults: {{provider: openai}}\nkeys:\n{entries}\n")
    process = subprocess.Popen(
        [*command(), "apply", str(manifest), "--yes", "--json", "--concurrency", "2", *conn],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=clean_env({"K": "sk-proj-interrupted-0000AbCd"}),
    )
    deadline = time.monotonic() + 30
    while len(emu.store.live()) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert 5 <= len(emu.store.live()) < 200  # stopped half-way
    assert json.loads(stdout) == {
        "error": {"exit_code": 130, "kind": "interrupted", "message": "interrupted"}
    }
    assert stderr.splitlines()[-1] == "Error: interrupted"
    assert "Traceback" not in stderr
