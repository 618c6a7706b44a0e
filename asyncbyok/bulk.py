"""Bulk provisioning: :func:`create_many`.

Thousands of creates at once, politely: at most ``concurrency`` in flight; paced by the
client's adaptive rate limiter, which on the first 429 settles just under the server's
rate (:mod:`asyncbyok.pacing`); waiting at the client-wide backoff gate when the server
names a moment; spending the client-wide retry budget. Each create follows the
safe-create rule, so ambiguous failures make no duplicates.

**Ambiguous failures are settled together.** A create whose outcome is unknown must be
looked up before it is resent, and the API can only look by listing the whole scope (a
request per 100 credentials). One listing per failure would cost a bulk run into a
large account more than its creates. So in a run, such a create is *parked*: it leaves
its concurrency slot to the next item and waits while the rest of the run goes out.
Parked creates are settled with one listing per scope when nothing else is left to send
(or earlier, when the first of them would otherwise miss its deadline); each is then
found (done) or resent, and a resend that fails ambiguously again is parked again. A
run of N creates with F ambiguous failures in a scope of S credentials costs about
``N + F + L * S / 100`` requests, with L the number of settlements: 1, plus 1 for each
round of resends that fail again (rarely more than 2 in all).

:func:`create_many` takes the create function to call, so it works with any client (or
a stand-in): ``client.byok.create_many(...)`` passes its raw ``create`` under
:func:`bulk_policy`. Parking is offered to the creates through a context variable
(``parking()``), which :class:`~asyncbyok.safe_create.SafeCreate` reads.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import attrs

from ._constants import BULK_ERROR_RETRIES, BULK_RATE_LIMIT_RETRIES, DEFAULT_BULK_CONCURRENCY
from .errors import APITimeoutError, FieldError, ValidationError
from .listings import ListKeys, Scope, ScopeIndex, ScopeListings
from .models import BYOKKey, CreateBYOKKeyRequest
from .response import APIResponse
from .retry import RetryPolicy, call_deadline

__all__ = ["BulkRun", "CreateResult", "bulk_policy", "create_many", "parking"]

logger = logging.getLogger("asyncbyok")

CreateFunction = Callable[[CreateBYOKKeyRequest], Awaitable[APIResponse[BYOKKey]]]

_RUN: contextvars.ContextVar[BulkRun | None] = contextvars.ContextVar(
    "asyncbyok_bulk_run", default=None
)
#: Seconds of margin before a parked create's deadline at which its scope is settled
#: early, beyond twice what the scope's last listing took.
_DEADLINE_MARGIN = 1.0


def parking() -> BulkRun | None:
    """The bulk run the current create belongs to, if any (its lookups park there)."""
    return _RUN.get()


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
    errors += check_run_options(concurrency, on_progress, stop)
    if errors:
        raise ValidationError(errors, subject="create_many")
    return requests


def check_run_options(concurrency: object, on_progress: object, stop: object) -> list[FieldError]:
    """What is wrong with a bulk call's ``concurrency``, ``on_progress`` and ``stop``."""
    errors = []
    if concurrency is not None and (
        not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1
    ):
        errors.append(FieldError("concurrency", "must be an integer >= 1 (or None)"))
    if on_progress is not None and not callable(on_progress):
        errors.append(FieldError("on_progress", "must be callable (or None)"))
    if stop is not None and not isinstance(stop, asyncio.Event):
        errors.append(FieldError("stop", "must be an asyncio.Event (or None)"))
    return errors


@attrs.define
class _Parked:
    since: float  # the failure: the listing that settles it must start after this
    deadline: float | None
    settled: asyncio.Future[ScopeIndex]


