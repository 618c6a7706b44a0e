"""The only module that touches aiohttp: one session per event loop, a connection limit,
error translation.

:class:`Transport` sends an :class:`~asyncbyok.sansio.HTTPRequest` and returns a
:class:`RawResponse`; what the bytes mean is for :mod:`asyncbyok.sansio`. Every aiohttp
and asyncio failure becomes :class:`~asyncbyok.errors.APIConnectionError` or
:class:`~asyncbyok.errors.APITimeoutError` in :func:`translate_error`, and nowhere else,
chained to aiohttp's exception once that is scrubbed of the request's secrets
(``asyncbyok._scrub``). Bodies are read within ``Limits.max_response_size``
(``asyncbyok._body``).

aiohttp is imported when a transport is made (with its client), not with this module:
``import asyncbyok`` stays quick for programs (and the command's ``--help``) that never
make a client. Not later, at the first request: importing aiohttp takes about 0.1 s,
which would stall a running event loop, while a client is most often made at startup.

Event loops: the session and the connection slots of each loop, the calls in flight and
closing are ``asyncbyok._loops``'s; a request is sent within a call
(:meth:`Transport.call`), which is bound to its loop once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs

from ._body import read_body
from ._loops import Call, LoopBinding, LoopState, closed_in_flight
from ._scrub import redact, redact_response, request_secrets, scrub_chain
from ._session import SessionOptions, make_session
from .config import Limits, Timeout
from .errors import APIConnectionError, APITimeoutError, AsyncBYOKError
from .sansio import HTTPRequest

if TYPE_CHECKING:
    import aiohttp

__all__ = ["RawResponse", "Transport", "translate_error"]


@attrs.frozen
class RawResponse:
    """Status, headers and body bytes of one response, and how long it took."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed: float


def _redundant(read: float | None, total: float | None) -> bool:
    return read is None or (total is not None and read >= total)


