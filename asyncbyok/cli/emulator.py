"""``asyncbyok emulator`` (and ``python -m asyncbyok.emulator``): serve the emulator until
Ctrl-C or SIGTERM.

Options are checked by click before anything starts: ``--port`` 0 to 65535 (0 takes a free
port), ``--rate`` above 0, fault rates between 0 and 1. A port already in use is a one-line
error with exit status 2. ``--limit-kind`` and ``--retry-after`` choose how the rate limit
counts and how its 429s say when to come back (:class:`asyncbyok.emulator.RateLimit`).

A ``--host`` beyond loopback (``0.0.0.0``, a LAN address) is refused (exit 2) unless
``--allow-remote`` is given, and then served with a warning on stderr: the emulator
speaks plain http and prints its keys, so anyone who can reach that address could use it.
``--log-requests`` writes one line per request to stderr: method, path, status and
milliseconds, never a header, a query string or a body.

The choices are written out here so that ``--help`` need not import the emulator (and
aiohttp); ``tests/emulator/test_main.py`` checks them against the emulator's own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from .session import EXIT_BAD_INPUT, Settings, json_option

if TYPE_CHECKING:
    from ..emulator import Emulator

__all__ = [
    "API_VERSIONS",
    "RATE_LIMIT_KINDS",
    "RETRY_AFTER_FORMS",
    "STATE_HEADER_FORMS",
    "TIMESTAMP_STYLES",
    "emulator_command",
    "emulator_from_options",
]

API_VERSIONS = ("newest", "excerpt", "oldest")
RATE_LIMIT_KINDS = ("bucket", "window")
RETRY_AFTER_FORMS = ("seconds", "fractional", "ms", "both", "none")
STATE_HEADER_FORMS = ("none", "ietf", "x-ratelimit")
TIMESTAMP_STYLES = ("z", "utc-offset", "offset", "lower", "fraction", "mixed")

_RATE = click.FloatRange(0, 1)


def emulator_from_options(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    management_keys: tuple[str, ...] = (),
    api_keys: tuple[str, ...] = (),
    rate: float | None = None,
    burst: int = 20,
    limit_kind: str = "bucket",
    retry_after: str = "seconds",
    limit_headers: str = "none",
    fail_rate: float = 0.0,
    commit_fail_rate: float = 0.0,
    drop_rate: float = 0.0,
    reset_rate: float = 0.0,
    latency: float = 0.0,
    seed: int | None = None,
    api_version: str = "newest",
    state_file: str | None = None,
    default_workspace_id: str | None = None,
    timestamp_style: str = "z",
    seed_keys: int = 0,
    log_requests: bool = False,
) -> Emulator:
    """An :class:`~asyncbyok.emulator.Emulator` configured as the command's options say
    (raises ``ValueError`` for a combination it refuses)."""
    from ..emulator import Emulator, FaultConfig, Faults, RateLimit

    config = FaultConfig(
        latency=latency,
        error_rate=fail_rate,
        commit_then_error_rate=commit_fail_rate,
        commit_then_drop_rate=drop_rate,
        reset_rate=reset_rate,
    )
    limit = None
    if rate is not None:
        limit = RateLimit(
            rate=rate,
            burst=burst,
            kind=limit_kind,  # type: ignore[arg-type]
            retry_after=retry_after,  # type: ignore[arg-type]
            state_headers=limit_headers,  # type: ignore[arg-type]
        )
    return Emulator(
        host=host,
        port=port,
        management_keys=management_keys or None,
        api_keys=api_keys or None,
        rate_limit=limit,
        faults=None if config == FaultConfig() else Faults({"*": config}),
        seed=seed,
        api_version=api_version,  # type: ignore[arg-type]
        state_file=state_file,
        default_workspace_id=default_workspace_id,
        timestamp_style=timestamp_style,  # type: ignore[arg-type]
        seed_keys=seed_keys,
        log_requests=log_requests,
    )


class _ServeError(click.ClickException):
    exit_code = EXIT_BAD_INPUT


def _check_host(host: str, *, allow_remote: bool) -> None:
    """Refuse a host beyond loopback without ``--allow-remote``; warn with it."""
    from ..sansio import is_loopback

    if is_loopback(host):
        return
    risk = (
        f"--host {host} is beyond loopback: anyone who can reach it can use the emulator, "
        "over plain http"
    )
    if not allow_remote:
        raise click.UsageError(f"{risk}; pass --allow-remote to serve there anyway")
    click.echo(f"Warning: {risk}.", err=True)


@contextlib.contextmanager
def _requests_logged_to_stderr(enabled: bool) -> Iterator[None]:
    """While serving, show the emulator's request log (one INFO line each) on stderr."""
    if not enabled:
        yield
        return
    import logging
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    log = logging.getLogger("asyncbyok.emulator.requests")
    saved = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # once, here: not again through a handler the root may have
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.level, log.propagate = saved


