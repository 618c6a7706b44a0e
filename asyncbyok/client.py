"""The :class:`Client`: configuration, one shared session, and the request path.

Every call goes through :meth:`Client.request`, and from there strictly downward::

    Client.request                 build the request (sansio, pure); hold the loop (transport.call)
      retry.run                    the policy loop: decide (pure), wait, look up, resend
        attempt.Sender.send        one attempt: a turn (flow), the timeout, decode (response)
          transport.Transport.send the request on the wire (aiohttp)

Each layer calls only the one below it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from . import sansio
from ._auth import APIKey, KeySource, check_api_key
from ._constants import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from ._scrub import request_secrets
from ._sentinel import UNSET, Unset
from ._session import SessionOptions, session_options
from .attempt import Sender
from .config import Limits, Timeout
from .ensure import Pending
from .errors import AsyncBYOKError
from .flow import Flow
from .hooks import CallEvent, CallWatch, EventHooks, Hook, Observer
from .listings import ScopeListings
from .pacing import AdaptiveRateLimiter, BackoffGate
from .resources.byok import BYOKResource
from .response import APIResponse
from .retry import Reconciliation, RetryBudget, RetryEvent, RetryPolicy, run
from .safe_create import Claims
from .transport import Transport

if TYPE_CHECKING:
    from ssl import SSLContext

    import aiohttp

    from ._session import SessionFactory
    from .coordination import RedisLimit

__all__ = ["APIResponse", "Client"]

T = TypeVar("T")
logger = logging.getLogger("asyncbyok")


@attrs.define
class _Shared:
    """What a client and its ``with_options`` copies share: one of each, per client.

    The transport owns the binding to an event loop, the calls in flight and closing
    (:mod:`asyncbyok._loops`); when it moves to a new loop (the old one ended), the
    state kept per loop here starts afresh.
    """

    transport: Transport
    flow: Flow = attrs.field(factory=Flow)  # ramp, pacer, backoff gate, 429s
    budget: RetryBudget = attrs.field(factory=RetryBudget)
    listings: ScopeListings = attrs.field(factory=ScopeListings)  # shared by lookups, ensure
    claims: Claims = attrs.field(factory=Claims)  # credentials creates returned
    pending: Pending = attrs.field(factory=Pending)  # ensure work in flight, by name
    observer: Observer | None = None  # tracing (asyncbyok.otel), of every copy's calls

    def __attrs_post_init__(self) -> None:
        self.transport.add_loop_listener(self._moved)

    def _moved(self, generation: int) -> None:
        """The client followed its user to another event loop (the old one has ended)."""
        if generation > 1:  # the old loop's waits, locks and listings died with it
            self.flow.reset()
            self.listings.reset()
            self.pending.reset()

    async def aclose(self) -> None:
        await self.transport.aclose()
        if self.flow.shared is not None:  # after the calls that might still ask it
            await self.flow.shared.aclose()


def _policy(retry: RetryPolicy | Unset, max_retries: int | Unset) -> RetryPolicy:
    """``Client(retry=..., max_retries=...)``: the policy, with its ``max_retries`` replaced
    when that is given."""
    policy = RetryPolicy() if retry is UNSET else retry
    return policy if max_retries is UNSET else attrs.evolve(policy, max_retries=max_retries)


def _secrets(headers: Mapping[str, str], options: SessionOptions) -> tuple[str, ...]:
    """What no answer or error may show: the key, and the proxy's credentials (aiohttp
    sends them in headers of its own); longest first, so each is replaced whole."""
    found = request_secrets(headers) + options.secrets
    return tuple(sorted(found, key=len, reverse=True))


class Client:
    """An async client for the BYOK API. Use it as an async context manager::

        async with asyncbyok.Client() as client:
            key = await client.byok.create(provider="openai", key=raw_key, name="prod")
            async for k in client.byok.list():
                print(k.name, k.label)

    Arguments (all keyword-only):

    - ``api_key``: a management key; default ``$OPENROUTER_API_KEY``. Or a function (or
      coroutine function) returning the current key, asked before every attempt, so a
      rotated key is picked up without a new client.
    - ``base_url``: default ``$OPENROUTER_BASE_URL``, then ``https://openrouter.ai/api/v1``.
      Plain ``http://`` is refused except to loopback, unless ``allow_insecure_http``.
    - ``timeout``: a :class:`~asyncbyok.config.Timeout`, seconds, or ``None`` (no limit).
    - ``max_retries``: shorthand for ``retry=RetryPolicy(max_retries=...)``.
    - ``retry``: a :class:`~asyncbyok.retry.RetryPolicy`.
    - ``limits``: :class:`~asyncbyok.config.Limits` (connections at once).
    - ``session``: your own ``aiohttp.ClientSession``, used as is and not closed by us
      (it belongs to its event loop: the client cannot follow you to another one).
    - ``session_factory``: called as ``session_factory(**settings)`` once per event loop,
      it returns the ``aiohttp.ClientSession`` to use there, made with the settings the
      client needs and anything you add (``trace_configs``). See "Embedding asyncbyok".
    - ``proxy``: an ``http://[user:password@]host:port`` forward proxy.
    - ``trust_env``: take the proxy from ``HTTP_PROXY``/``HTTPS_PROXY``, unless
      ``NO_PROXY`` names the API's host; read once, when the client is made.
    - ``ssl``: an ``ssl.SSLContext`` (a private CA, a client certificate for mutual TLS),
      or ``False`` (no verification) together with ``allow_insecure_tls=True``, which
      also logs a warning each time a session is made.
    - ``app_url`` / ``app_title``: sent as ``HTTP-Referer`` / ``X-OpenRouter-Title``.
    - ``on_retry``: called with a :class:`~asyncbyok.retry.RetryEvent` before each retry.
    - ``event_hooks``: ``{"request": [...], "response": [...], "error": [...]}``, functions
      or coroutine functions called with events that carry no secret (see
      :mod:`asyncbyok.hooks`).
    - ``shared_limit``: a :class:`~asyncbyok.coordination.RedisLimit`, to pace this
      client and the other replicas on the same management key as one (for servers that
      send no ``RateLimit`` headers; see the services guide).

    One client serves a whole process: it follows its user from one event loop to the
    next once the earlier loop has ended (consecutive ``asyncio.run`` calls), and raises
    :class:`~asyncbyok.errors.EventLoopError` if two loops use it at once. ``aclose()``
    makes every call in flight raise :class:`~asyncbyok.errors.ClientClosedError`.
    """

    def __init__(
        self,
        *,
        api_key: APIKey | None = None,
        base_url: str | None = None,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        retry: RetryPolicy | Unset = UNSET,
        limits: Limits | None = None,
        session: aiohttp.ClientSession | None = None,
        session_factory: SessionFactory | None = None,
        proxy: str | None = None,
        trust_env: bool = False,
        ssl: SSLContext | bool | None = None,
        allow_insecure_tls: bool = False,
        app_url: str | None = None,
        app_title: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        allow_insecure_http: bool = False,
        on_retry: Callable[[RetryEvent], Any] | None = None,
        event_hooks: Mapping[str, Iterable[Hook]] | EventHooks | None = None,
        shared_limit: RedisLimit | None = None,
        _shared: _Shared | None = None,
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if api_key is None or api_key == "":
            raise AsyncBYOKError(
                f"no API key: pass api_key=... or set {API_KEY_ENV} (a management key)"
            )
        check_api_key(api_key)
        self._api_key: APIKey = api_key
        self._keys = KeySource(api_key) if callable(api_key) else None
        del api_key  # an error raised below keeps this frame: its locals must not hold the key
        base_url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        self.base_url = sansio.check_base_url(base_url, allow_insecure_http=allow_insecure_http)
        default_headers = sansio.check_headers(default_headers, "default_headers")
        self._app = (app_url, app_title, default_headers)
        self._headers = sansio.build_headers(
            self._api_key if isinstance(self._api_key, str) else None,
            app_url=app_url,
            app_title=app_title,
            extra=default_headers,
        )
        self.event_hooks = EventHooks.coerce(event_hooks)
        """The client's :class:`~asyncbyok.hooks.EventHooks` (``None``: none)."""
        self.timeout = Timeout() if timeout is UNSET else Timeout.coerce(timeout)
        self.retry = _policy(retry, max_retries)
        self.on_retry = on_retry
        self._allow_insecure_http = allow_insecure_http
        # Only the client that made the shared state (and the session) closes it.
        self._owner = _shared is None
        if _shared is None:
            options = self._session_options(
                session, session_factory, proxy, trust_env, ssl, allow_insecure_tls
            )
            _shared = self._new_shared(options, limits, session, shared_limit)
        self._shared = _shared
        self._secrets = _secrets(self._headers, _shared.transport.options)
        self.byok = BYOKResource(self)

    def _new_shared(
        self,
        options: SessionOptions,
        limits: Limits | None,
        session: aiohttp.ClientSession | None,
        shared_limit: RedisLimit | None,
    ) -> _Shared:
        """What this client and its ``with_options`` copies share: the transport making
        sessions as *options* say, and the flow control (with *shared_limit*)."""
        if shared_limit is not None:  # a rotating key names no account: the URL does
            key = self._api_key if isinstance(self._api_key, str) else None
            shared_limit.bind(self.base_url, key)
        transport = Transport(limits=limits, session=session, options=options)
        return _Shared(transport, Flow(shared=shared_limit))

    def _session_options(
        self,
        session: aiohttp.ClientSession | None,
        session_factory: SessionFactory | None,
        proxy: str | None,
        trust_env: bool,
        ssl: SSLContext | bool | None,
        allow_insecure_tls: bool,
    ) -> SessionOptions:
        """How this client's sessions are made: its session arguments, checked together."""
        return session_options(
            base_url=self.base_url,
            allow_insecure_http=self._allow_insecure_http,
            session=session,
            session_factory=session_factory,
            proxy=proxy,
            trust_env=trust_env,
            ssl=ssl,
            allow_insecure_tls=allow_insecure_tls,
        )

    def __repr__(self) -> str:
        proxy = self._shared.transport.options.proxy
        shown = f", proxy={proxy.shown!r}" if proxy is not None else ""
        return f"Client(base_url={self.base_url!r}, api_key='<redacted>'{shown})"

    # -- lifecycle ------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool; calls in flight raise ``ClientClosedError``.

        A ``with_options`` copy shares its parent's pool: closing the copy does nothing,
        and closing the parent closes the copies too. Safe to call twice.
        """
        if self._owner:
            await self._shared.aclose()

    @property
    def is_closed(self) -> bool:
        """Whether the client (or the client this is a copy of) was closed."""
        return self._shared.transport.closed

    def with_options(
        self,
        *,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        retry: RetryPolicy | Unset = UNSET,
        on_retry: Callable[[RetryEvent], Any] | None | Unset = UNSET,
        event_hooks: Mapping[str, Iterable[Hook]] | EventHooks | None | Unset = UNSET,
        default_headers: Mapping[str, str] | None = None,
    ) -> Client:
        """A client with other settings sharing this one's session, gate and budgets.

        ``default_headers`` are added to this client's (a header named again replaces
        it); ``event_hooks`` replace this client's. The copy does not own the session:
        its ``aclose()`` leaves the parent open.
        """
        policy = self.retry if retry is UNSET else retry
        app_url, app_title, extra = self._app
        if default_headers:
            extra = sansio.merge_headers(
                extra, sansio.check_headers(default_headers, "default_headers")
            )
        return Client(
            api_key=self._api_key,
            base_url=self.base_url,
            timeout=self.timeout if timeout is UNSET else timeout,
            max_retries=max_retries,
            retry=policy,
            app_url=app_url,
            app_title=app_title,
            default_headers=extra,
            allow_insecure_http=self._allow_insecure_http,
            on_retry=self.on_retry if on_retry is UNSET else on_retry,
            event_hooks=self.event_hooks if event_hooks is UNSET else event_hooks,
            _shared=self._shared,
        )

    def _for_call(
        self,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Client:
        """This client, or a copy with one call's options (the ``timeout=``,
        ``max_retries=`` and ``extra_headers=`` of ``client.byok``'s methods)."""
        if timeout is UNSET and max_retries is UNSET and not extra_headers:
            return self
        if extra_headers is not None:
            extra_headers = sansio.check_headers(extra_headers, "extra_headers")
        return self.with_options(
            timeout=timeout, max_retries=max_retries, default_headers=extra_headers
        )

    # -- observability ------------------------------------------------------------

    @property
    def gate(self) -> BackoffGate:
        """The client-wide backoff gate."""
        return self._shared.flow.gate

    @property
    def retry_budget(self) -> RetryBudget:
        """The client-wide retry budget."""
        return self._shared.budget

    @property
    def rate_limiter(self) -> AdaptiveRateLimiter:
        """The client-wide adaptive rate limiter (off until the first 429)."""
        return self._shared.flow.pacer

    @property
    def rate_limited(self) -> int:
        """How many 429 responses this client (and its copies) received."""
        return self._shared.flow.rate_limited

    # -- the request pipeline ---------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        cls: type[T],
        *,
        query: Mapping[str, str] | None = None,
        json_body: Any = None,
        envelope: bool = False,
        reconcile: Reconciliation[APIResponse[T]] | None = None,
        redact: tuple[str, ...] = (),
    ) -> APIResponse[T]:
        """Send one API call under the retry policy; decode the body as *cls*.

        *envelope*: the body wraps the model in ``{"data": ...}`` (create, get, update).
        *redact*: secrets the request carries besides the management key (a raw
        provider key), scrubbed like it from whatever the server sends back.

        *reconcile* is for writes whose outcome may be unknown after a failure (see
        :class:`~asyncbyok.retry.Reconciliation`).
        """
        shared = self._shared
        request = sansio.build_request(
            method,
            self.base_url,
            path,
            self._headers,
            query=query,
            json_body=json_body,
            secrets=self._secrets + redact if redact else self._secrets,
        )
        started = time.monotonic()
        async with shared.transport.call() as call:
            # Watched from here: a call refused on entry (a closed client) would leave a
            # tracer's span open, and current in the caller's context.
            watch = None
            if self.event_hooks is not None or shared.observer is not None:
                query_string = request.url.partition("?")[2] if query else None
                event = CallEvent.of(method, path, query_string)
                watch = CallWatch(self.event_hooks, shared.observer, event)
            policy = self.retry
            sender = Sender(
                shared.transport,
                call,
                shared.flow,
                self.timeout,
                policy.max_retries > 0,
                watch,
                self._keys,
            )
            calling = run(
                sender,
                request,
                cls,
                envelope=envelope,
                policy=policy,
                budget=shared.budget,
                gate=shared.flow.gate,
                started=started,
                on_retry=self.on_retry,
                reconcile=reconcile,
                watch=watch,
            )
            return await (calling if watch is None else _watched(watch, calling))


async def _watched(watch: CallWatch, calling: Awaitable[APIResponse[T]]) -> APIResponse[T]:
    """*calling* (a call's retry loop), its end told to the call's hooks and observer."""
    try:
        response = await calling
    except BaseException as exc:
        await watch.failed(exc)
        raise
    watch.succeeded(response)
    return response
