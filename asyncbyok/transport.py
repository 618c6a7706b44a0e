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

Event loops. An aiohttp session, its connections and an :class:`asyncio.Semaphore` belong
to the loop that made them. The transport keeps them per loop (a *generation*) and
follows its user to a new loop once the earlier one has ended, as with consecutive
``asyncio.run`` calls or pytest's per-test loops. It learns that a loop is ending from
the loop itself: an async generator, started in that loop, is closed by
``loop.shutdown_asyncgens()`` (which ``asyncio.run`` and ``asyncio.Runner`` call before
closing a loop), and closes the session there, while it can still run. Two loops at once
(one per thread, say) raise :class:`~asyncbyok.errors.EventLoopError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._body import read_body
from ._scrub import redact, redact_response, request_secrets, scrub_chain
from .config import Limits, Timeout
from .errors import (
    APIConnectionError,
    APITimeoutError,
    AsyncBYOKError,
    ClientClosedError,
    EventLoopError,
)
from .sansio import HTTPRequest

if TYPE_CHECKING:
    import aiohttp

__all__ = ["RawResponse", "Transport", "translate_error"]

# The message of the cancellations that aclose() sends to the calls in flight.
_CLOSING = "asyncbyok: the client was closed"

# States left behind in a loop that is stopped but not closed, held here until that loop
# shuts down and their watcher closes their session. Without this the state, its watcher
# and its session would be garbage, and the collector would finalize the session (and
# warn "Unclosed connector") before the loop could close it.
_PARKED: set[_LoopState] = set()


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
    redacted (a malformed answer may echo them).
    """
    import aiohttp

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
    message = redact(
        f"Connection error: {type(exc).__name__}: {exc}", request_secrets(request.headers)
    )
    return APIConnectionError(message, method=method, url=url)


def _failure(exc: BaseException, request: HTTPRequest, *, closed: bool) -> AsyncBYOKError:
    """The error to raise for aiohttp's *exc*, chained to *exc* scrubbed of secrets.

    Raise it outside the ``except`` block that caught *exc*, so that ``__context__`` is
    not set behind ``__cause__``'s back (to *exc* itself, should it have been replaced).
    """
    cause = scrub_chain(exc, request_secrets(request.headers))
    if closed:
        error: AsyncBYOKError = ClientClosedError(
            "the client was closed while this call was in flight"
        )
    else:
        error = translate_error(exc, request)
    error.__cause__ = cause
    error.__suppress_context__ = True
    return error


class _LoopState:
    """What belongs to one event loop: its session, connection slots and calls in flight."""

    def __init__(self, loop: asyncio.AbstractEventLoop, generation: int, slots: int) -> None:
        self.loop = loop
        self.generation = generation
        self.slots = asyncio.Semaphore(slots)
        self.session: aiohttp.ClientSession | None = None
        self.owns_session = True
        # Tasks inside send(), each with how many sends it has open.
        self.calls: dict[asyncio.Task[Any], int] = {}
        # Tasks that aclose() cancelled, whose CancelledError becomes ClientClosedError.
        self.cut: set[asyncio.Task[Any]] = set()
        self.drained: asyncio.Future[None] | None = None  # set when the cut calls left
        self.closer: asyncio.Task[Any] | None = None  # the task running aclose()
        self.ended = False  # the loop is ending or ended: nothing more may run here
        self.watcher: AsyncGenerator[None, None] | None = None

    def watch(self) -> None:
        """Start the generator that closes this state's session when its loop shuts down.

        Called in the loop: the first step of an async generator registers it with the
        running loop, whose ``shutdown_asyncgens()`` will close it.
        """
        watcher = _watch(self)
        step = watcher.__anext__()
        try:
            step.send(None)  # runs to the `yield` without waiting on anything
        except StopIteration:
            self.watcher = watcher

    def unwatch(self) -> None:
        """Close the watcher here and now, without it running anything in the loop."""
        watcher, self.watcher = self.watcher, None
        if watcher is None:
            return
        step = watcher.aclose()
        try:
            step.send(None)  # the generator's `finally` sees `ended` and returns at once
        except StopIteration:
            pass
        else:  # pragma: no cover - the finally never waits once `ended` is set
            step.close()

    async def close(self) -> None:
        """Close the session (if ours) in this state's loop, which is the running one."""
        self.ended = True
        session, self.session = self.session, None
        if session is not None and self.owns_session:
            await session.close()

    def abandon(self) -> None:
        """Let go of a state whose loop was closed without shutting down our watcher.

        Nothing can run in a closed loop any more. Closing the session from here marks
        it (and its connector) closed, so neither warns; aiohttp leaves the sockets to
        the closed loop. ``asyncio.run`` and ``asyncio.Runner`` never get here: they shut
        the watcher down, and the session is closed in its own loop.
        """
        self.ended = True
        self.unwatch()
        session, self.session = self.session, None
        if session is None or not self.owns_session or session.closed:
            return
        closing = session.close()
        try:
            closing.send(None)  # the connector of a closed loop closes without waiting
        except StopIteration:
            pass
        else:  # pragma: no cover - defensive: never wait on a closed loop
            closing.close()


async def _watch(state: _LoopState) -> AsyncGenerator[None, None]:
    """Yield once; when the loop shuts its async generators down, close *state*."""
    try:
        yield
    finally:
        _PARKED.discard(state)
        if not state.ended:
            state.ended = True
            with contextlib.suppress(Exception):  # the loop is going away: no one to tell
                await state.close()


class Transport:
    """Sends requests over one aiohttp session per event loop, at most
    ``limits.max_connections`` at once.

    The session is created lazily, inside the running event loop, on the first request:
    building a client does no I/O. A session passed in is used as it is and never closed
    here; it belongs to its event loop, so a transport given one cannot follow its user
    to another loop.

    For the client (and anything else keeping per-loop state beside the transport):

    - :meth:`loop_generation` binds the transport to the running loop and returns that
      binding's number, which changes whenever the transport moves to a new loop;
    - :meth:`add_loop_listener` registers a callback run when it moves;
    - after :meth:`aclose`, :meth:`send` raises :class:`~asyncbyok.errors.ClientClosedError`,
      and sends in flight when it ran raise it too.
    """

    def __init__(
        self, *, limits: Limits | None = None, session: aiohttp.ClientSession | None = None
    ) -> None:
        import aiohttp  # loaded now, outside the loop's hot path (see above)

        # What a send translates (read per send, so kept here rather than re-imported).
        self._failures: tuple[type[BaseException], ...] = (
            aiohttp.ClientError,
            asyncio.TimeoutError,
            OSError,
        )
        self.limits = limits or Limits()
        self._given = session
        self._state: _LoopState | None = None
        self._generation = 0
        self._closed = False
        self._listeners: list[Callable[[int], object]] = []
        self._timeouts: dict[Timeout, aiohttp.ClientTimeout] = {}

    # -- event loops ------------------------------------------------------------------

    def loop_generation(self) -> int:
        """Bind to the running event loop, and return the number of that binding.

        The number starts at 1 and grows by one each time the transport moves to another
        loop (with a fresh session and fresh connection slots), so state kept per loop
        elsewhere can be dropped when it changes. Call it from inside the loop.

        Raises :class:`~asyncbyok.errors.ClientClosedError` after :meth:`aclose`, and
        :class:`~asyncbyok.errors.EventLoopError` while another loop that is still
        running (in another thread) has the transport.
        """
        return self._bind().generation

    def add_loop_listener(self, callback: Callable[[int], object]) -> None:
        """Call ``callback(generation)`` each time the transport binds to an event loop.

        It runs inside the new loop, before the request that caused the move is sent,
        the first binding included. An exception it raises propagates to that request.
        """
        self._listeners.append(callback)

    def _bind(self) -> _LoopState:
        if self._closed:
            raise ClientClosedError("the client is closed")
        loop = asyncio.get_running_loop()
        state = self._state
        if state is not None and state.loop is loop and not state.ended:
            return state
        return self._rebind(loop)

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> _LoopState:
        old = self._state
        if old is not None:
            self._release(old, loop)
            if self._given is not None:
                raise EventLoopError(
                    "the aiohttp session given to this client belongs to an event loop "
                    "that has ended; give a session made in the running loop, or let the "
                    "client make its own"
                )
        self._generation += 1
        state = _LoopState(loop, self._generation, self.limits.max_connections)
        if self._given is not None:
            state.session, state.owns_session = self._given, False
        else:
            state.watch()
        self._state = state
        for listener in list(self._listeners):
            listener(state.generation)
        return state

    @staticmethod
    def _release(old: _LoopState, loop: asyncio.AbstractEventLoop) -> None:
        """Let go of *old* to move to *loop*; refuse while *old*'s loop still runs."""
        if old.ended or old.loop is loop:
            return
        if old.loop.is_closed():
            old.abandon()
        elif old.loop.is_running():
            raise EventLoopError(
                "this client is in use by another event loop that is still running "
                "(in another thread?): a client serves one event loop at a time; make "
                "one client per loop, or close it in the first loop before using it here"
            )
        elif old.watcher is not None:
            # Stopped but not closed: the watcher closes the old session there when that
            # loop shuts down; this transport moves on.
            _PARKED.add(old)

    # -- sending ----------------------------------------------------------------------

    def _open_session(self, state: _LoopState) -> aiohttp.ClientSession:
        import aiohttp

        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections,
            keepalive_timeout=self.limits.keepalive_timeout,
        )
        session = aiohttp.ClientSession(connector=connector, raise_for_status=False)
        # aiohttp silently resends GET/PUT/DELETE once when a kept-alive connection
        # drops. Our retry policy decides about resends (and counts them): a DELETE
        # resent behind our back turns "deleted" into a confusing 404.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        state.session = session
        return session

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

    async def send(self, request: HTTPRequest, timeout: Timeout) -> RawResponse:
        """Send *request*; the timeouts start once a connection slot is held.

        Raises :class:`~asyncbyok.errors.ClientClosedError` if the transport is closed,
        or closes while the request is in flight.
        """
        state = self._bind()
        session = state.session or self._open_session(state)
        client_timeout = self._client_timeout(timeout)
        task = asyncio.current_task()
        calls = state.calls
        if task is not None:
            calls[task] = calls.get(task, 0) + 1
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
                    headers, body = redact_response(
                        response.headers,  # case-insensitive, and valid after release
                        body,
                        request_secrets(request.headers),
                    )
                    return RawResponse(response.status, headers, body, time.monotonic() - started)
        except asyncio.CancelledError:
            if task is not None and _cut_by_close(state, task):
                raise ClientClosedError(
                    "the client was closed while this call was in flight"
                ) from None
            raise
        except self._failures as exc:
            failure = _failure(exc, request, closed=self._closed)
        finally:
            if task is not None:
                _leave(state, task)
        raise failure  # here, not in the except block: see _failure

    # -- closing ----------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the session if this transport created it. Safe to call twice.

        Sends in flight raise :class:`~asyncbyok.errors.ClientClosedError` (those that a
        caller had already cancelled keep their ``CancelledError``); every later
        :meth:`send` raises it too. A session given to the transport is left open.
        """
        if self._closed:
            return
        self._closed = True
        state, self._state = self._state, None
        if state is None or state.ended:
            return
        running = asyncio.get_running_loop()
        if state.loop is running:
            await _close_here(state)
        elif state.loop.is_closed():
            state.abandon()
        elif state.loop.is_running():  # closed from another thread's loop: close it there
            done = asyncio.run_coroutine_threadsafe(_close_here(state), state.loop)
            await asyncio.wrap_future(done)
        elif state.watcher is not None:  # stopped: the watcher closes it when the loop ends
            _PARKED.add(state)


async def _close_here(state: _LoopState) -> None:
    """Cut the calls in flight short, wait for them to leave, close; in *state*'s loop."""
    current = state.closer = asyncio.current_task()
    for task in state.calls:
        if task is current or task.done():
            continue
        if _being_cancelled(task):
            continue  # by its caller (or by the client): it stays a cancellation
        state.cut.add(task)
        task.cancel(_CLOSING)
    if any(task is not current for task in state.calls):
        state.drained = state.loop.create_future()
        await state.drained
    await state.close()
    state.unwatch()


def _being_cancelled(task: asyncio.Task[Any]) -> bool:
    """Whether someone has asked to cancel *task* and it has not yet seen it."""
    cancelling = getattr(task, "cancelling", None)  # 3.11+
    if cancelling is not None:
        return bool(cancelling())
    # 3.10 has no cancelling(): a request not yet delivered shows as the future the task
    # waits on being cancelled, or as the flag for the task's next step.
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is not None and waiter.cancelled():
        return True
    return bool(getattr(task, "_must_cancel", False))


def _cut_by_close(state: _LoopState, task: asyncio.Task[Any]) -> bool:
    """Whether *task*'s CancelledError came from aclose() alone; if so, undo the cancel."""
    if task not in state.cut:
        return False
    state.cut.discard(task)
    uncancel = getattr(task, "uncancel", None)  # 3.11+: TaskGroup and timeout count them
    if uncancel is None:
        return True
    return bool(uncancel() == 0)  # another cancel too: let CancelledError through


def _leave(state: _LoopState, task: asyncio.Task[Any]) -> None:
    count = state.calls.pop(task, 1) - 1
    if count:
        state.calls[task] = count
        return
    if task in state.cut:  # it left without seeing our cancel (it finished first)
        state.cut.discard(task)
        uncancel = getattr(task, "uncancel", None)
        if uncancel is not None:
            uncancel()
    drained = state.drained
    if drained is not None and not drained.done() and all(t is state.closer for t in state.calls):
        drained.set_result(None)
