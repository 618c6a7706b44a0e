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
from ._headers import find_request_id
from ._loops import Call
from .config import Timeout
from .errors import APITimeoutError, RateLimitError
from .flow import Flow
from .response import APIResponse, decode_response
from .transport import Transport

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
    :meth:`~asyncbyok.flow.Flow.attempt`)."""

    transport: Transport
    call: Call
    flow: Flow
    timeout: Timeout
    adaptive: bool

    async def send(
        self,
        request: sansio.HTTPRequest,
        cls: type[T],
        *,
        envelope: bool,
        number: int,
        started: float,
        deadline: float | None,
    ) -> APIResponse[T]:
        """Attempt *number* (1-based) of a call that *started* (``time.monotonic()``)."""
        async with self.flow.attempt(adaptive=self.adaptive) as turn:
            timeout = attempt_timeout(self.timeout, deadline, time.monotonic())
            if timeout is None:
                raise APITimeoutError(
                    "The call's deadline passed before this attempt could start.",
                    method=request.method,
                    url=request.url,
                    request_sent=False,
                )
            raw = await self.transport.send(self.call, request, timeout)
            turn.report(raw.status, raw.headers)
        request_id = find_request_id(raw.headers)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.1f ms (attempt %d, request id %s)",
                request.method,
                request.url,
                raw.status,
                raw.elapsed * 1000,
                number,
                request_id,
            )
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
        except RateLimitError as exc:
            exc.sent_early = turn.early
            raise
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
