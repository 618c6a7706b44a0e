"""The few things only a real process shows: what `--help` imports (startup cost), the
installed script, --allow-insecure-http against a non-loopback address, and Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asyncbyok.emulator import Emulator, FaultConfig

from ._run import Result, asyncbyok, asyncbyok_process, clean_env, command

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


def interrupt_apply(manifest: Path, conn: list[str], emu: Emulator, *options: str) -> Result:
    """Start ``apply MANIFEST`` as a process, press Ctrl-C once five credentials exist."""
    process = subprocess.Popen(
        [*command(), "apply", str(manifest), "--yes", "--concurrency", "2", *options, *conn],
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
    return Result(process.returncode, stdout, stderr)


def two_hundred(tmp_path: Path) -> Path:
    manifest = tmp_path / "fleet.yaml"
    entries = "\n".join(f"  - {{name: k{i:03d}, key_env: K}}" for i in range(200))
    manifest.write_text(f"version: 1\ndefaults: {{provider: openai}}\nkeys:\n{entries}\n")
    return manifest


SAFE = re.compile(
    r"interrupted after (\d+) of 200 changes \((\d+) created\); running it again is safe: "
    r"`asyncbyok apply (\S+)` plans only what is left"
)


@pytest.mark.parametrize("emulator_options", [{"faults": FaultConfig(latency=0.05)}])
def test_ctrl_c_mid_apply_exits_130_with_one_json_document(
    emu: Emulator, conn: list[str], tmp_path: Path, emulator_options: dict[str, object]
) -> None:
    manifest = two_hundred(tmp_path)
    result = interrupt_apply(manifest, conn, emu, "--json")
    assert result.code == 130
    stored = len(emu.store.live())
    assert 5 <= stored < 200  # stopped half-way
    error = json.loads(result.stdout)["error"]  # one document: json.loads refuses more
    assert (error["exit_code"], error["kind"]) == (130, "interrupted")
    said = SAFE.fullmatch(error["message"])
    assert said is not None, error["message"]
    done = int(said.group(1))
    assert done == int(said.group(2)) == error["result"]["counts"]["created"]
    assert said.group(3) == str(manifest)
    # What it says was stored, was; a create in flight at the time may be stored too.
    assert done <= stored
    assert {r["name"] for r in error["result"]["results"]} <= {r.name for r in emu.store.live()}
    assert result.stderr.splitlines()[-1] == f"Error: {error['message']}"
    assert "Traceback" not in result.stderr
    assert "KeyboardInterrupt" not in result.stderr


@pytest.mark.parametrize("emulator_options", [{"faults": FaultConfig(latency=0.05)}])
def test_after_ctrl_c_the_summary_shows_what_was_stored_and_running_again_is_safe(
    emu: Emulator, conn: list[str], tmp_path: Path, emulator_options: dict[str, object]
) -> None:
    manifest = two_hundred(tmp_path)
    result = interrupt_apply(manifest, conn, emu)
    assert result.code == 130
    created = int(re.findall(r"^created +(\d+)$", result.stdout, re.M)[0])
    stored = len(emu.store.live())
    assert stored >= 5  # Ctrl-C came once five were stored...
    # ...and the summary counts what the command saw stored. The server stores a create
    # before it answers, so at Ctrl-C up to --concurrency (2) were stored or about to be
    # with no answer read: their outcome was unknown to the command, not miscounted.
    assert stored - 2 <= created <= stored
    said = SAFE.fullmatch(result.stderr.splitlines()[-1].removeprefix("Error: "))
    assert said is not None, result.stderr
    assert int(said.group(2)) == created
    again = asyncbyok("apply", str(manifest), "--yes", "--json", "--concurrency", "64", *conn,
                      env={"K": "sk-proj-interrupted-0000AbCd"})  # fmt: skip
    assert again.code == 0, again.stderr
    counts = again.json()["result"]["counts"]
    assert counts["unchanged"] >= created  # what the first run said it stored, was
    assert counts["created"] + counts["unchanged"] == 200
    assert sorted(r.name for r in emu.store.live()) == [f"k{i:03d}" for i in range(200)]


@pytest.mark.parametrize("before", ["default", "custom"])
def test_an_in_process_command_leaves_the_sigint_handler_as_it_found_it(
    conn: list[str], before: str
) -> None:
    # On 3.11+ asyncio.run installs a handler of its own before the command replaces
    # it; put back instead of the process's own, it outlived its run, and the next
    # asyncio.run in the process (which installs its own only over the default) left
    # Ctrl-C to a dead runner.
    def custom(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    handler = signal.default_int_handler if before == "default" else custom
    previous = signal.signal(signal.SIGINT, handler)
    try:
        for args in (["list"], ["create", "--provider", "openai", "--key-env", "K"]):
            result = asyncbyok(*args, *conn, env={"K": "sk-proj-handler-0000AbCd"})
            assert result.code == 0, result.stderr
            assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, previous)
