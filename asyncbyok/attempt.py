"""One attempt of a call: its turn, the request on the wire, the answer decoded.

The layer between the retry loop (:mod:`asyncbyok.retry`) and the transport: a
:class:`Sender` waits the attempt's turn (:mod:`asyncbyok.flow`: ramp, pacer, gate), cuts
its timeout at the call's deadline, sends (:mod:`asyncbyok.transport`), reports the status
back to the flow, and decodes the answer (:mod:`asyncbyok.response`) into an
:class:`~asyncbyok.response.APIResponse`, or raises the error it stands for.
"""

from __future__ import annotations

import logging
import time
from typing import TypeVar

import attrs

from . import sansio
from ._auth import KeySource
from ._headers import find_request_id
from ._loops import Call
from .config import Timeout
from .errors import APIError, APITimeoutError, RateLimitError
from .flow import Flow
from .hooks import AttemptObserver, CallWatch
from .response import APIResponse, decode_response
from .transport import RawResponse, Transport

__all__ = ["Sender", "attempt_timeout"]

T = TypeVar("T")
logger = logging.getLogger("asyncbyok")


def attempt_timeout(timeout: Timeout, deadline: float | None, now: float) -> Timeout | None:
    """*timeout*, cut at the call's *deadline* (``None``: the deadline has passed).

    A second's slack (a tenth of a short timeout) keeps the common case, a deadline just
    under the timeout, from making a new Timeout (and aiohttp one) for every attempt.
    """
    if deadline is None:
        return timeout
    left = deadline - now
    if left <= 0:
        return None
    total = timeout.total
    if total is None or left < total - min(1.0, 0.1 * total):
        return attrs.evolve(timeout, total=left)
    return timeout


@attrs.frozen
class Sender:
    """Makes the attempts of one call: within *call* (its loop), through *transport*,
    taking turns from *flow*. *adaptive*: the caller retries 429s (see
    :meth:`~asyncbyok.flow.Flow.attempt`). *watch*: the call's hooks and observer, if it
    has any (:mod:`asyncbyok.hooks`). *keys*: the callable ``api_key``, asked for the
    key before each attempt (:mod:`asyncbyok._auth`)."""

    transport: Transport
    call: Call
    flow: Flow
    timeout: Timeout
    adaptive: bool
    watch: CallWatch | None = None
    keys: KeySource | None = None

    async def send(
        self,
        request: sansio.HTTPRequest,
        cls: type[T],
        *,
        envelope: bool,
        number: int,
        started: float,
        deadline: float | None,
        reason: str | None = None,
    ) -> APIResponse[T]:
        """Attempt *number* (1-based) of a call that *started* (``time.monotonic()``);
        *reason*: for a retry, the class of the error the attempt before it met."""
        watch = self.watch
        observed: AttemptObserver | None = None
        waiting = time.monotonic()
        async with self.flow.attempt(adaptive=self.adaptive) as turn:
            timeout = attempt_timeout(self.timeout, deadline, time.monotonic())
            if timeout is None:
                raise _too_late(request)
            if self.keys is not None:  # a rotating key: the one current now
                request = await self.keys.authorize(request)
            if watch is None:
                raw = await self.transport.send(self.call, request, timeout)
            else:
                observed = await watch.attempt_started(number, time.monotonic() - waiting, reason)
                raw = await self._watched(watch, observed, request, timeout, number)
            turn.report(raw.status, raw.headers)
        request_id = find_request_id(raw.headers)
        if logger.isEnabledFor(logging.DEBUG):
            _log(request, raw, number, request_id)
        try:
            parsed = decode_response(
                raw.status,
                raw.headers,
                raw.body,
                cls,
                envelope=envelope,
                method=request.method,
                url=request.url,
            )
        except APIError as exc:
            if isinstance(exc, RateLimitError):
                exc.sent_early = turn.early
            if watch is not None:
                await watch.attempt_answered(observed, number, raw, request_id, None)
            raise
        if watch is not None:
            await watch.attempt_answered(observed, number, raw, request_id, parsed)
        return APIResponse(
            parsed,
            raw.status,
            raw.headers,
            request_id,
            number,
            time.monotonic() - started,
            request.method,
            request.url,
        )

    async def _watched(
        self,
        watch: CallWatch,
        observed: AttemptObserver | None,
        request: sansio.HTTPRequest,
        timeout: Timeout,
        number: int,
    ) -> RawResponse:
        sent = time.monotonic()
        try:
            return await self.transport.send(self.call, request, timeout)
        except BaseException as exc:  # the attempt's span ends, whatever ended it
            watch.attempt_failed(observed, number, exc, time.monotonic() - sent)
            raise


def _too_late(request: sansio.HTTPRequest) -> APITimeoutError:
    return APITimeoutError(
        "The call's deadline passed before this attempt could start.",
        method=request.method,
        url=request.url,
        request_sent=False,
    )


def _log(
    request: sansio.HTTPRequest, raw: RawResponse, number: int, request_id: str | None
) -> None:
    logger.debug(
        "%s %s -> %d in %.1f ms (attempt %d, request id %s)",
        request.method,
        request.url,
        raw.status,
        raw.elapsed * 1000,
        number,
        request_id,
    )
