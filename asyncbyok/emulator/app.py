"""The ``aiohttp.web`` application: routes, and the middlewares every request goes through.

From the outside in:

1. :func:`envelope_middleware` gives every answer an ``X-Request-Id``, counts it, logs
   it (:data:`request_log`, when asked to), and turns anything raised into the documented
   error body. An exception that is not an
   :class:`~asyncbyok.emulator.replies.ErrorReply` is a bug: it becomes a 500 *and* is
   counted in ``stats.unexpected_errors``, which the fuzz tests keep at 0.
2. :func:`auth_middleware`: ``Authorization: Bearer <management key>`` or 401/403; only
   then are the client's identifying headers counted (``stats.client_headers``).
3. :func:`rate_limit_middleware`: the optional token bucket per management key (429).
4. :func:`fault_middleware`: the seeded faults of :mod:`asyncbyok.emulator.faults`.
5. The operation's handler (:mod:`asyncbyok.emulator.handlers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import struct
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import handlers
from .context import CONTEXT, IDENTIFYING_HEADERS, AppContext
from .faults import FaultKind
from .replies import ERROR_MESSAGES, ErrorReply, new_request_id

__all__ = ["API_PREFIX", "build_app", "loggable_path", "operation_of", "request_log"]

logger = logging.getLogger("asyncbyok.emulator")
#: One INFO line per request, with ``Emulator(log_requests=True)`` (``asyncbyok emulator
#: --log-requests`` shows them on stderr).
request_log = logging.getLogger("asyncbyok.emulator.requests")

API_PREFIX = "/api/v1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_OPERATIONS: dict[object, str] = {
    handlers.list_keys: "list",
    handlers.create_key: "create",
    handlers.get_key: "get",
    handlers.update_key: "update",
    handlers.delete_key: "delete",
}


def operation_of(request: web.Request) -> str | None:
    """The operation a request was routed to (``"list"`` ...), ``None`` for no route."""
    return _OPERATIONS.get(request.match_info.handler)


class _Dropped(web.Response):
    """Returned after the connection was closed on purpose: nothing is sent or counted.

    aiohttp then fails to write it, notes a "premature client disconnection", and moves on.
    """


def _drop_connection(request: web.Request, *, reset: bool) -> web.Response:
    """Close the connection without an answer; with *reset*, as a TCP reset (RST)."""
    transport = request.transport
    if reset and transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger on, timeout 0: close() then sends RST instead of FIN.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    request.protocol.force_close()
    return _Dropped(status=599)


_UUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]{1,24}")


def loggable_path(path: str) -> str:
    """*path* for a log line: segments that could be a key (long, or of unusual
    characters) replaced by ``<redacted>``; ids (UUIDs) and route words kept.

    >>> loggable_path("/api/v1/byok/sk-or-v1-0123456789abcdef0123456789")
    '/api/v1/byok/<redacted>'
    """
    segments = path.split("/")
    kept = [s if not s or _UUID.fullmatch(s) or _PLAIN_SEGMENT.fullmatch(s) else "<redacted>"
            for s in segments]  # fmt: skip
    return "/".join(kept)


def _log_request(request: web.Request, response: web.StreamResponse, started: float) -> None:
    """One line: method, path, status, milliseconds. Never a header, a query or a body."""
    status = "dropped" if isinstance(response, _Dropped) else str(response.status)
    milliseconds = (time.perf_counter() - started) * 1000
    path = loggable_path(request.path)
    request_log.info("%s %s -> %s in %.1f ms", request.method, path, status, milliseconds)


@web.middleware
async def envelope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, counting, and the documented error body for everything raised; with
    ``Emulator(log_requests=True)``, one INFO line per request on :data:`request_log`."""
    if not request.app[CONTEXT].log_requests:
        return await _envelope(request, handler)
    started = time.perf_counter()
    response = await _envelope(request, handler)
    _log_request(request, response, started)
    return response


