"""The retry loop and its policy: what is retried, how long to wait, when to give up.

Every API call runs through :func:`run`, one loop over the attempts a
:class:`~asyncbyok.attempt.Sender` makes:

- the first attempt is cheap: nothing but a ``try`` until something fails;
- retried: connection errors, timeouts, and the statuses 408, 429, 500, 502, 503, 504,
  never other 4xx, never bad input;
- bounded by attempts (``max_retries``, default 3; 429s may have their own count) AND by
  one deadline for the whole call (``deadline``, default 60 s from the first attempt):
  no retry starts after it, no attempt runs past it (by more than a second: see
  :func:`~asyncbyok.attempt.attempt_timeout`), and lookups made on the call's behalf
  (safe create) end by it too;
- exponential backoff with full jitter, tenacity's ``wait_random_exponential``;
- ``Retry-After`` (seconds, fractions, an HTTP date, or ``retry-after-ms``) is obeyed
  instead, up to ``max_retry_after``; a longer one fails fast. The wait is taken at the
  client-wide :class:`~asyncbyok.pacing.BackoffGate`, so every call of the client waits
  for the moment the server named; the gate is shut only when a retry will be made;
- a client-wide :class:`RetryBudget`: each retry of an error spends tokens, after the
  decision to retry, and each success earns them back, so thousands of tasks facing a
  dead server stop retrying together instead of multiplying its load. 429s spend nothing;
- writes whose outcome may be unknown (a create or delete that failed after it was sent)
  pass a :class:`Reconciliation`: once an attempt may have committed, every later resend
  is preceded by a lookup, and a lookup that finds the result ends the call with it.

Whether to retry, and after how long, is :func:`decide`: a pure function of the error,
the counts so far and the time, testable without a socket (gidgethub's sans-I/O style).

Retries are visible: each logs a line on the ``asyncbyok`` logger and calls the client's
``on_retry`` hook with a :class:`RetryEvent`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs
from tenacity import AsyncRetrying, RetryCallState, stop_before_delay, wait_random_exponential

from ._constants import (
    DEFAULT_INITIAL_BACKOFF,
    DEFAULT_MAX_BACKOFF,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_RETRY_DEADLINE,
    RETRY_BUDGET_CAPACITY,
    RETRY_COST,
    RETRY_SUCCESS_REFUND,
    RETRY_TIMEOUT_COST,
    RETRYABLE_STATUSES,
)
from .errors import APIConnectionError, APIError, APIStatusError, APITimeoutError, RateLimitError
from .hooks import CallWatch, reset_lookups
from .pacing import BackoffGate
from .response import APIResponse

if TYPE_CHECKING:
    from .attempt import Sender
    from .sansio import HTTPRequest

__all__ = [
    "Decision",
    "Reconciliation",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "call_deadline",
    "decide",
    "run",
    "server_retry_after",
]

T = TypeVar("T")
R_co = TypeVar("R_co", covariant=True)
logger = logging.getLogger("asyncbyok")

# The deadline (a time.monotonic() reading) of the call a lookup is made for: calls made
# inside a lookup end by it, whatever their own policy says.
_OUTER_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "asyncbyok_outer_deadline", default=None
)


@attrs.frozen
class RetryPolicy:
    """How a client retries. ``RetryPolicy(max_retries=0)`` turns retries off.

    ``wait_scale`` multiplies every backoff wait (not ``Retry-After``); tests set it to 0
    to retry at once, the way stamina's testing mode does.
    """

    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=attrs.validators.ge(0))
    deadline: float | None = DEFAULT_RETRY_DEADLINE
    initial_backoff: float = DEFAULT_INITIAL_BACKOFF
    max_backoff: float = DEFAULT_MAX_BACKOFF
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES
    #: Retries allowed for 429s alone (``None``: the same as ``max_retries``). Bulk
    #: operations raise it: being rate limited is expected there, and paced.
    rate_limit_retries: int | None = None
    wait_scale: float = 1.0

    def is_retryable(self, exc: BaseException) -> bool:
        """Whether *exc* is worth another attempt (ignoring budgets and counts)."""
        if isinstance(exc, APIStatusError):
            if exc.status_code not in self.retry_statuses:
                return False
            wait = exc.retry_after
            return wait is None or wait <= self.max_retry_after
        return isinstance(exc, APIConnectionError)

    def retrying(self, limit: float | None) -> AsyncRetrying:
        """The policy's tenacity wait and stop: full-jitter exponential backoff, and no
        retry that would start more than *limit* seconds after the call did."""
        wait = wait_random_exponential(multiplier=self.initial_backoff, max=self.max_backoff)
        if limit is None:
            return AsyncRetrying(wait=wait)
        return AsyncRetrying(wait=wait, stop=stop_before_delay(limit))

    def backoff(self, retry_number: int) -> float:
        """Full-jitter exponential backoff before retry number *retry_number* (1-based)."""
        retrying = self.retrying(None)
        state = RetryCallState(retrying, None, (), {})
        state.attempt_number = retry_number
        return float(retrying.wait(state)) * self.wait_scale

    def allows(self, *, errors: int, rate_limits: int) -> bool:
        """Whether the counts of retries so far (429s apart) allow one more."""
        if self.rate_limit_retries is None:
            return errors + rate_limits <= self.max_retries
        return errors <= self.max_retries and rate_limits <= self.rate_limit_retries


def server_retry_after(exc: BaseException) -> float | None:
    """The wait the server asked for on *exc*, in seconds, if any (``retry-after-ms``,
    sent by some APIs for sub-second precision, wins over ``Retry-After``)."""
    return exc.retry_after if isinstance(exc, APIStatusError) else None


@attrs.frozen
class Decision:
    """What :func:`decide` says to do after a failed attempt."""

    retry: bool
    wait: float
    """Seconds until the next attempt: the server's, or the backoff."""
    from_server: bool
    """The wait is the server's (``Retry-After``): every call waits for it, at the gate."""
    coarse: bool
    """The server's wait came in whole seconds (the true one may be a second shorter)."""
    errors: int
    rate_limits: int
    """The retries counted so far, this one included (429s apart)."""