def translate_error(exc: BaseException, request: HTTPRequest) -> APIConnectionError:
    """The asyncbyok error for an aiohttp/asyncio failure while sending *request*.

    ``request_sent`` is False only where the request certainly never reached the server
    (the connection could not be made), which tells a create it may safely resend. The
    message names aiohttp's exception and quotes its message, with the request's secrets
    (its key's, its proxy's credentials) redacted (a malformed answer may echo them).
    """
    import aiohttp

    method, url = request.method, request.url
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return APITimeoutError("Timed out connecting.", method=method, url=url, request_sent=False)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return APITimeoutError("Request timed out.", method=method, url=url)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        message = (
            f"TLS certificate verification failed: {exc.certificate_error}. If the "
            "server's certificate comes from a private CA, pass "
            "ssl=ssl.create_default_context(cafile=...) (see the embedding guide)"
        )
        return APIConnectionError(message, method=method, url=url, request_sent=False)
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        message = f"Cannot connect to the proxy: {exc.os_error}"
        return APIConnectionError(message, method=method, url=url, request_sent=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        message = f"Cannot connect: {exc.os_error}"
        return APIConnectionError(message, method=method, url=url, request_sent=False)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        message = "Server disconnected without a response."
        return APIConnectionError(message, method=method, url=url)
    message = redact(f"Connection error: {type(exc).__name__}: {exc}", _secrets_of(request))
    return APIConnectionError(message, method=method, url=url)


def _secrets_of(request: HTTPRequest) -> tuple[str, ...]:
    """What no error may show: the secrets the client gave with *request* (its key's,
    and its proxy's credentials, which aiohttp sends in headers of its own), else those
    in the request's headers."""
    return request.secrets or request_secrets(request.headers)


def _failure(exc: BaseException, request: HTTPRequest, *, closed: bool) -> AsyncBYOKError:
    """The error to raise for aiohttp's *exc*, chained to *exc* scrubbed of secrets.

    Raise it outside the ``except`` block that caught *exc*, so that ``__context__`` is
    not set behind ``__cause__``'s back (to *exc* itself, should it have been replaced).
    """
    cause = scrub_chain(exc, _secrets_of(request))
    if closed:
        error: AsyncBYOKError = closed_in_flight()
    else:
        error = translate_error(exc, request)
    error.__cause__ = cause
    error.__suppress_context__ = True
    return error


class Transport:
    """Sends requests over one aiohttp session per event loop, at most
    ``limits.max_connections`` at once.

    The session is created lazily, inside the running event loop, on the first request:
    building a client does no I/O. How it is made (proxy, TLS, a caller's factory) is
    *options*' (``asyncbyok._session``). A session passed in is used as it is and never
    closed here; it belongs to its event loop, so a transport given one cannot follow its
    user to another loop.

    Requests go out within a call: ``async with transport.call() as call: await
    transport.send(call, request, timeout)``. After :meth:`aclose`, calls raise
    :class:`~asyncbyok.errors.ClientClosedError`, and so do those in flight when it ran.
    """

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        session: aiohttp.ClientSession | None = None,
        options: SessionOptions | None = None,
    ) -> None:
        import aiohttp  # loaded now, outside the loop's hot path (see above)

        # What a send translates (read per send, so kept here rather than re-imported).
        self._failures: tuple[type[BaseException], ...] = (
            aiohttp.ClientError,
            asyncio.TimeoutError,
            OSError,
        )
        self.limits = limits or Limits()
        self.options = options or SessionOptions()
        self._loops = LoopBinding(slots=self.limits.max_connections, given=session)
        self._timeouts: dict[Timeout, aiohttp.ClientTimeout] = {}

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` ran."""
        return self._loops.closed

    def call(self) -> Call:
        """The context of one API call: bound to the running loop once, and cut short by
        :meth:`aclose` (see ``asyncbyok._loops``)."""
        return self._loops.call()

    def add_loop_listener(self, callback: Callable[[int], object]) -> None:
        """Call ``callback(generation)`` each time the transport binds to an event loop
        (the first time included): per-loop state kept elsewhere starts afresh then."""
        self._loops.add_listener(callback)

    async def aclose(self) -> None:
        """Close the session if this transport created it; cut the calls in flight short.
        Safe to call twice; a session given to the transport is left open."""
        await self._loops.aclose()

    # -- sending ----------------------------------------------------------------------

    async def _open_session(self, state: LoopState) -> aiohttp.ClientSession:
        """The session of *state*'s loop (the running one), made on its first request."""
        made = make_session(self.options, self.limits)  # runs through: no other task ran
        if made.session is not None:
            state.session = made.session  # before any await: a concurrent first call uses it
        await made.discard()  # what was made and is not used (a refused session ...)
        if made.error is not None:
            raise made.error
        assert made.session is not None
        return made.session

    def _client_timeout(self, timeout: Timeout) -> aiohttp.ClientTimeout:
        cached = self._timeouts.get(timeout)
        if cached is None:
            import aiohttp

            if len(self._timeouts) >= 32:
                self._timeouts.clear()
            cached = self._timeouts[timeout] = aiohttp.ClientTimeout(
                total=timeout.total,
                sock_connect=timeout.connect,
                # A read limit no shorter than the total adds nothing, and aiohttp re-arms
                # its timer on every chunk: leave it to the total.
                sock_read=None if _redundant(timeout.read, timeout.total) else timeout.read,
            )
        return cached

    async def send(self, call: Call, request: HTTPRequest, timeout: Timeout) -> RawResponse:
        """Send *request* within *call*; the timeouts start once a connection slot is
        held. A failure is an :class:`~asyncbyok.errors.APIConnectionError` (or
        :class:`~asyncbyok.errors.ClientClosedError` when the client closed under it)."""
        state = call.state
        session = state.session or await self._open_session(state)
        client_timeout = self._client_timeout(timeout)
        try:
            async with state.slots:
                started = time.monotonic()
                async with session.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    data=request.body,
                    timeout=client_timeout,
                    allow_redirects=False,
                ) as response:
                    limit = self.limits.max_response_size
                    body = await read_body(response, limit, method=request.method, url=request.url)
                    headers: Mapping[str, str] = response.headers  # case-insensitive
                    # A server echoing the key must not get it into an error or a log.
                    secrets = request.secrets or request_secrets(request.headers)
                    headers, body = redact_response(headers, body, secrets)
                    return RawResponse(response.status, headers, body, time.monotonic() - started)
        except self._failures as exc:
            failure = _failure(exc, request, closed=self._loops.closed)
        raise failure  # here, not in the except block: see _failure