async def _envelope(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    operation = operation_of(request)
    if operation is not None:
        ctx.stats.requests[operation] += 1
    response: web.StreamResponse
    try:
        response = await handler(request)
    except ErrorReply as exc:
        response = exc.response()
    except ConnectionError:
        # The client went away (its timeout, say) while the body was being read:
        # nobody is left to answer, and it is not the emulator's fault.
        return _Dropped(status=599)
    except web.HTTPException as exc:
        # The router's 404/405 and the body-size limit's 413: same shape as ours.
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        message = ERROR_MESSAGES.get(exc.status, exc.reason)
        response = ErrorReply(exc.status, message, headers=headers).response()
    except Exception:
        ctx.stats.unexpected_errors += 1
        logger.exception("unexpected error in %s %s", request.method, request.path)
        response = ErrorReply(500).response()
    if isinstance(response, _Dropped):
        return response
    response.headers["X-Request-Id"] = new_request_id()
    ctx.stats.responses[response.status] += 1
    return response


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A management key is required: 401 without a known key, 403 for a non-management one."""
    ctx = request.app[CONTEXT]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ErrorReply(401)
    if token in ctx.api_keys:
        raise ErrorReply(403)
    if token not in ctx.management_keys:
        raise ErrorReply(401, "Invalid API key")
    # Counted once the client is known: anyone can send headers, and what they send would
    # otherwise be kept (the stats are bounded too, see context.py).
    if operation_of(request) is not None:
        for name in IDENTIFYING_HEADERS:  # never Authorization: it carries the key
            if name in request.headers:
                ctx.stats.count_client_header(name, request.headers[name])
    return await handler(request)


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """429 with ``Retry-After`` when the key's bucket is empty (only with a rate limit);
    the limiter's state on every answer when the limit sends it (``state_headers``)."""
    ctx = request.app[CONTEXT]
    if ctx.limiter is None:
        return await handler(request)
    token = request.headers["Authorization"].partition(" ")[2].strip()
    wait, headers = ctx.limiter.take(token)
    if wait > 0:
        ctx.stats.rate_limited += 1
        raise ErrorReply(429, headers=headers)
    try:
        response = await handler(request)
    except ErrorReply as exc:  # a refusal counts against the limit all the same
        exc.headers.update(headers)
        raise
    response.headers.update(headers)
    return response


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply this request's :class:`~asyncbyok.emulator.faults.FaultDecision`."""
    ctx = request.app[CONTEXT]
    operation = operation_of(request)
    if operation is None:
        return await handler(request)
    decision = ctx.plan.decide(operation)

    def fired(kind: FaultKind) -> None:
        ctx.stats.faults[(operation, kind)] += 1

    kind = decision.kind
    if kind == "reset":
        fired(kind)
        return _drop_connection(request, reset=True)
    if decision.latency > 0 or kind == "slow":
        # Read the body before waiting, as a server that got the whole request but is
        # slow to act on it: if the client gives up meanwhile, the change still happens.
        await request.read()
    if decision.latency > 0:
        fired("latency")
        await asyncio.sleep(decision.latency)
    if kind == "error":
        fired(kind)
        raise ErrorReply(decision.status)
    if kind == "conflict":
        fired(kind)
        raise ErrorReply(409)
    if kind == "slow":
        fired(kind)
        await asyncio.sleep(decision.slow_seconds)
    response = await handler(request)
    # "Commit then fail" needs a commit: a refused request (4xx) stored nothing.
    if kind in ("commit_then_error", "commit_then_drop") and 200 <= response.status < 300:
        fired(kind)
        if kind == "commit_then_error":
            raise ErrorReply(500)
        return _drop_connection(request, reset=False)
    return response


def build_app(context: AppContext, *, client_max_size: int = 1024**2) -> web.Application:
    """The application serving the BYOK API under ``/api/v1`` on *context*.

    Bodies over *client_max_size* bytes are refused with 413 before they are parsed.
    """
    app = web.Application(
        middlewares=[
            envelope_middleware,
            auth_middleware,
            rate_limit_middleware,
            fault_middleware,
        ],
        client_max_size=client_max_size,
    )
    app[CONTEXT] = context
    collection, item = f"{API_PREFIX}/byok", f"{API_PREFIX}/byok/{{id}}"
    app.router.add_get(collection, handlers.list_keys, allow_head=False)
    app.router.add_post(collection, handlers.create_key)
    app.router.add_get(item, handlers.get_key, allow_head=False)
    app.router.add_patch(item, handlers.update_key)
    app.router.add_delete(item, handlers.delete_key)
    return app