def decide(
    policy: RetryPolicy,
    error: APIError,
    *,
    errors: int,
    rate_limits: int,
    started: float,
    deadline: float | None,
    now: float,
) -> Decision:
    """Whether to retry after *error*, the counts of retries so far being *errors* and
    *rate_limits*, in a call that *started* and must end by *deadline*
    (``time.monotonic()`` readings), and after how long. Pure: the budget is the loop's to
    spend afterwards.

    A 429 to a request sent early (a probe of the gate) is the client's guess, not the
    server's verdict on the call: it does not count against the call's retries.
    """
    if isinstance(error, RateLimitError):
        rate_limits += 0 if error.sent_early else 1
    else:
        errors += 1
    server = error.retry_after if isinstance(error, APIStatusError) else None
    coarse = isinstance(error, APIStatusError) and error.retry_after_coarse
    retrying = policy.retrying(None if deadline is None else deadline - started)
    state = RetryCallState(retrying, None, (), {})
    state.attempt_number = max(1, errors + rate_limits)
    state.start_time, state.outcome_timestamp = started, now
    wait = server if server is not None else float(retrying.wait(state)) * policy.wait_scale
    state.upcoming_sleep = wait
    retry = (
        policy.max_retries > 0
        and policy.is_retryable(error)
        and policy.allows(errors=errors, rate_limits=rate_limits)
        and not retrying.stop(state)
    )
    return Decision(retry, wait, server is not None, bool(coarse), errors, rate_limits)


class RetryBudget:
    """A client-wide token bucket of retries (the AWS SDKs' retry quota).

    A retry after an error costs ``retry_cost`` tokens (``timeout_cost`` after a timeout);
    a success refunds ``success_refund``, and a success after retries refunds what its
    last retry cost. With the bucket empty, errors are raised at once.
    """

    def __init__(
        self,
        capacity: float = RETRY_BUDGET_CAPACITY,
        *,
        retry_cost: float = RETRY_COST,
        timeout_cost: float = RETRY_TIMEOUT_COST,
        success_refund: float = RETRY_SUCCESS_REFUND,
    ) -> None:
        self.capacity = capacity
        self.tokens = capacity
        self.retry_cost = retry_cost
        self.timeout_cost = timeout_cost
        self.success_refund = success_refund
        self.exhausted = 0  # retries refused for lack of tokens

    def cost_of(self, exc: BaseException) -> float:
        """What a retry after *exc* costs: nothing after a 429, more after a timeout."""
        if isinstance(exc, RateLimitError):
            return 0.0
        return self.timeout_cost if isinstance(exc, APITimeoutError) else self.retry_cost

    def try_spend(self, cost: float) -> bool:
        """Take *cost* tokens if there are enough; False (and nothing taken) if not."""
        if cost > self.tokens:
            self.exhausted += 1
            return False
        self.tokens -= cost
        return True

    def refund(self, amount: float) -> None:
        """Give back *amount* tokens, up to the capacity."""
        self.tokens = min(self.capacity, self.tokens + amount)