class BulkRun:
    """The items of one bulk run, and the creates parked until their scope is listed.

    :meth:`run` works through the items with at most ``concurrency`` of them active; an
    item parked in :meth:`park` is not active, and a new worker takes its slot.
    """

    def __init__(
        self,
        count: int,
        work: Callable[[int], Awaitable[None]],
        *,
        concurrency: int,
        listings: ScopeListings | None = None,
        list_keys: ListKeys | None = None,
        stop: asyncio.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pending = collections.deque(range(count))
        self._work = work
        self._concurrency = concurrency
        self._listings = listings
        self._list_keys = list_keys
        self._stop = stop
        self._clock = clock
        self._active = 0
        self._workers: set[asyncio.Task[None]] = set()
        self._parked: dict[Scope, list[_Parked]] = {}
        self._settling: set[asyncio.Task[None]] = set()
        self._timers: list[asyncio.TimerHandle] = []
        self._done: asyncio.Future[None] | None = None
        self._outer = self._inner = contextvars.Context()
        self.settlements = 0
        """How many times parked creates were settled by a listing."""

    @property
    def can_park(self) -> bool:
        """Whether lookups may park here (a run with a way to list)."""
        return self._listings is not None and self._list_keys is not None

    async def run(self) -> None:
        """Work through every item; return when all are done (parked ones included)."""
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        # Tasks of the run start from the caller's context, whatever task spawns them: a
        # worker spawned from inside a parked create's lookup must not inherit its deadline.
        self._outer = contextvars.copy_context()
        self._inner = contextvars.copy_context()
        self._inner.run(_RUN.set, self)
        self._spawn()
        if not self._workers:
            return
        try:
            await self._done
        finally:
            for task in [*self._workers, *self._settling]:
                task.cancel()
            for timer in self._timers:
                timer.cancel()

    # -- workers ------------------------------------------------------------------------

    def _spawn(self) -> None:
        while self._startable() and len(self._workers) < self._active_slots():
            task = self._inner.run(asyncio.ensure_future, self._worker())
            self._workers.add(task)
            task.add_done_callback(self._worker_done)

    def _active_slots(self) -> int:
        parked = sum(len(p) for p in self._parked.values())
        return self._concurrency + parked

    def _startable(self) -> bool:
        return bool(self._pending) and not (self._stop is not None and self._stop.is_set())

    async def _worker(self) -> None:
        while self._startable() and self._active < self._concurrency:
            index = self._pending.popleft()
            self._active += 1
            try:
                await self._work(index)
            finally:
                self._active -= 1

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        if not task.cancelled() and task.exception() is not None and self._done is not None:
            if not self._done.done():
                self._done.set_exception(task.exception())  # type: ignore[arg-type]
            return
        self._spawn()
        self._settle_if_idle()
        self._finish_if_done()

    def _finish_if_done(self) -> None:
        idle = not self._workers and not self._parked and not self._settling
        if idle and self._done is not None and not self._done.done():
            self._done.set_result(None)

    # -- parking --------------------------------------------------------------------------

    async def park(self, scope: Scope, *, since: float) -> ScopeIndex:
        """Wait until *scope* is listed by a listing that started after *since*."""
        loop = asyncio.get_running_loop()
        parked = _Parked(since, call_deadline(), loop.create_future())
        self._parked.setdefault(scope, []).append(parked)
        self._active -= 1
        try:
            self._watch_deadline(scope, parked)
            self._spawn()  # the slot goes to the next item
            self._settle_if_idle()
            if parked.deadline is None:
                return await asyncio.shield(parked.settled)
            left = max(0.0, parked.deadline - self._clock())
            try:
                return await asyncio.wait_for(asyncio.shield(parked.settled), left)
            except asyncio.TimeoutError:
                raise APITimeoutError("The lookup did not finish by the call's deadline.") from None
        finally:
            self._active += 1

    def _watch_deadline(self, scope: Scope, parked: _Parked) -> None:
        if parked.deadline is None or self._listings is None:
            return
        last = self._listings.last_duration(scope) or 1.0
        at = parked.deadline - 2 * last - _DEADLINE_MARGIN
        loop = asyncio.get_running_loop()
        delay = max(0.0, at - self._clock())
        self._timers.append(loop.call_later(delay, self._settle, scope))

    def _settle_if_idle(self) -> None:
        """Settle every parked scope once nothing but parked creates is left to do."""
        if self._active == 0 and not self._startable():
            for scope in list(self._parked):
                self._settle(scope)
        self._finish_if_done()

    def _settle(self, scope: Scope) -> None:
        waiting = self._parked.pop(scope, None)
        if not waiting:
            return
        self.settlements += 1
        task = self._outer.run(asyncio.ensure_future, self._list(scope, waiting))
        self._settling.add(task)
        task.add_done_callback(self._settled)

    async def _list(self, scope: Scope, waiting: list[_Parked]) -> None:
        assert self._listings is not None
        assert self._list_keys is not None
        since = max(p.since for p in waiting)
        try:
            index = await self._listings.index(scope, since=since, list_keys=self._list_keys)
        except BaseException as exc:
            for parked in waiting:
                if not parked.settled.done():
                    parked.settled.set_exception(exc)
                    parked.settled.exception()  # retrieved by its item, or by nobody
            raise
        for parked in waiting:
            if not parked.settled.done():
                parked.settled.set_result(index)

    def _settled(self, task: asyncio.Task[None]) -> None:
        self._settling.discard(task)
        if not task.cancelled():
            task.exception()  # each parked create got it
        self._finish_if_done()


async def create_many(
    create: CreateFunction,
    requests: Iterable[CreateBYOKKeyRequest],
    *,
    concurrency: int | None = None,
    on_progress: Callable[[CreateResult], Any] | None = None,
    stop: asyncio.Event | None = None,
    listings: ScopeListings | None = None,
    list_keys: ListKeys | None = None,
) -> list[CreateResult]:
    """Call *create* for every request; one :class:`CreateResult` per request, in order.

    Never raises for one item's failure: its result carries the exception. Arguments are
    checked before anything is sent (:class:`~asyncbyok.errors.ValidationError` names
    each bad one). ``on_progress`` is called with each result as it completes; if it
    raises, the error is logged and kept on that result (``progress_error``), and the
    batch goes on: no result is lost to a broken progress bar.

    With *listings* and *list_keys* (the client's, as ``client.byok.create_many``
    passes them), creates whose outcome is unknown are parked and settled together
    (see the module docstring); without, each looks up on its own.

    Stopping: set *stop* to finish what is in flight and start nothing new (unstarted
    items get an ``asyncio.CancelledError`` as their error). Cancelling the call itself
    cancels the creates in flight; what completed before was reported to
    ``on_progress``. A create cancelled in flight may or may not have been stored: to
    finish an interrupted batch without duplicates, use ``client.byok.ensure_many`` or
    let :mod:`asyncbyok.apply` plan it (it creates only the names the server does not
    have).
    """
    items = _check(list(requests), concurrency, on_progress, stop)
    results: list[CreateResult | None] = [None] * len(items)

    def finish(result: CreateResult) -> None:
        results[result.index] = report(result, on_progress)

    async def work(index: int) -> None:
        request = items[index]
        try:
            response = await create(request)
        except Exception as exc:  # one item's failure is its result, not ours
            finish(CreateResult(index, request, error=exc, attempts=getattr(exc, "attempts", 0)))
        else:
            finish(CreateResult(index, request, key=response.parsed, attempts=response.attempts))

    limit = max(1, min(concurrency or DEFAULT_BULK_CONCURRENCY, len(items) or 1))
    run = BulkRun(
        len(items), work, concurrency=limit, listings=listings, list_keys=list_keys, stop=stop
    )
    await run.run()
    for index, request in enumerate(items):  # not started: the run was stopped
        if results[index] is None:
            finish(CreateResult(index, request, error=asyncio.CancelledError("stopped")))
    return [r for r in results if r is not None]


def report(result: Any, on_progress: Callable[[Any], Any] | None) -> Any:
    """Pass *result* to *on_progress*; what the callback raises is kept on the result."""
    if on_progress is None:
        return result
    try:
        on_progress(result)
    except Exception as exc:  # the callback's bug must not lose the batch
        logger.warning("on_progress raised %r; going on", exc)
        return attrs.evolve(result, progress_error=exc)
    return result
