"""What every command shares: settings, the client (or an in-process emulator), exit codes.

Exit codes: ``0`` success, ``1`` a failure from the API (for ``apply``: some items
failed), ``2`` bad input (a bad manifest, a missing key reference, bad options). Errors are
one ``Error: ...`` line on stderr, with a traceback only under ``--debug``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import attrs
import click

from .._constants import API_KEY_ENV, BASE_URL_ENV
from ..errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    AsyncBYOKError,
    ValidationError,
)
from .output import Output

if TYPE_CHECKING:
    from ..client import Client
    from ..emulator import Emulator

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILURE",
    "EXIT_OK",
    "BadInput",
    "Connection",
    "Settings",
    "common_options",
    "connect",
    "run",
]

# Seconds: the in-process emulator answers about as fast as a real API (not instantly), so
# the example fleet shows its progress bar. Each request waits 0.5x to 1.5x this.
DEFAULT_EMULATOR_LATENCY = 0.1

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(Exception):
    """Input the command cannot use (exit status 2); the message is shown as is."""


@attrs.define
class Settings:
    """The options every command takes (on the group or on the command itself)."""

    api_key: str | None = None
    base_url: str | None = None
    emulator: bool = False
    emulator_state: str | None = None
    emulator_latency: float | None = None
    json: bool = False
    debug: bool = False

    @property
    def output(self) -> Output:
        return Output(json_mode=self.json)


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _: click.Parameter, value: Any) -> None:
        settings = ctx.ensure_object(Settings)
        if value not in (None, False):  # an option not given never undoes the group's
            setattr(settings, name, value)
            if name.startswith("emulator_"):
                settings.emulator = True

    return callback


_COMMON = (
    click.option(
        "--api-key",
        metavar="KEY",
        help=f"Management key (default: ${API_KEY_ENV}).",
    ),
    click.option(
        "--base-url",
        metavar="URL",
        help=f"API base URL (default: ${BASE_URL_ENV}, then https://openrouter.ai/api/v1).",
    ),
    click.option(
        "--emulator",
        is_flag=True,
        default=None,
        help="Run against a local in-process emulator (starts empty, gone on exit).",
    ),
    click.option(
        "--emulator-state",
        metavar="FILE",
        help="Keep the --emulator's state in FILE between runs (implies --emulator).",
    ),
    click.option(
        "--emulator-latency",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        help="Mean latency the --emulator adds to each request, like a real API "
        f"(default {DEFAULT_EMULATOR_LATENCY}; 0 for none).",
    ),
    click.option("--json", "json_", is_flag=True, default=None, help="Print JSON for scripts."),
    click.option("--debug", is_flag=True, default=None, help="Show tracebacks on errors."),
)
_NAMES = (
    "api_key",
    "base_url",
    "emulator",
    "emulator_state",
    "emulator_latency",
    "json",
    "debug",
)


def common_options(func: F) -> F:
    """Add the shared options to a command or group; their values land in ``Settings``."""
    for option, name in reversed(list(zip(_COMMON, _NAMES, strict=True))):
        func = option(func)
        # click passes the value to the function unless it is not exposed; store it instead.
        func.__click_params__[-1].expose_value = False  # type: ignore[attr-defined]
        func.__click_params__[-1].callback = _store(name)  # type: ignore[attr-defined]
    return func


@attrs.frozen
class Connection:
    """An open client, and the emulator behind it when ``--emulator`` was given."""

    client: Client
    emulator: Emulator | None = None


@contextlib.asynccontextmanager
async def connect(settings: Settings, *, quiet: bool = False) -> AsyncIterator[Connection]:
    """A client for *settings*: the real API, or a fresh in-process emulator."""
    from ..client import Client

    if settings.emulator and settings.base_url:
        raise BadInput("--emulator and --base-url exclude each other: choose one")
    if not settings.emulator:
        api_key = settings.api_key or os.environ.get(API_KEY_ENV)
        if not api_key:
            raise BadInput(
                f"no API key: set {API_KEY_ENV}, pass --api-key, or use --emulator to try "
                "a local emulator"
            )
        async with Client(api_key=api_key, base_url=settings.base_url) as client:
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
        client = Client(api_key=emulator.management_key, base_url=emulator.base_url)
        async with client:
            yield Connection(client, emulator)


def _describe_api_error(exc: APIError) -> str:
    if isinstance(exc, APIStatusError):
        rid = f" (request id {exc.request_id})" if exc.request_id else ""
        return f"{exc.status} {type(exc).__name__}: {exc.message}{rid}"
    if isinstance(exc, APIConnectionError):
        return f"cannot reach the API: {exc}"
    return str(exc)


def _validation_lines(exc: ValidationError) -> list[str]:
    head = f"{exc.subject}: {len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''}"
    if len(exc.errors) == 1:
        return [f"{exc.subject}: {exc.errors[0]}"]
    return [head, *(f"  {e}" for e in exc.errors)]


def _report(out: Output, exc: Exception, *, debug: bool) -> int:
    """Print *exc* as one line (a list for manifest errors); the exit status it means."""
    if isinstance(exc, BadInput):
        out.error(str(exc))
        return EXIT_BAD_INPUT
    if isinstance(exc, ValidationError):
        first, *rest = _validation_lines(exc)
        out.error(first)
        for line in rest:
            out.diagnostic(line)
        return EXIT_BAD_INPUT
    if isinstance(exc, APIError):
        out.error(_describe_api_error(exc))
        return EXIT_FAILURE
    if isinstance(exc, AsyncBYOKError):  # bad settings, e.g. an insecure base URL
        out.error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return EXIT_BAD_INPUT
    hint = "" if debug else " (run with --debug for the traceback)"
    out.error(f"unexpected {type(exc).__name__}: {exc}{hint}")
    return EXIT_FAILURE


def run(settings: Settings, main: Callable[[], Coroutine[Any, Any, int]]) -> NoReturn:
    """Run a command's coroutine and exit with its status, turning errors into one line."""
    out = settings.output
    if settings.debug:  # the client logs each request: method, URL, status (never a key)
        logging.basicConfig(stream=sys.stderr, format="%(name)s: %(message)s")
        logging.getLogger("asyncbyok").setLevel(logging.DEBUG)
    try:
        code = asyncio.run(main())
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
        raise
    except KeyboardInterrupt:
        out.error("interrupted")
        code = 130
    except Exception as exc:
        if settings.debug:
            traceback.print_exc(file=sys.stderr)
        code = _report(out, exc, debug=settings.debug)
    sys.exit(code)