# Its own help options: click caches them per command, from the first context it runs in
# (standalone as `python -m asyncbyok.emulator`, or under the group).
@click.command("emulator", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port (0: any free port; the printed OPENROUTER_BASE_URL has it).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a --host beyond loopback (0.0.0.0 ...): anyone who can reach it can use "
    "the emulator, over plain http.",
)
@click.option(
    "--management-key",
    "management_keys",
    multiple=True,
    metavar="KEY",
    help="Accepted management key (repeatable; one is generated if none).",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    metavar="KEY",
    help="Accepted non-management key, answered 403 (repeatable).",
)
@click.option(
    "--rate",
    type=click.FloatRange(0, min_open=True),
    help="Rate limit: requests a second per management key (none if not given).",
)
@click.option("--burst", type=click.IntRange(1), default=20, show_default=True, help="Bucket size.")
@click.option(
    "--limit-kind",
    type=click.Choice(RATE_LIMIT_KINDS),
    default="bucket",
    show_default=True,
    help="Token bucket, or fixed one-second windows.",
)
@click.option(
    "--retry-after",
    type=click.Choice(RETRY_AFTER_FORMS),
    default="seconds",
    show_default=True,
    help="How a 429 says when to retry: whole seconds, fractional seconds, "
    "retry-after-ms, both headers, or nothing.",
)
@click.option(
    "--limit-headers",
    type=click.Choice(STATE_HEADER_FORMS),
    default="none",
    show_default=True,
    help="The limit's state on every answer: the IETF draft's RateLimit and "
    "RateLimit-Policy, or X-RateLimit-Limit/-Remaining/-Reset.",
)
@click.option("--fail-rate", type=_RATE, default=0.0, help="Fraction answered 500/502/503.")
@click.option(
    "--commit-fail-rate",
    type=_RATE,
    default=0.0,
    help="Fraction that store the change, then answer 500.",
)
@click.option(
    "--drop-rate",
    type=_RATE,
    default=0.0,
    help="Fraction that store the change, then drop the connection.",
)
@click.option(
    "--reset-rate", type=_RATE, default=0.0, help="Fraction reset before the body is read."
)
@click.option(
    "--latency",
    type=click.FloatRange(0),
    default=0.0,
    metavar="SECONDS",
    help="Seconds added to each request.",
)
@click.option("--seed", type=int, help="Seed of the fault sequence.")
@click.option(
    "--api-version",
    type=click.Choice(API_VERSIONS),
    default="newest",
    show_default=True,
    help="Server age to play.",
)
@click.option(
    "--timestamp-style",
    type=click.Choice(TIMESTAMP_STYLES),
    default="z",
    show_default=True,
    help="How created_at is written (RFC 3339 allows them all; mixed varies per key).",
)
@click.option("--state-file", metavar="FILE", help="JSON file keeping the state across restarts.")
@click.option(
    "--seed-keys",
    type=click.IntRange(0),
    default=0,
    metavar="N",
    help="Start with N openai credentials in the default workspace (a big account).",
)
@click.option(
    "--default-workspace-id", metavar="UUID", help="Workspace of requests that name none."
)
@click.option(
    "--log-requests",
    is_flag=True,
    help="Log each request to stderr: method, path, status, milliseconds (never a key).",
)
@json_option
@click.pass_context
def emulator_command(ctx: click.Context, /, **options: Any) -> None:
    """Serve a local BYOK API emulator until Ctrl-C.

    It prints a line to paste into another shell, `export OPENROUTER_BASE_URL=...
    OPENROUTER_API_KEY=...`, then its api_key and default_workspace_id as comments (one
    JSON document with --json), then serves.
    """
    import asyncio

    from ..emulator.serve import serve

    for name in ("limit_kind", "retry_after", "limit_headers"):
        given = ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        if given and options["rate"] is None:
            raise click.UsageError(f"--{name.replace('_', '-')} needs --rate")
    _check_host(options["host"], allow_remote=options.pop("allow_remote"))
    log_requests = options["log_requests"]
    try:
        emulator = emulator_from_options(**options)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    settings = ctx.ensure_object(Settings)
    try:
        with _requests_logged_to_stderr(log_requests):
            asyncio.run(serve(emulator, json_output=settings.json))
    except OSError as exc:
        import errno
        import os

        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        hint = " (choose another --port, or 0 for any free one)"
        where = f"{options['host']}:{options['port']}"
        in_use = exc.errno == errno.EADDRINUSE
        raise _ServeError(f"cannot serve on {where}: {reason}{hint if in_use else ''}") from None
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were in place
        pass
