"""Running a docs program or command inside the test process, as if it were its own.

Starting an interpreter for every block of every page cost about a minute of the suite;
here each one runs in this process instead, isolated the way a fresh process would be:

- its own environment (``os.environ`` replaced, then restored), working directory,
  ``sys.argv``, ``sys.path`` and standard streams; stdin is empty, and stdout and stderr
  go, interleaved, into one buffer, the way a terminal shows them;
- modules it imports from its working directory are forgotten afterwards;
- logging starts unconfigured (so a program's ``logging.basicConfig`` works as on a
  fresh interpreter) and is put back afterwards.

``asyncbyok`` commands run through click's ``CliRunner``, ``pytest`` through
``pytest.main``; both inside the same isolation.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs
from click.testing import CliRunner

__all__ = [
    "TIMEOUT",
    "Finished",
    "SampleTimeout",
    "isolated",
    "run_cli",
    "run_pytest",
    "run_script",
]

#: How long one program or command may run before it is interrupted (a hang guard).
TIMEOUT = 120.0


@attrs.frozen
class Finished:
    """What a program did: its exit status and what it printed (stdout and stderr)."""

    status: int
    output: str


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    saved = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


@contextlib.contextmanager
def _fresh_logging() -> Iterator[None]:
    """No handler on the root logger (pytest's included), as in a fresh interpreter."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {
        name: logger.level
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger in logging.Logger.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))


@contextlib.contextmanager
def _forget_local_modules(directory: Path) -> Iterator[None]:
    """``sys.path`` restored, and modules loaded from *directory* unloaded, afterwards."""
    saved_path = sys.path[:]
    before = set(sys.modules)
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin.startswith(str(directory)):
                del sys.modules[name]


class SampleTimeout(BaseException):
    """A program ran past :data:`TIMEOUT` (a ``BaseException``: no ``except Exception`` in
    the program stops it, just as none would stop a killed process)."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the body after *seconds*: a guard against a hang, not a timing assertion."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise SampleTimeout(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def isolated(env: Mapping[str, str], cwd: Path, argv: Sequence[str]) -> Iterator[io.StringIO]:
    """Run the body as a program would run: see the module's docstring. Yields its output."""
    output = io.StringIO()
    saved_argv = sys.argv[:]
    sys.argv[:] = list(argv)
    try:
        with (
            _deadline(TIMEOUT),
            _environment(env),
            _cwd(cwd),
            _forget_local_modules(cwd),
            _fresh_logging(),
            contextlib.redirect_stdout(output),
            contextlib.redirect_stderr(output),
        ):
            saved_stdin, sys.stdin = sys.stdin, io.StringIO("")
            try:
                yield output
            finally:
                sys.stdin = saved_stdin
    finally:
        sys.argv[:] = saved_argv


def _exit_status(exc: SystemExit) -> tuple[int, str]:
    """The status ``sys.exit(code)`` gives, and what the interpreter would print."""
    if exc.code is None:
        return 0, ""
    if isinstance(exc.code, int):
        return exc.code, ""
    return 1, f"{exc.code}\n"


def run_script(script: Path, env: Mapping[str, str]) -> Finished:
    """``python SCRIPT`` run from the script's directory, in this process."""
    code = compile(script.read_text(encoding="utf-8"), str(script), "exec")
    namespace = {"__name__": "__main__", "__file__": str(script), "__builtins__": __builtins__}
    with isolated(env, script.parent, [str(script)]) as output:
        sys.path.insert(0, str(script.parent))
        try:
            exec(code, namespace)
        except SystemExit as exc:
            status, message = _exit_status(exc)
            output.write(message)
            return Finished(status, output.getvalue())
        except KeyboardInterrupt:
            raise
        except BaseException:  # what the interpreter would print, SampleTimeout included
            import traceback

            traceback.print_exc(file=output)
            return Finished(1, output.getvalue())
        return Finished(0, output.getvalue())


def run_cli(args: Sequence[str], env: Mapping[str, str], cwd: Path) -> Finished:
    """``asyncbyok ARGS``, through click's ``CliRunner``; an unexpected exception is raised."""
    from asyncbyok.cli import cli

    with isolated(env, cwd, ["asyncbyok", *args]):
        result = CliRunner().invoke(cli, list(args), prog_name="asyncbyok")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        raise result.exception.with_traceback(result.exc_info[2])
    return Finished(result.exit_code, result.output)


#: Pytest plugins that the pages' ``conftest.py`` files load with ``pytest_plugins``. This
#: process may have imported them already (the suite's own tests do); the inner run gets
#: them fresh, as a new process would, or pytest warns that it cannot rewrite their asserts.
PAGE_PLUGINS = ("asyncbyok.emulator.pytest_plugin",)


@contextlib.contextmanager
def _fresh_modules(names: Sequence[str]) -> Iterator[None]:
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    try:
        yield
    finally:
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def run_pytest(args: Sequence[str], env: Mapping[str, str], cwd: Path) -> Finished:
    """``pytest ARGS`` in *cwd*, in this process (as pytest's own ``pytester`` can)."""
    import pytest

    with isolated(env, cwd, ["pytest", *args]) as output, _fresh_modules(PAGE_PLUGINS):
        status = pytest.main(list(args))
    return Finished(int(status), output.getvalue())
