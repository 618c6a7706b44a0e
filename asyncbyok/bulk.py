"""Bulk provisioning: :func:`create_many`.

Thousands of creates at once, politely: at most ``concurrency`` in flight; paced by the
client's adaptive rate limiter, which on the first 429 settles just under the server's
rate (CUBIC, :mod:`asyncbyok.pacing`); waiting at the client-wide backoff gate when the
server names a moment; spending the client-wide retry budget. Each create follows the
safe-create rule, so ambiguous failures make no duplicates.

:func:`create_many` takes the create function to call, so it works with any client (or
a stand-in): ``client.byok.create_many(...)`` passes its raw ``create`` under
:func:`bulk_policy`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import attrs

from ._constants import BULK_ERROR_RETRIES, BULK_RATE_LIMIT_RETRIES, DEFAULT_BULK_CONCURRENCY
from .errors import FieldError, ValidationError
from .models import BYOKKey, CreateBYOKKeyRequest
from .response import APIResponse
from .retry import RetryPolicy

__all__ = ["CreateResult", "bulk_policy", "create_many"]

logger = logging.getLogger("asyncbyok")

CreateFunction = Callable[[CreateBYOKKeyRequest], Awaitable[APIResponse[BYOKKey]]]


@attrs.frozen
class CreateResult:
    """The outcome of one create of :func:`create_many`: ``key`` or ``error``.

    ``index`` is the request's position in the input. ``attempts`` counts requests sent.
    ``progress_error`` is what the ``on_progress`` callback raised for this result, if
    it raised: the batch went on, and the result is still here.
    """

    index: int
    request: CreateBYOKKeyRequest
    key: BYOKKey | None = None
    error: BaseException | None = None
    attempts: int = 0
    progress_error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """Whether the credential was created (or found, after an ambiguous failure)."""
        return self.key is not None


def bulk_policy(policy: RetryPolicy) -> RetryPolicy:
    """*policy* as bulk runs use it: more retries, since a lost item costs more.

    Being rate limited is expected in bulk, and paced: up to ``BULK_RATE_LIMIT_RETRIES``
    (12) retries for 429s, and at least ``BULK_ERROR_RETRIES`` (6) for errors. The
    deadline and the retry budget still bound every item; a policy with retries off
    (``max_retries=0``) keeps them off.
    """
    if policy.max_retries == 0:
        return policy
    return attrs.evolve(
        policy,
        rate_limit_retries=BULK_RATE_LIMIT_RETRIES,
        max_retries=max(policy.max_retries, BULK_ERROR_RETRIES),
    )


def _check(
    requests: list[Any],
    concurrency: object,
    on_progress: object,
    stop: object,
) -> list[CreateBYOKKeyRequest]:
    errors = [
        FieldError(f"requests[{i}]", f"must be a CreateBYOKKeyRequest, not {type(r).__name__}")
        for i, r in enumerate(requests)
        if not isinstance(r, CreateBYOKKeyRequest)
    ]
    if concurrency is not None and (
        not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1
    ):
        errors.append(FieldError("concurrency", "must be an integer >= 1 (or None)"))
    if on_progress is not None and not callable(on_progress):
        errors.append(FieldError("on_progress", "must be callable (or None)"))
    if stop is not None and not isinstance(stop, asyncio.Event):
        errors.append(FieldError("stop", "must be an asyncio.Event (or None)"))
    if errors:
        raise ValidationError(errors, subject="create_many")
    return requests


async def create_many(
    create: CreateFunction,
    requests: Iterable[CreateBYOKKeyRequest],
    *,
    concurrency: int | None = None,
    on_progress: Callable[[CreateResult], Any] | None = None,
    stop: asyncio.Event | None = None,
) -> list[CreateResult]:
    """Call *create* for every request; one :class:`CreateResult` per request, in order.

    Never raises for one item's failure: its result carries the exception. Arguments are
    checked before anything is sent (:class:`~asyncbyok.errors.ValidationError` names
    each bad one). ``on_progress`` is called with each result as it completes; if it
    raises, the error is logged and kept on that result (``progress_error``), and the
    batch goes on: no result is lost to a broken progress bar.

    Stopping: set *stop* to finish what is in flight and start nothing new (unstarted
    items get an ``asyncio.CancelledError`` as their error). Cancelling the call itself
    cancels the creates in flight; what completed before was reported to
    ``on_progress``. A create cancelled in flight may or may not have been stored: to
    finish an interrupted batch without duplicates, use ``client.byok.ensure`` or let
    :mod:`asyncbyok.apply` plan it (it creates only the names the server does not have).
    """
    items = _check(list(requests), concurrency, on_progress, stop)
    limit = max(1, min(concurrency or DEFAULT_BULK_CONCURRENCY, len(items) or 1))
    results: list[CreateResult | None] = [None] * len(items)
    pending = iter(range(len(items)))

    def finish(result: CreateResult) -> None:
        if on_progress is not None:
            try:
                on_progress(result)
            except Exception as exc:  # the callback's bug must not lose the batch
                logger.warning("create_many: on_progress raised %r; going on", exc)
                result = attrs.evolve(result, progress_error=exc)
        results[result.index] = result

    async def worker() -> None:
        for index in pending:
            request = items[index]
            if stop is not None and stop.is_set():
                finish(CreateResult(index, request, error=asyncio.CancelledError("stopped")))
                continue
            try:
                response = await create(request)
            except Exception as exc:  # one item's failure is its result, not ours
                finish(
                    CreateResult(index, request, error=exc, attempts=getattr(exc, "attempts", 0))
                )
            else:
                finish(
                    CreateResult(index, request, key=response.parsed, attempts=response.attempts)
                )

    workers = [asyncio.ensure_future(worker()) for _ in range(limit)]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
    return [r for r in results if r is not None]
