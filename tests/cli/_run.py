"""Running the ``asyncbyok`` command: in-process (most tests: fast), or as a real process
(the few tests about signals, terminals and the installed script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
from click.testing import CliRunner

from asyncbyok.cli import main
from asyncbyok.emulator.printed import printed_values

_SCRIPT = Path(sys.executable).with_name("asyncbyok")


def command() -> list[str]:
    """The installed console script, or ``python -m asyncbyok.cli`` where there is none."""
    return [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "asyncbyok.cli"]


# Variables with which rich takes any stream for a terminal, and writes escape sequences
# (bold headers, a progress bar) into a pipe: a CI runner may set them. Tests that want a
# terminal pass their own.
_TERMINAL_OVERRIDES = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without any OpenRouter settings (tests pass their own), nor any
    setting that makes a pipe pass for a terminal."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OPENROUTER_") and k not in _TERMINAL_OVERRIDES
    }
    env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    env.update(extra or {})
    return env


@attrs.frozen
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def asyncbyok(*args: str, env: Mapping[str, str] | None = None, input: str = "") -> Result:
    """Run ``asyncbyok ARGS`` in this process, as the console script does
    (``main(args, standalone_mode=False)``); stdin is not a terminal."""
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("OPENROUTER_")}
    overrides.update(dict.fromkeys(_TERMINAL_OVERRIDES))
    overrides.update({"NO_COLOR": "1", "COLUMNS": "200", **(env or {})})
    with CliRunner().isolation(input=input, env=overrides) as (stdout, stderr, _):
        code = main(list(args), standalone_mode=False)
        return Result(
            code,
            stdout.getvalue().decode("utf-8", "replace"),
            stderr.getvalue().decode("utf-8", "replace"),
        )


def asyncbyok_process(
    *args: str, env: Mapping[str, str] | None = None, input: str = "", timeout: float = 60
) -> Result:
    """Run ``asyncbyok ARGS`` as a real process to the end; stdin is not a terminal."""
    done = subprocess.run(
        [*command(), *args],
        env=clean_env(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(done.returncode, done.stdout, done.stderr)


# Address space for a command run under a memory limit: a plan of the example fleet
# against an in-process emulator runs in 200 MiB, so this leaves room and still stops a
# runaway long before it troubles the machine.
MEMORY_LIMIT_MIB = 512


def asyncbyok_limited(
    *args: str,
    env: Mapping[str, str] | None = None,
    memory_mib: int = MEMORY_LIMIT_MIB,
    timeout: float = 60,
) -> Result:
    """Run ``asyncbyok ARGS`` as a process whose address space is capped at *memory_mib*
    (``RLIMIT_AS``): input that would eat memory fails there, not on the machine."""
    limit = memory_mib * 1024 * 1024
    # The limit is set by a small launcher that then becomes the command (exec), rather
    # than in preexec_fn, which is unsafe in a process with threads (the emulator's).
    launcher = (
        "import os, resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", launcher, *command(), *args],
        env=clean_env(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@attrs.frozen
class RemoteEmulator:
    """An emulator process started with ``python -m asyncbyok.emulator --port 0``."""

    process: subprocess.Popen[str]
    base_url: str
    management_key: str
    default_workspace_id: str

    def get(self, path: str) -> Any:
        """GET ``base_url + path`` with the management key; the decoded JSON."""
        request = urllib.request.Request(
            self.base_url + path, headers={"Authorization": f"Bearer {self.management_key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def all_keys(self, workspace_id: str) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = []
        while True:
            page = self.get(f"/byok?workspace_id={workspace_id}&limit=100&offset={len(keys)}")
            keys += page["data"]
            if not page["data"] or len(keys) >= page["total_count"]:
                return keys


@contextmanager
def remote_emulator(options: Sequence[str] = ()) -> Iterator[RemoteEmulator]:
    """Serve an emulator in a child process for the duration of the block."""
    process = subprocess.Popen(
        [sys.executable, "-m", "asyncbyok.emulator", "--port", "0", *options],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert process.stdout is not None
        info: dict[str, str] = {}
        while "default_workspace_id" not in info:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the emulator exited before printing its address")
            info.update(printed_values(line))
        yield RemoteEmulator(
            process, info["base_url"], info["management_key"], info["default_workspace_id"]
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
