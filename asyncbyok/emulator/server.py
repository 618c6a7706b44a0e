"""The :class:`Emulator`: the application served on a loopback port, in-process.

Two ways to run it::

    async with Emulator() as emu:                    # in the current event loop
        ...

    with Emulator().run_in_thread() as emu:          # its own loop in a daemon thread
        ...                                          # (sync tests, other async frameworks)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import ssl
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType

from aiohttp import web

from .app import API_PREFIX, build_app
from .context import (
    API_VERSIONS,
    DEFAULT_MAX_RECEIVED,
    ApiVersion,
    AppContext,
    ReceivedLog,
    Stats,
)
from .faults import FaultConfig, FaultPlan, Faults
from .ratelimit import RateLimit, RateLimiter
from .replies import TIMESTAMP_STYLES, TimestampStyle
from .store import Store

__all__ = ["Emulator", "SeedKeys", "generate_key"]

SeedKeys = int | Mapping[str, int]
"""What ``Emulator(seed_keys=...)`` takes: a number of ``openai`` credentials, or a count
per provider (``{"openai": 20_000, "anthropic": 500}``), all in the default workspace."""


def generate_key(kind: str = "mgmt") -> str:
    """A random key for the emulator: ``emulator-mgmt-<64 hex>`` (``kind=""``: no infix).

    Deliberately not OpenRouter's ``sk-or-v1-`` format: secret scanners flag that one, and
    an emulator key in a log, a CI transcript or a committed test must not raise an alarm
    (or pass for a real key). The emulator accepts any string as a key.
    """
    infix = f"{kind}-" if kind else ""
    return f"emulator-{infix}{secrets.token_hex(32)}"


def _as_faults(faults: Faults | FaultConfig | None) -> Faults:
    if faults is None:
        return Faults()
    return Faults({"*": faults}) if isinstance(faults, FaultConfig) else faults


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The thread of :meth:`Emulator.run_in_thread`: run *loop*, then close it cleanly."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _check_choices(api_version: str, timestamp_style: str) -> None:
    if api_version not in API_VERSIONS:
        raise ValueError(f"api_version must be one of {API_VERSIONS}, not {api_version!r}")
    if timestamp_style not in TIMESTAMP_STYLES:
        raise ValueError(
            f"timestamp_style must be one of {TIMESTAMP_STYLES}, not {timestamp_style!r}"
        )


class Emulator:
    """A local BYOK API server for tests and development, on ``127.0.0.1``::

        async with Emulator(seed=1, faults=Faults.everywhere(error_rate=0.1)) as emu:
            ...  # a client on emu.base_url, authenticated with emu.management_key

    Arguments (all keyword-only, all optional):

    ``host``, ``port``
        Where to listen; port 0 (the default) takes a free port. See :attr:`base_url`.
        A host beyond loopback (``0.0.0.0``) serves anyone who can reach it, over plain
        http, with no more than the keys to stop them; ``asyncbyok emulator`` asks for
        ``--allow-remote`` first.
    ``management_keys``, ``api_keys``
        Accepted bearer keys. Management keys may do everything; the others get 403.
        One of each is generated when not given (:attr:`management_key`, :attr:`api_key`).
    ``rate_limit``
        A :class:`RateLimit` (token bucket per management key), or ``None`` for no limit.
    ``faults``
        A :class:`Faults`, or one :class:`FaultConfig` for every operation.
    ``seed``
        Makes the fault sequence reproducible; random (and kept in :attr:`seed`) if not given.
    ``api_version``
        ``"newest"`` (every field), ``"excerpt"`` (without ``declared_region``,
        ``declared_zdr``, ``is_byok_only``, ``is_required``) or ``"oldest"`` (also without
        ``allowed_api_key_hashes``): the server age to play; unknown fields in bodies are 400.
    ``state_file``
        A JSON file holding the state across restarts (digests, never keys).
    ``default_workspace_id``
        The workspace used when a request gives none; random when not given. Ids and
        workspace ids are UUIDs, as the API's are.
    ``seed_keys``
        Credentials the account already holds when the emulator starts, made without a
        request (:meth:`~asyncbyok.emulator.Store.seed`): a number of ``openai`` ones, or
        a count per provider, in the default workspace, named ``seed-<provider>-000000``
        on. ``Emulator(seed_keys=100_000)`` is a big account in about a second.
    ``max_received``
        How many requests :attr:`received` keeps, the newest (10,000 by default).
    ``log_requests``
        Log one line per request on the ``asyncbyok.emulator.requests`` logger, at INFO:
        method, path, status, milliseconds; never a header, a query string or a body.
    ``ssl_context``
        Serve HTTPS with this :class:`ssl.SSLContext` (a server context holding the
        certificate; one that verifies client certificates makes it mutual TLS):
        :attr:`url` and :attr:`base_url` then start with ``https://``. Plain HTTP when not
        given. The client tests' certificates come from a CA they make (``trustme``).
    ``timestamp_style``
        How ``created_at`` is written (:data:`~asyncbyok.emulator.replies.TimestampStyle`):
        ``"z"`` (the default, ``2025-08-24T10:30:00.123456Z``), ``"utc-offset"``,
        ``"offset"`` (``-05:30``), ``"lower"`` (``t`` and ``z``), ``"fraction"`` (nine
        digits) or ``"mixed"`` (one of them per key). All are RFC 3339, as real servers
        send them; a client must read each.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        management_keys: Iterable[str] | None = None,
        api_keys: Iterable[str] | None = None,
        rate_limit: RateLimit | None = None,
        faults: Faults | FaultConfig | None = None,
        seed: int | None = None,
        api_version: ApiVersion = "newest",
        state_file: str | os.PathLike[str] | None = None,
        default_workspace_id: str | None = None,
        timestamp_style: TimestampStyle = "z",
        shutdown_timeout: float = 1.0,
        seed_keys: SeedKeys | None = None,
        max_received: int = DEFAULT_MAX_RECEIVED,
        log_requests: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        _check_choices(api_version, timestamp_style)
        self.host = host
        self._requested_port = port
        self._ssl_context = ssl_context
        self._shutdown_timeout = shutdown_timeout
        self.seed: int = random.SystemRandom().randrange(2**32) if seed is None else seed
        """The fault seed in use (generated when none was given, to reproduce a run)."""
        mgmt = tuple(management_keys) if management_keys is not None else (generate_key("mgmt"),)
        other = tuple(api_keys) if api_keys is not None else (generate_key(""),)
        if not mgmt:
            raise ValueError("at least one management key is needed")
        workspace = default_workspace_id
        if workspace is None and state_file is not None:
            workspace = Store.saved_default_workspace(state_file)
        self.store = Store(default_workspace_id=workspace or str(uuid.uuid4()), path=state_file)
        """The server-side records: ``emu.store.records``, ``emu.store.live()``."""
        self._seed_keys = seed_keys
        self._plant()
        self.stats = Stats()
        """Counters: requests per operation, responses per status, faults fired ..."""
        self._context = AppContext(
            store=self.store,
            stats=self.stats,
            plan=FaultPlan(_as_faults(faults), seed=self.seed),
            management_keys=frozenset(mgmt),
            api_keys=frozenset(other),
            api_version=api_version,
            timestamp_style=timestamp_style,
            limiter=RateLimiter(rate_limit) if rate_limit else None,
            received=ReceivedLog(max_received),
            log_requests=log_requests,
        )
        self.management_keys = mgmt
        self.api_keys = other
        self.app: web.Application = build_app(self._context)
        """The ``aiohttp`` application, to mount or serve some other way."""
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------ what tests use

    @property
    def management_key(self) -> str:
        """The first management key: send it as ``Authorization: Bearer <key>``."""
        return self.management_keys[0]

    @property
    def api_key(self) -> str:
        """A valid key that is not a management key (answered 403)."""
        if not self.api_keys:
            raise LookupError("this emulator was given no non-management api_keys")
        return self.api_keys[0]

    @property
    def default_workspace_id(self) -> str:
        """The workspace of requests that name none."""
        return self.store.default_workspace_id

    @property
    def received(self) -> ReceivedLog:
        """``(operation, body)`` of each request that reached its handler, key redacted: a
        list of the newest ``max_received`` (10,000 by default), oldest first."""
        return self._context.received

    @property
    def api_version(self) -> ApiVersion:
        """The server age being played."""
        return self._context.api_version

    @property
    def timestamp_style(self) -> TimestampStyle:
        """How ``created_at`` is written; assign to change it while running."""
        return self._context.timestamp_style

    @timestamp_style.setter
    def timestamp_style(self, style: TimestampStyle) -> None:
        if style not in TIMESTAMP_STYLES:
            raise ValueError(f"timestamp_style must be one of {TIMESTAMP_STYLES}, not {style!r}")
        self._context.timestamp_style = style

    @property
    def faults(self) -> Faults:
        """The fault configuration; assign to change it while running."""
        return self._context.plan.faults

    @faults.setter
    def faults(self, faults: Faults | FaultConfig | None) -> None:
        self._context.plan.faults = _as_faults(faults)

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate limit; assign to change it (buckets start full again)."""
        limiter = self._context.limiter
        return limiter.limit if limiter else None

    @rate_limit.setter
    def rate_limit(self, limit: RateLimit | None) -> None:
        self._context.limiter = RateLimiter(limit) if limit else None

    def _plant(self) -> None:
        """Store the ``seed_keys`` credentials (the same ids each time, from the seed)."""
        seed_keys = self._seed_keys
        if not seed_keys:
            return
        counts = {"openai": seed_keys} if isinstance(seed_keys, int) else seed_keys
        rng = random.Random(self.seed)
        for provider, count in counts.items():
            self.store.seed(count, provider=provider, rng=rng)

    def reset(self) -> None:
        """Back to the start: only the ``seed_keys`` credentials (the same ones), no
        counter, no received request; faults start from the seed again."""
        self.store.clear()
        self._plant()
        self.stats.clear()
        self.received.clear()
        self.rate_limit = self.rate_limit
        self._context.plan.reseed(self.seed)

    # ------------------------------------------------------------ address

    @property
    def port(self) -> int:
        """The port listened on (known once started)."""
        if self._port is None:
            raise RuntimeError("the emulator is not running: use `async with Emulator()`")
        return self._port

    @property
    def connections(self) -> int:
        """How many client connections the server holds open now (0 when not running)."""
        server = self._runner.server if self._runner is not None else None
        return len(server.connections) if server is not None else 0

    @property
    def url(self) -> str:
        """``http://host:port`` (``https://`` with an ``ssl_context``), without the API
        prefix."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "http" if self._ssl_context is None else "https"
        return f"{scheme}://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API's base URL, like ``http://127.0.0.1:PORT/api/v1``."""
        return self.url + API_PREFIX

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> Emulator:
        """Start serving in the running event loop."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=self._shutdown_timeout)
        await runner.setup()
        try:
            site = web.TCPSite(
                runner, self.host, self._requested_port, ssl_context=self._ssl_context
            )
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        return self

    async def close(self) -> None:
        """Stop serving; requests still running get ``shutdown_timeout`` seconds to finish."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @contextlib.contextmanager
    def run_in_thread(self, *, timeout: float = 30.0) -> Iterator[Emulator]:
        """Serve from a daemon thread with its own event loop, for synchronous code::

            with Emulator().run_in_thread() as emu:
                print(emu.base_url)

        The loop, the server and the thread are all stopped and closed on exit.
        """
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=_run_loop, args=(loop,), name="asyncbyok-emulator", daemon=True
        )
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout)
            try:
                yield self
            finally:
                asyncio.run_coroutine_threadsafe(self.close(), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
