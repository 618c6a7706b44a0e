"""Running a page's code blocks, in order, against one emulator.

Each page gets a fresh emulator (in a thread of the test process) and a fresh working
directory. Programs and commands run in this process, isolated as if each were its own
(:mod:`.inprocess`), with ``OPENROUTER_API_KEY`` and ``OPENROUTER_BASE_URL`` pointing at
the emulator; only a command that serves until ``Ctrl-C`` runs as a subprocess, so that
it can be interrupted the way a reader stops it:

- before each Python program the emulator is reset, so every program starts from an
  empty account, as a complete program must;
- console blocks share the emulator's state, like one terminal session, and the ids they
  show are bound to the real ones (:mod:`.matching`);
- a page's ``export`` of ``OPENROUTER_API_KEY`` or ``OPENROUTER_BASE_URL`` points at an
  emulator too: the test's emulator stands in for it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import yaml

from asyncbyok.emulator import Emulator

from .blocks import CODE_LANGUAGES, Block, read_blocks
from .inprocess import TIMEOUT, Finished, run_cli, run_pytest, run_script
from .matching import Bindings, Mismatch, check

ROOT = Path(__file__).resolve().parents[2]
CONNECTION_VARIABLES = ("OPENROUTER_API_KEY", "OPENROUTER_BASE_URL")


class SampleError(AssertionError):
    """A code block of the docs failed; the message says which and how."""


def base_env(emulator: Emulator) -> dict[str, str]:
    """The environment of every program and command: the emulator's address, no colours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENROUTER_")}
    path = [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    env.update(
        {
            "OPENROUTER_API_KEY": emulator.management_key,
            "OPENROUTER_BASE_URL": emulator.base_url,
            "PYTHONPATH": os.pathsep.join(path),
            "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1",
            "COLUMNS": "100",
        }
    )
    return env


class PageRun:
    """One page's blocks, run in order; :attr:`skipped` notes the blocks not run here."""

    def __init__(self, page: Path, emulator: Emulator, workdir: Path) -> None:
        self.page = page
        self.emulator = emulator
        self.workdir = workdir
        self.env = base_env(emulator)
        self.bindings = Bindings()
        self.skipped: list[str] = []
        self.ran = 0

    def run(self) -> None:
        blocks = read_blocks(self.page)
        for index, block in enumerate(blocks):
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            output = following if following is not None and following.is_output else None
            try:
                self._run_block(block, output)
            except (Mismatch, subprocess.TimeoutExpired) as exc:
                raise SampleError(f"{block.where}: {exc}") from None

    def _run_block(self, block: Block, output: Block | None) -> None:
        if block.is_output:
            return  # checked with the block before it
        required = block.markers.get("requires")
        if required and importlib.util.find_spec(required) is None:
            self.skipped.append(f"{block.where}: needs {required}")
            return
        if block.is_file:
            target = self.workdir / str(block.title)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
            return
        if block.not_run is not None:
            self._check_not_run(block)
            return
        if block.lang in ("python", "py"):
            self._run_program(block, output)
        elif block.lang in ("console", "sh", "shell", "bash"):
            for command, expected in parse_session(block.text):
                self._run_command(block, command, expected)
        elif block.lang == "json":
            json.loads(block.text)
        elif block.lang == "yaml":
            yaml.safe_load(block.text)
        elif block.lang in CODE_LANGUAGES:
            raise SampleError(f"{block.where}: no way to run a {block.lang} block")
        else:
            return
        self.ran += 1

    # -- programs -----------------------------------------------------------------------

    def _run_program(self, block: Block, output: Block | None) -> None:
        self.emulator.reset()
        script = self.workdir / f"{self.page.stem.replace('-', '_')}_line{block.line}.py"
        script.write_text(block.text, encoding="utf-8")
        done = run_script(script, self.env)
        if done.status != 0:
            raise SampleError(f"{block.where}: exit status {done.status}\n{done.output}")
        if output is not None:
            check(output.text, done.output, self.bindings)

    # -- console sessions ---------------------------------------------------------------

    def _run_command(self, block: Block, command: str, expected: str) -> None:
        words = shlex.split(self.bindings.substitute(command))
        cwd = ROOT if block.markers.get("cwd") == "repo" else self.workdir
        if words[0] == "export":
            for assignment in words[1:]:
                name, _, value = assignment.partition("=")
                if name not in CONNECTION_VARIABLES:
                    self.env[name] = value
            return
        if is_server(words):
            self._run_server(block, words, expected, cwd)
            return
        discard = words[-2:] == [">", "/dev/null"]  # the one redirection pages use
        done = self._run_in_process(block, words[:-2] if discard else words, cwd)
        if done.status != 0 and "Error:" not in expected:
            raise SampleError(
                f"{block.where}: `{command}` exited with {done.status}\n{done.output}"
            )
        try:
            check(expected, "" if discard else done.output, self.bindings)
        except Mismatch as exc:
            raise SampleError(f"{block.where}: `{command}`: {exc}") from None

    def _run_in_process(self, block: Block, words: list[str], cwd: Path) -> Finished:
        if words[0] == "asyncbyok":
            return run_cli(words[1:], self.env, cwd)
        if words[0] == "pytest":
            return run_pytest(words[1:], self.env, cwd)
        if words[0] in ("python", "python3") and words[1:2] != ["-m"] and len(words) > 1:
            return run_script(cwd / words[1], self.env)
        raise SampleError(f"{block.where}: no way to run {shlex.join(words)!r}")

    def _run_server(self, block: Block, words: list[str], expected: str, cwd: Path) -> None:
        """A command that serves until interrupted: read what it prints, then stop it."""
        argv = program(with_free_port(words))
        assert argv is not None
        wanted = len([line for line in expected.splitlines() if line.strip()])
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        watchdog = threading.Timer(TIMEOUT / 4, process.kill)
        watchdog.start()
        lines: list[str] = []
        try:
            while len(lines) < wanted:
                line = process.stdout.readline()
                if not line:
                    break
                lines.append(line)
        finally:
            watchdog.cancel()
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()
        try:  # its own ids: the commands after it talk to the test's emulator
            check(expected, "".join(lines), Bindings())
        except Mismatch as exc:
            raise SampleError(f"{block.where}: `{' '.join(words)}`: {exc}") from None

    # -- blocks shown only --------------------------------------------------------------

    def _check_not_run(self, block: Block) -> None:
        self.skipped.append(f"{block.where}: {block.not_run}")
        if block.lang in ("python", "py"):
            compile(block.text, block.where, "exec")
        elif block.lang in ("console", "sh", "shell", "bash"):
            for command, _ in parse_session(block.text):
                check_cli_command(block, command)


def parse_session(text: str) -> Iterator[tuple[str, str]]:
    """``(command, expected output)`` pairs of a console block."""
    command: str | None = None
    output: list[str] = []
    lines = iter(text.splitlines())
    for line in lines:
        if line.startswith("$ "):
            if command is not None:
                yield command, "\n".join(output)
            command, output = line[2:], []
            while command.endswith("\\"):
                command = command[:-1] + " " + next(lines, "").strip()
        elif command is not None:
            output.append(line)
    if command is not None:
        yield command, "\n".join(output)


def is_server(words: list[str]) -> bool:
    """Whether the command serves the emulator (it runs until interrupted)."""
    return words[:2] == ["asyncbyok", "emulator"] or words[:3] == [
        "python",
        "-m",
        "asyncbyok.emulator",
    ]


def with_free_port(words: list[str]) -> list[str]:
    """The command with ``--port 0``, so the test never competes for a fixed port."""
    out = list(words)
    if "--port" in out:
        out[out.index("--port") + 1] = "0"
    else:
        out += ["--port", "0"]
    return out


def program(words: list[str]) -> list[str] | None:
    """The argv that runs a documented command with this interpreter, if it is one we run."""
    python = sys.executable
    if words[0] == "asyncbyok":
        return [python, "-m", "asyncbyok.cli", *words[1:]]
    if words[0] == "pytest":
        return [python, "-m", "pytest", *words[1:]]
    if words[0] in ("python", "python3") and len(words) > 1:
        return [python, *words[1:]]
    return None


def check_cli_command(block: Block, command: str) -> None:
    """A command shown but not run must at least exist: ``asyncbyok NAME`` is a command."""
    from asyncbyok.cli import cli

    words = shlex.split(command)
    if words[0] != "asyncbyok":
        return
    names = [w for w in words[1:] if not w.startswith("-")]
    if names and not any(name in cli.commands for name in names):  # type: ignore[attr-defined]
        raise SampleError(f"{block.where}: `{command}` names no asyncbyok command")
