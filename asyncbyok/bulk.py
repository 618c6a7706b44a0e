"""Bulk provisioning: :func:`create_many`.

Thousands of creates at once, politely: at most ``concurrency`` in flight; paced by the
client's adaptive rate limiter, which on the first 429 settles just under the server's
rate (AIMD/CUBIC, :mod:`asyncbyok.pacing`); waiting at the client-wide backoff gate when
the server names a moment; spending the client-wide retry budget. Each create follows
the safe-create rule, so ambiguous failures make no duplicates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ._constants import BULK_ERROR_RETRIES, BULK_RATE_LIMIT_RETRIES, DEFAULT_BULK_CONCURRENCY
from .errors import FieldError, ValidationError
from .models import BYOKKey, CreateBYOKKeyRequest

if TYPE_CHECKING:
    from .resources.byok import BYOKResource

__all__ = ["CreateResult", "create_many"]


@attrs.frozen
class CreateResult:
    """The outcome of one create of :func:`create_many`: ``key`` or ``error``.

    ``index`` is the request's position in the input. ``attempts`` counts requests sent.
    """

    index: int
    request: CreateBYOKKeyRequest
    key: BYOKKey | None = None
    error: BaseException | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        """Whether the credential was created (or found, after an ambiguous failure)."""
        return self.key is not None


def _check(requests: list[Any]) -> list[CreateBYOKKeyRequest]:
    errors = [
        FieldError(f"requests[{i}]", f"must be a CreateBYOKKeyRequest, not {type(r).__name__}")
        for i, r in enumerate(requests)
        if not isinstance(r, CreateBYOKKeyRequest)
    ]
    if errors:
        raise ValidationError(errors, subject="create_many")
    return requests


async def create_many(
    resource: BYOKResource,
    requests: Iterable[CreateBYOKKeyRequest],
    *,
    concurrency: int | None = None,
    on_progress: Callable[[CreateResult], Any] | None = None,
    stop: asyncio.Event | None = None,
) -> list[CreateResult]:
    """Create every request; one :class:`CreateResult` per request, in input order.

    Each item is retried at least ``BULK_ERROR_RETRIES`` (6) times on errors and up to
    ``BULK_RATE_LIMIT_RETRIES`` (12) times on 429s, more than a single call: a lost item
    costs a bulk run more than a retry does. The client's retry budget and deadline still
    bound every item, and a client with retries off (``max_retries=0``) keeps them off.

    Never raises for one item's failure: its result carries the exception. Requests are
    checked before anything is sent (a non-request raises
    :class:`~asyncbyok.errors.ValidationError`). ``on_progress`` is called with each
    result as it completes.

    Stopping: set *stop* to finish what is in flight and start nothing new (unstarted
    items get an ``asyncio.CancelledError`` as their error). Cancelling the call itself
    cancels the creates in flight; what completed before was reported to
    ``on_progress``. A create cancelled in flight may or may not have been stored: to
    finish an interrupted batch without duplicates, let :mod:`asyncbyok.apply` plan it
    (it creates only the names the server does not have yet).
    """
    items = _check(list(requests))
    limit = max(1, min(concurrency or DEFAULT_BULK_CONCURRENCY, len(items) or 1))
    # Being rate limited is expected in bulk, and paced: allow more 429 retries. A lost
    # item costs a bulk run more than a retry does: allow more error retries too.
    # A client with retries off (max_retries=0) keeps them off.
    policy = resource._client.retry
    retry = policy
    if policy.max_retries > 0:
        retry = attrs.evolve(
            policy,
            rate_limit_retries=BULK_RATE_LIMIT_RETRIES,
            max_retries=max(policy.max_retries, BULK_ERROR_RETRIES),
        )
    raw = resource._client.with_options(retry=retry).byok.with_raw_response
    results: list[CreateResult | None] = [None] * len(items)
    pending = iter(range(len(items)))

    def finish(result: CreateResult) -> None:
        results[result.index] = result
        if on_progress is not None:
            on_progress(result)

    async def worker() -> None:
        for index in pending:
            request = items[index]
            if stop is not None and stop.is_set():
                finish(CreateResult(index, request, error=asyncio.CancelledError("stopped")))
                continue
            try:
                response = await raw.create(request)
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
