"""The only module that touches aiohttp: one session, a connection limit, error translation.

:class:`Transport` sends an :class:`~asyncbyok.sansio.HTTPRequest` and returns a
:class:`RawResponse`; what the bytes mean is for :mod:`asyncbyok.sansio`. Every aiohttp
and asyncio failure becomes :class:`~asyncbyok.errors.APIConnectionError` or
:class:`~asyncbyok.errors.APITimeoutError` in :func:`translate_error`, and nowhere else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import aiohttp
import attrs

from .config import Limits, Timeout
from .errors import APIConnectionError, APITimeoutError
from .sansio import HTTPRequest

__all__ = ["RawResponse", "Transport", "translate_error"]


@attrs.frozen
class RawResponse:
    """Status, headers and body bytes of one response, and how long it took."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed: float


def translate_error(exc: BaseException, request: HTTPRequest) -> APIConnectionError:
    """The asyncbyok error for an aiohttp/asyncio failure while sending *request*.

    ``request_sent`` is False only where the request certainly never reached the server
    (the connection could not be made), which tells a create it may safely resend.
    """
    method, url = request.method, request.url
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return APITimeoutError("Timed out connecting.", method=method, url=url, request_sent=False)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return APITimeoutError("Request timed out.", method=method, url=url)
    if isinstance(exc, aiohttp.ClientConnectorError):
        message = f"Cannot connect: {exc.os_error}"
        return APIConnectionError(message, method=method, url=url, request_sent=False)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        message = "Server disconnected without a response."
        return APIConnectionError(message, method=method, url=url)
    message = f"Connection error: {type(exc).__name__}: {exc}"
    return APIConnectionError(message, method=method, url=url)


class Transport:
    """Sends requests over one aiohttp session, at most ``limits.max_connections`` at once.

    The session is created lazily, inside the running event loop, on the first request:
    building a client does no I/O. A session passed in is used as it is and left open.
    """

    def __init__(
        self, *, limits: Limits | None = None, session: aiohttp.ClientSession | None = None
    ) -> None:
        self.limits = limits or Limits()
        self._session = session
        self._owns_session = session is None
        self._slots: asyncio.Semaphore | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the client is closed")
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.limits.max_connections,
                keepalive_timeout=self.limits.keepalive_timeout,
            )
            self._session = aiohttp.ClientSession(connector=connector, raise_for_status=False)
            # aiohttp silently resends GET/PUT/DELETE once when a kept-alive connection
            # drops. Our retry policy decides about resends (and counts them): a DELETE
            # resent behind our back turns "deleted" into a confusing 404.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limits.max_connections)
        return self._session

    async def send(self, request: HTTPRequest, timeout: Timeout) -> RawResponse:
        """Send *request*; the timeouts start once a connection slot is held."""
        session = self._get_session()
        assert self._slots is not None
        client_timeout = aiohttp.ClientTimeout(
            total=timeout.total, sock_connect=timeout.connect, sock_read=timeout.read
        )
        async with self._slots:
            started = time.monotonic()
            try:
                async with session.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    data=request.body,
                    timeout=client_timeout,
                    allow_redirects=False,
                ) as response:
                    body = await response.read()
                    return RawResponse(
                        response.status,
                        response.headers,  # case-insensitive, and valid after release
                        body,
                        time.monotonic() - started,
                    )
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                raise translate_error(exc, request) from exc

    async def aclose(self) -> None:
        """Close the session if this transport created it. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
