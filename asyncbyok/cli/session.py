"""What every command shares: settings, the client (or an in-process emulator), exit codes.

Exit codes: ``0`` success; ``1`` a failure from the API (for ``apply``, ``delete`` and
``rotate``: some items failed); ``2`` bad input (a bad manifest, a missing key reference,
bad options), found before anything is sent; ``3`` ``plan --exit-code`` found changes; ``130``
interrupted. Errors are one ``Error: ...`` line on stderr (a traceback only under
``--debug``); with ``--json`` they are also one JSON document on stdout
(:mod:`asyncbyok.cli.failure`).

Only click is imported at module level: ``asyncbyok --help`` must start fast, so the
client, the emulator and rich are imported where a command first needs them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from .._constants import API_KEY_ENV, BASE_URL_ENV
from .exits import (
    EXIT_BAD_INPUT,
    EXIT_CHANGES,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
    Declined,
    Interrupted,
)

if TYPE_CHECKING:
    from ..client import Client
    from ..emulator import Emulator
    from .output import Output
    from .redact import Redactor

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHANGES",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "BadInput",
    "Connection",
    "Declined",
    "Interrupted",
    "Settings",
    "common_options",
    "connect",
    "json_option",
    "run",
]

# Seconds: the in-process emulator answers about as fast as a real API (not instantly), so
# the example fleet shows its progress bar. Each request waits 0.5x to 1.5x this.
DEFAULT_EMULATOR_LATENCY = 0.1

F = TypeVar("F", bound=Callable[..., Any])


class Settings:
    """The options every command takes (on the group or on the command itself), and the
    secrets seen so far, which no message may show."""

    def __init__(self) -> None:
        self.api_key: str | None = None
        self.base_url: str | None = None
        self.allow_insecure_http = False
        self.emulator = False
        self.emulator_state: str | None = None
        self.emulator_latency: float | None = None
        self.json = False
        self.debug = False
        self._redactor: Redactor | None = None
        self._output: Output | None = None

    @property
    def redactor(self) -> Redactor:
        """Every secret this run has seen; it scrubs them from messages."""
        if self._redactor is None:
            from .redact import Redactor

            self._redactor = Redactor()
            self._redactor.add(self.api_key, always=True)
            self._redactor.add(os.environ.get(API_KEY_ENV), always=True)
        return self._redactor

    @property
    def output(self) -> Output:
        """Where this command prints (created on first use, with the current streams)."""
        if self._output is None:
            from .output import Output

            self._output = Output(json_mode=self.json, redactor=self.redactor)
        return self._output


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _: click.Parameter, value: Any) -> None:
        settings = ctx.ensure_object(Settings)
        # An option not given never undoes the group's; 0 is a value (--emulator-latency 0),
        # though 0 == False.
        if value is not None and value is not False:
            setattr(settings, name, value)
            if name.startswith("emulator_"):
                settings.emulator = True

    return callback


_COMMON = (
    (
        "api_key",
        click.option("--api-key", metavar="KEY", help=f"Management key (default: ${API_KEY_ENV})."),
    ),
    (
        "base_url",
        click.option(
            "--base-url",
            metavar="URL",
            help=f"API base URL (default: ${BASE_URL_ENV}, then https://openrouter.ai/api/v1).",
        ),
    ),
    (
        "allow_insecure_http",
        click.option(
            "--allow-insecure-http",
            is_flag=True,
            default=None,
            help="Allow a plain http:// base URL beyond loopback (the key travels in clear).",
        ),
    ),
    (
        "emulator",
        click.option(
            "--emulator",
            is_flag=True,
            default=None,
            help="Run against a local in-process emulator (starts empty, gone on exit).",
        ),
    ),
    (
        "emulator_state",
        click.option(
            "--emulator-state",
            metavar="FILE",
            help="Keep the --emulator's state in FILE between runs (implies --emulator).",
        ),
    ),
    (
        "emulator_latency",
        click.option(
            "--emulator-latency",
            type=click.FloatRange(min=0),
            metavar="SECONDS",
            help="Mean latency the --emulator adds to each request, like a real API "
            f"(default {DEFAULT_EMULATOR_LATENCY}; 0 for none).",
        ),
    ),
    (
        "json",
        click.option(
            "--json", "json_", is_flag=True, default=None, help="Print one JSON document."
        ),
    ),
    ("debug", click.option("--debug", is_flag=True, default=None, help="Show tracebacks.")),
)


def json_option(func: F) -> F:
    """Only ``--json``, for a command without the connection options (``emulator``)."""
    return click.option(
        "--json",
        "json_",
        is_flag=True,
        default=None,
        expose_value=False,
        callback=_store("json"),
        help="Print one JSON document.",
    )(func)


def common_options(func: F) -> F:
    """Add the shared options to a command or group; their values land in ``Settings``."""
    for name, option in reversed(_COMMON):
        func = option(func)
        # click passes the value to the function unless it is not exposed; store it instead.
        func.__click_params__[-1].expose_value = False  # type: ignore[attr-defined]
        func.__click_params__[-1].callback = _store(name)  # type: ignore[attr-defined]
    return func


class Connection:
    """An open client, and the emulator behind it when ``--emulator`` was given."""

    def __init__(self, client: Client, emulator: Emulator | None = None) -> None:
        self.client = client
        self.emulator = emulator


def _insecure_url_message(base_url: str) -> str:
    from urllib.parse import urlsplit

    host = urlsplit(base_url).hostname or base_url
    return (
        f"refusing to send the management key over plain http to {host}: use https, or "
        "pass --allow-insecure-http to accept the risk (plain http is meant for loopback, "
        "e.g. an emulator)"
    )


def _client(settings: Settings, api_key: str, base_url: str | None) -> Client:
    from ..client import Client

    try:
        return Client(
            api_key=api_key,
            base_url=base_url,
            allow_insecure_http=settings.allow_insecure_http,
        )
    except Exception as exc:
        # The SDK's message names its keyword argument; the command has an option instead.
        if any(c.__name__ == "InsecureURLError" for c in type(exc).__mro__):
            raise BadInput(_insecure_url_message(str(base_url))) from None
        raise


@contextlib.asynccontextmanager
async def connect(settings: Settings, *, quiet: bool = False) -> AsyncIterator[Connection]:
    """A client for *settings*: the real API, or a fresh in-process emulator."""
    if settings.emulator and settings.base_url:
        raise BadInput("--emulator and --base-url exclude each other: choose one")
    if not settings.emulator:
        api_key = settings.api_key or os.environ.get(API_KEY_ENV)
        if not api_key:
            raise BadInput(
                f"no API key: set {API_KEY_ENV}, pass --api-key, or use --emulator to try "
                "a local emulator"
            )
        base_url = settings.base_url or os.environ.get(BASE_URL_ENV) or None
        async with _client(settings, api_key, base_url) as client:
            yield Connection(client)
        return

    from ..emulator import Emulator, FaultConfig

    latency = settings.emulator_latency
    latency = DEFAULT_EMULATOR_LATENCY if latency is None else latency
    faults = FaultConfig(latency_range=(latency / 2, latency * 1.5)) if latency else None
    emulator = Emulator(state_file=settings.emulator_state, faults=faults)
    async with emulator:
        if not quiet:
            kept = f"state in {settings.emulator_state}" if settings.emulator_state else "empty"
            settings.output.note(f"Using an in-process emulator at {emulator.base_url} ({kept})")
        async with _client(settings, emulator.management_key, emulator.base_url) as client:
            yield Connection(client, emulator)


def _note_option_secrets(settings: Settings) -> None:
    """Option values that look like keys are secrets too: no message may echo them. So is
    the key in ``--key-env``'s variable, known before anything runs (a log line written
    before the command reads it must not show it either)."""
    ctx: click.Context | None = click.get_current_context(silent=True)
    while ctx is not None:
        for name, value in ctx.params.items():
            values = value if isinstance(value, (tuple, list)) else (value,)
            for item in values:
                if isinstance(item, (str, os.PathLike)):  # a key given as a path, too
                    settings.redactor.add(os.fspath(item))
            if name.endswith("key_env") and isinstance(value, str):
                settings.redactor.add(os.environ.get(value), always=True)
        ctx = ctx.parent


# Options whose value is a path: bytes that are not UTF-8 are fine there (the file system
# takes them back as they came), and nowhere else (they cannot be sent as JSON).
_PATH_OPTIONS = frozenset({"manifest_path", "key_file", "from_key_file", "to_key_file", "output"})


def _refuse_undecodable_options() -> None:
    """Refuse an option given bytes that are not UTF-8 (Python keeps them as lone
    surrogates, which no request body can carry), naming it but not the value."""
    ctx: click.Context | None = click.get_current_context(silent=True)
    while ctx is not None:
        for name, value in ctx.params.items():
            values = value if isinstance(value, (tuple, list)) else (value,)
            for item in values:
                if name in _PATH_OPTIONS or not isinstance(item, str):
                    continue
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    option = "--" + name.replace("_", "-")
                    raise BadInput(f"{option}: the value is not UTF-8 text") from None
        ctx = ctx.parent


def run(settings: Settings, main: Callable[[], Coroutine[Any, Any, int]]) -> NoReturn:
    """Run a command's coroutine and exit with its status, turning errors into one line
    (and, with ``--json``, one JSON document)."""
    import asyncio

    from .failure import fail, failure_of
    from .logs import debug_logging, redacted_logging

    _note_option_secrets(settings)
    ctrl_c = _CtrlC()
    try:
        _refuse_undecodable_options()
        with redacted_logging(settings.redactor), debug_logging(settings):
            code = asyncio.run(ctrl_c.guard(main))
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
        raise
    except (KeyboardInterrupt, asyncio.CancelledError) as exc:
        if isinstance(exc, asyncio.CancelledError) and not ctrl_c.pressed:
            fail(settings, failure_of(exc, debug=settings.debug), exc=exc)
        _interrupted(settings)
    except Exception as exc:
        fail(settings, failure_of(exc, debug=settings.debug), exc=exc)
    finally:
        ctrl_c.restore()
    if ctrl_c.pressed:  # the command caught the cancellation and finished its own way
        _interrupted(settings)
    raise click.exceptions.Exit(code)


def _interrupted(settings: Settings) -> NoReturn:
    from .failure import Failure, fail

    fail(settings, Failure(EXIT_INTERRUPTED, "interrupted", "interrupted"))


class _CtrlC:
    """Ctrl-C cancels the command's main task, so it unwinds through its own code.

    Left to the interpreter, SIGINT raises ``KeyboardInterrupt`` in whatever Python code
    runs at that instant: inside a task (Python 3.10's ``asyncio.run`` has no handler of
    its own), aiohttp's callbacks or attrs' ``__init__``. The task then dies with it, and
    asyncio reports it with a traceback after the command's ``Error: interrupted``. The
    event loop's own signal handler runs between callbacks instead: the main task sees a
    ``CancelledError`` at an ``await``, as on 3.11+. A second Ctrl-C cancels again, and a
    third gets the interpreter's default (for a command stuck in cleanup).
    """

    def __init__(self) -> None:
        import signal
        import threading

        self.pressed = 0
        # The handler before asyncio.run: on 3.11+ asyncio.run puts one of its own in
        # place first, which must not outlive it (the next asyncio.run of the process,
        # seeing a handler that is not the default, would leave Ctrl-C to it).
        self._main = threading.current_thread() is threading.main_thread()
        self._before: Any = signal.getsignal(signal.SIGINT) if self._main else None
        self._installed = False

    async def guard(self, main: Callable[[], Coroutine[Any, Any, int]]) -> int:
        import asyncio
        import signal

        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None and self._main:

            def on_sigint() -> None:
                self.pressed += 1
                if self.pressed >= 2:  # the next one gets KeyboardInterrupt
                    loop.remove_signal_handler(signal.SIGINT)
                task.cancel()

            try:
                loop.add_signal_handler(signal.SIGINT, on_sigint)
            except (NotImplementedError, RuntimeError, ValueError):  # Windows, or no signals
                pass
            else:
                self._installed = True
        return await main()

    def restore(self) -> None:
        """Put back the SIGINT handler there was before the command ran (the loop's close
        set the default, which may not be what the process had)."""
        if self._installed and self._before is not None:  # None: not set from Python
            import signal

            signal.signal(signal.SIGINT, self._before)
        self._installed = False