@attrs.frozen
class RetryEvent:
    """One retry about to happen: passed to the client's ``on_retry`` hook."""

    method: str
    url: str
    attempt: int  # the attempt that failed, 1-based
    error: BaseException
    wait: float  # seconds until the next attempt (at most: the gate may open earlier)


class Reconciliation(Protocol[R_co]):
    """What a write whose outcome may be unknown tells the retry loop.

    - ``may_have_committed``: whether a failed attempt may nonetheless have done its
      work (it was sent, and no answer proved otherwise);
    - ``lookup``: before a resend, find what an earlier attempt did; its result ends
      the call, ``None`` means "resend". It runs under the call's deadline;
    - ``settle``: once an earlier attempt may have committed, whether a later
      attempt's error proves it did (a DELETE's 404), and the call's result if so.
    """

    def may_have_committed(self, exc: APIError) -> bool: ...

    async def lookup(self, *, failed_at: float, attempts: int) -> R_co | None: ...

    def settle(self, exc: APIError, *, attempts: int) -> R_co | None: ...


def call_deadline() -> float | None:
    """The deadline (a ``time.monotonic()`` reading) of the call a lookup works for."""
    return _OUTER_DEADLINE.get()


@attrs.define
class _Call:
    """What the attempts of one call share."""

    sender: Sender
    request: HTTPRequest
    cls: type[Any]
    envelope: bool
    started: float
    deadline: float | None

    async def attempt(self, number: int, reason: str) -> APIResponse[Any]:
        return await self.sender.send(
            self.request,
            self.cls,
            envelope=self.envelope,
            number=number,
            started=self.started,
            deadline=self.deadline,
            reason=reason,
        )


async def run(
    sender: Sender,
    request: HTTPRequest,
    cls: type[T],
    *,
    envelope: bool,
    policy: RetryPolicy,
    budget: RetryBudget,
    gate: BackoffGate,
    started: float,
    on_retry: Callable[[RetryEvent], Any] | None = None,
    reconcile: Reconciliation[APIResponse[T]] | None = None,
    watch: CallWatch | None = None,
) -> APIResponse[T]:
    """Run one call: attempts through *sender* until one succeeds or *policy* stops.
    *watch*: the call's hooks and observer, told of the pages its lookups list.

    The error raised at the end is the last attempt's, with ``attempts`` set to the
    number of attempts sent.
    """
    deadline = _deadline(policy, started)
    try:  # the common case: one attempt, and nothing else
        result: APIResponse[T] = await sender.send(
            request, cls, envelope=envelope, number=1, started=started, deadline=deadline
        )
    except APIError as exc:
        call = _Call(sender, request, cls, envelope, started, deadline)
        retrying = _Retrying(call, policy, budget, gate, on_retry, reconcile, watch)
        return await retrying.after(exc)
    budget.refund(budget.success_refund)
    return result


