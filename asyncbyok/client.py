"""The :class:`Client`: configuration, one shared session, and the request loop.

Every call goes through :meth:`Client.request`: build the request (pure), wait at the
client-wide backoff gate and rate limiter, send it (the transport), decode the response
(pure), and retry under the policy (:mod:`asyncbyok.retry`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

import aiohttp
import attrs

from . import sansio
from ._constants import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL
from ._sentinel import UNSET, Unset
from .config import Limits, Timeout
from .errors import APIError, AsyncBYOKError, find_request_id
from .pacing import AdaptiveRateLimiter, BackoffGate
from .retry import RetryBudget, RetryEvent, RetryPolicy, make_retrying
from .safe_create import CreateReconciler
from .transport import RawResponse, Transport

__all__ = ["APIResponse", "Client"]

T = TypeVar("T")
logger = logging.getLogger("asyncbyok")

#: Called before a retry when an earlier attempt may have changed server state; it may
#: return the value the earlier attempt produced, which then ends the call (safe create).
BeforeResend = Callable[[BaseException, float], Awaitable[Any]]


@attrs.frozen
class APIResponse(Generic[T]):
    """A parsed result with the facts of the HTTP exchange that produced it.

    ``attempts`` counts every attempt sent; ``elapsed`` is seconds from the first attempt
    to the end, backoff included. ``recovered`` is true when an ambiguous create was
    resolved by finding the credential it had made (no response of its own).
    """

    parsed: T
    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    request_id: str | None
    attempts: int
    elapsed: float
    method: str
    url: str
    recovered: bool = False


@attrs.define
class _Shared:
    """What a client and its ``with_options`` copies share."""

    transport: Transport
    gate: BackoffGate = attrs.field(factory=BackoffGate)
    budget: RetryBudget = attrs.field(factory=RetryBudget)
    pacer: AdaptiveRateLimiter = attrs.field(factory=AdaptiveRateLimiter)
    rate_limited: int = 0  # 429s received, all calls together
    reconciler: CreateReconciler | None = None  # made by the BYOK resource on first use

    async def aclose(self) -> None:
        if self.reconciler is not None:
            self.reconciler.close()
        await self.transport.aclose()


class Client:
    """An async client for the BYOK API. Use it as an async context manager::

        async with asyncbyok.Client() as client:
            key = await client.byok.create(provider="openai", key=raw_key, name="prod")
            async for k in client.byok.list():
                print(k.name, k.label)

    Arguments (all keyword-only):

    - ``api_key``: a management key; default ``$OPENROUTER_API_KEY``.
    - ``base_url``: default ``$OPENROUTER_BASE_URL``, then ``https://openrouter.ai/api/v1``.
      Plain ``http://`` is refused except to loopback, unless ``allow_insecure_http``.
    - ``timeout``: a :class:`~asyncbyok.config.Timeout`, seconds, or ``None`` (no limit).
    - ``max_retries``: shorthand for ``retry=RetryPolicy(max_retries=...)``.
    - ``retry``: a :class:`~asyncbyok.retry.RetryPolicy`.
    - ``limits``: :class:`~asyncbyok.config.Limits` (connections at once).
    - ``session``: your own ``aiohttp.ClientSession``, used as is and not closed by us.
    - ``app_url`` / ``app_title``: sent as ``HTTP-Referer`` / ``X-OpenRouter-Title``.
    - ``on_retry``: called with a :class:`~asyncbyok.retry.RetryEvent` before each retry.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        retry: RetryPolicy | Unset = UNSET,
        limits: Limits | None = None,
        session: aiohttp.ClientSession | None = None,
        app_url: str | None = None,
        app_title: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        allow_insecure_http: bool = False,
        on_retry: Callable[[RetryEvent], Any] | None = None,
        _shared: _Shared | None = None,
    ) -> None:
        api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not api_key:
            raise AsyncBYOKError(
                f"no API key: pass api_key=... or set {API_KEY_ENV} (a management key)"
            )
        base_url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        self.base_url = sansio.check_base_url(base_url, allow_insecure_http=allow_insecure_http)
        self._api_key = api_key
        self._app = (app_url, app_title, dict(default_headers or {}))
        self._headers = sansio.build_headers(
            api_key, app_url=app_url, app_title=app_title, extra=default_headers
        )
        self.timeout = Timeout() if timeout is UNSET else Timeout.coerce(timeout)
        policy = RetryPolicy() if retry is UNSET else retry
        if max_retries is not UNSET:
            policy = attrs.evolve(policy, max_retries=max_retries)
        self.retry = policy
        self.on_retry = on_retry
        self._allow_insecure_http = allow_insecure_http
        self._shared = _shared or _Shared(Transport(limits=limits, session=session))
        from .resources.byok import BYOKResource  # the resource imports this module

        self.byok = BYOKResource(self)

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, api_key='<redacted>')"

    # -- lifecycle ------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (shared with ``with_options`` copies)."""
        await self._shared.aclose()

    def with_options(
        self,
        *,
        timeout: Timeout | float | None | Unset = UNSET,
        max_retries: int | Unset = UNSET,
        retry: RetryPolicy | Unset = UNSET,
        on_retry: Callable[[RetryEvent], Any] | None | Unset = UNSET,
    ) -> Client:
        """A client with other settings sharing this one's session, gate and budgets."""
        policy = self.retry if retry is UNSET else retry
        app_url, app_title, extra = self._app
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
            _shared=self._shared,
        )

    # -- observability ------------------------------------------------------------

    @property
    def gate(self) -> BackoffGate:
        """The client-wide backoff gate."""
        return self._shared.gate

    @property
    def retry_budget(self) -> RetryBudget:
        """The client-wide retry budget."""
        return self._shared.budget

    @property
    def rate_limiter(self) -> AdaptiveRateLimiter:
        """The client-wide adaptive rate limiter (off until the first 429)."""
        return self._shared.pacer

    @property
    def rate_limited(self) -> int:
        """How many 429 responses this client (and its copies) received."""
        return self._shared.rate_limited

    # -- the request loop -------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        cls: type[T],
        *,
        query: Mapping[str, str] | None = None,
        json_body: Any = None,
        before_resend: BeforeResend | None = None,
    ) -> APIResponse[T]:
        """Send one API call with retries; decode the body as *cls*."""
        request = sansio.build_request(
            method, self.base_url, path, self._headers, query=query, json_body=json_body
        )
        started = time.monotonic()
        # Most calls succeed at once, and stepping tenacity costs more CPU than the rest
        # of a call, so the first attempt runs outside it. A failure enters the retry
        # loop as that loop's first attempt: waits, stops and budgets count as ever.
        try:
            raw, parsed = await self._send_once(request, cls, 1)
        except Exception as exc:
            return await self._retry(request, cls, exc, started, before_resend)
        self._shared.budget.refund(self._shared.budget.success_refund)
        return self._response(parsed, raw, request, 1, started)

    async def _retry(
        self,
        request: sansio.HTTPRequest,
        cls: type[T],
        first_error: Exception,
        started: float,
        before_resend: BeforeResend | None,
    ) -> APIResponse[T]:
        """Attempts 2 and later, under the retry policy; *first_error* is attempt 1's."""
        shared = self._shared
        spent: list[float] = []
        retrying = make_retrying(
            self.retry,
            method=request.method,
            url=request.url,
            gate=shared.gate,
            budget=shared.budget,
            spent=spent,
            on_retry=self.on_retry,
            started=started,
        )
        attempts = 1
        last_error: BaseException = first_error
        failed_at = time.monotonic()
        try:
            async for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number == 1:
                        raise first_error  # attempt 1's outcome, already known
                    try:
                        if before_resend is not None:
                            found = await before_resend(last_error, failed_at)
                            if found is not None:
                                return self._recovered(found, request, attempts, started)
                        attempts += 1
                        raw, parsed = await self._send_once(request, cls, attempts)
                    except BaseException as exc:
                        last_error, failed_at = exc, time.monotonic()
                        raise
                    shared.budget.refund(spent[-1] if spent else shared.budget.success_refund)
                    return self._response(parsed, raw, request, attempts, started)
        except APIError as exc:
            exc.attempts = attempts
            raise
        raise AssertionError("unreachable: tenacity either returns or raises")

    @staticmethod
    def _response(
        parsed: T, raw: RawResponse, request: sansio.HTTPRequest, attempts: int, started: float
    ) -> APIResponse[T]:
        return APIResponse(
            parsed,
            raw.status,
            raw.headers,
            find_request_id(raw.headers),
            attempts,
            time.monotonic() - started,
            request.method,
            request.url,
        )

    async def _send_once(
        self, request: sansio.HTTPRequest, cls: type[T], attempt: int
    ) -> tuple[RawResponse, T]:
        """One attempt: wait for the gate and the pacer, send, decode (raises on errors)."""
        shared = self._shared
        if shared.gate.remaining:  # checked first: most of the time there is nothing to await
            await shared.gate.wait()
        if shared.pacer.enabled:
            await shared.pacer.acquire()
        raw = await shared.transport.send(request, self.timeout)
        if raw.status == 429:
            shared.rate_limited += 1
            shared.pacer.on_throttle()
        else:
            shared.pacer.on_success()
        if logger.isEnabledFor(logging.DEBUG):  # the request id lookup is not free
            logger.debug(
                "%s %s -> %d in %.1f ms (attempt %d, request id %s)",
                request.method,
                request.url,
                raw.status,
                raw.elapsed * 1000,
                attempt,
                find_request_id(raw.headers),
            )
        parsed = sansio.decode_response(
            raw.status, raw.headers, raw.body, cls, method=request.method, url=request.url
        )
        return raw, parsed

    def _recovered(
        self, found: Any, request: sansio.HTTPRequest, attempts: int, started: float
    ) -> APIResponse[Any]:
        method, url = request.method, request.url
        logger.info("%s %s: found the result of an earlier attempt; not resending", method, url)
        elapsed = time.monotonic() - started
        return APIResponse(found, 200, {}, None, attempts, elapsed, method, url, recovered=True)