@attrs.define
class _Retrying:
    """A call whose first attempt failed: attempts 2 and later."""

    call: _Call
    policy: RetryPolicy
    budget: RetryBudget
    gate: BackoffGate
    on_retry: Callable[[RetryEvent], Any] | None
    reconcile: Reconciliation[APIResponse[Any]] | None
    watch: CallWatch | None = None
    attempt: int = 1
    errors: int = 0
    rate_limits: int = 0
    ambiguous: bool = False

    async def after(self, error: APIError) -> APIResponse[Any]:
        """Retry after attempt 1 failed with *error*; the call's result, or its error."""
        spent = self.budget.success_refund
        while True:
            failed_at = time.monotonic()
            settled = self._settled(error)
            if settled is not None:
                self.budget.refund(spent)
                return settled
            decision = decide(
                self.policy,
                error,
                errors=self.errors,
                rate_limits=self.rate_limits,
                started=self.call.started,
                deadline=self.call.deadline,
                now=failed_at,
            )
            self.errors, self.rate_limits = decision.errors, decision.rate_limits
            cost = self.budget.cost_of(error)
            if not decision.retry or not self.budget.try_spend(cost):
                error.attempts = self.attempt
                raise error
            spent = cost
            found = await self._wait_and_look_up(error, decision, failed_at)
            if found is not None:
                self.budget.refund(spent)
                return found
            self.attempt += 1
            try:
                result = await self.call.attempt(self.attempt, type(error).__name__)
            except APIError as exc:
                error = exc
                continue
            self.budget.refund(spent)
            return result

    def _settled(self, error: APIError) -> APIResponse[Any] | None:
        """The call's result, if the error proves an earlier ambiguous attempt did it."""
        reconcile = self.reconcile
        if reconcile is None:
            return None
        if self.ambiguous:
            settled = reconcile.settle(error, attempts=self.attempt)
            if settled is not None:
                return settled
        self.ambiguous = self.ambiguous or reconcile.may_have_committed(error)
        return None

    async def _wait_and_look_up(
        self, error: APIError, decision: Decision, failed_at: float
    ) -> APIResponse[Any] | None:
        """Announce the retry, wait, and after an ambiguous failure look the write up:
        the call's result if an earlier attempt did it, else ``None`` (resend).

        The wait is at the gate for the server's moment (every call of the client waits
        for it too), or the backoff. An ambiguous failure the server answered (a 5xx)
        leaves nothing of the attempt in flight: the lookup starts at once, and the
        backoff, counted from the failure, spaces the resend instead. In a bulk run that
        lookup is parked until the rest of the run has gone out, which no backoff of the
        run's last failure then delays. With no answer (a timeout, a dropped connection)
        the server may still be at work, and the lookup waits the backoff first.
        """
        call = self.call
        event = RetryEvent(
            call.request.method, call.request.url, self.attempt, error, decision.wait
        )
        _announce(event, self.on_retry)
        if decision.from_server:
            self.gate.defer(decision.wait, coarse=decision.coarse)  # the next turn waits
        elif not (self.ambiguous and isinstance(error, APIStatusError)):
            await asyncio.sleep(decision.wait)
        elif (found := await self._look_up(error, failed_at)) is not None:
            return found
        else:
            await asyncio.sleep(max(0.0, failed_at + decision.wait - time.monotonic()))
            return None
        return await self._look_up(error, failed_at) if self.ambiguous else None

    async def _look_up(self, error: APIError, failed_at: float) -> APIResponse[Any] | None:
        """The reconciliation's lookup, under the call's deadline; its failure is the
        write's (a create that may exist), with the lookup's error as the cause."""
        assert self.reconcile is not None
        token = _OUTER_DEADLINE.set(self.call.deadline)
        counting = self.watch.lookups() if self.watch is not None else None  # pages listed
        try:
            found: APIResponse[Any] | None = await self.reconcile.lookup(
                failed_at=failed_at, attempts=self.attempt
            )
            return found
        except APIError as lookup_error:
            error.attempts = self.attempt
            raise error from lookup_error
        finally:
            _OUTER_DEADLINE.reset(token)
            if counting is not None:
                reset_lookups(counting)


def _deadline(policy: RetryPolicy, started: float) -> float | None:
    own = None if policy.deadline is None else started + policy.deadline
    outer = _OUTER_DEADLINE.get()
    if outer is None:
        return own
    return outer if own is None else min(own, outer)


def _announce(event: RetryEvent, on_retry: Callable[[RetryEvent], Any] | None) -> None:
    logger.info(
        "retrying %s %s in %.3fs after attempt %d failed: %s",
        event.method,
        event.url,
        event.wait,
        event.attempt,
        _describe(event.error),
    )
    if on_retry is not None:
        on_retry(event)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, APIStatusError):
        return f"{exc.status_code} {exc.message}"
    return f"{type(exc).__name__}: {exc}"
