"""The retry loop and its policy: what is retried, how long to wait, when to give up.

Every API call runs through :func:`run`, one loop that owns all of it:

- the first attempt is cheap: nothing but a ``try`` until something fails;
- retried: connection errors, timeouts, and the statuses 408, 429, 500, 502, 503, 504,
  never other 4xx, never bad input;
- bounded by attempts (``max_retries``, default 3; 429s may have their own count) AND by
  one deadline for the whole call (``deadline``, default 60 s from the first attempt):
  no retry starts after it, no attempt runs past it (by more than a second: see
  ``Client._send_once``), and lookups made on the call's
  behalf (safe create, safe delete) end by it too;
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

Retries are visible: each logs a line on the ``asyncbyok`` logger and calls the client's
``on_retry`` hook with a :class:`RetryEvent`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import attrs
from tenacity import RetryCallState, stop_before_delay, wait_random_exponential

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
from ._headers import find_retry_after
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    RateLimitError,
)
from .pacing import BackoffGate

__all__ = [
    "Reconciliation",
    "RetryBudget",
    "RetryEvent",
    "RetryPolicy",
    "call_deadline",
    "run",
    "server_retry_after",
]

R = TypeVar("R")
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
            if exc.status not in self.retry_statuses:
                return False
            wait = server_retry_after(exc)
            return wait is None or wait <= self.max_retry_after
        return isinstance(exc, APIConnectionError)

    def backoff(self, retry_number: int) -> float:
        """Full-jitter exponential backoff before retry number *retry_number* (1-based)."""
        state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = retry_number
        wait = wait_random_exponential(multiplier=self.initial_backoff, max=self.max_backoff)
        return wait(state) * self.wait_scale

    def allows(self, *, errors: int, rate_limits: int) -> bool:
        """Whether the counts of retries so far (429s apart) allow one more."""
        if self.rate_limit_retries is None:
            return errors + rate_limits <= self.max_retries
        return errors <= self.max_retries and rate_limits <= self.rate_limit_retries


def server_retry_after(exc: BaseException) -> float | None:
    """The wait the server asked for on *exc*, in seconds, if any.

    ``retry-after-ms`` (sent by some APIs for sub-second precision) wins over
    ``Retry-After``.
    """
    return _server_wait(exc)[0]


def _server_wait(exc: BaseException) -> tuple[float | None, bool]:
    """(seconds, coarse): the server's wait, and whether it came as whole seconds."""
    if not isinstance(exc, APIStatusError):
        return None, False
    return find_retry_after(exc.headers)


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


async def run(
    send: Callable[[int, float | None], Awaitable[R]],
    *,
    policy: RetryPolicy,
    gate: BackoffGate,
    budget: RetryBudget,
    method: str,
    url: str,
    started: float,
    on_retry: Callable[[RetryEvent], Any] | None = None,
    reconcile: Reconciliation[R] | None = None,
) -> R:
    """Run one call: ``send(attempt, deadline)`` until it succeeds or the policy stops.

    *send* makes attempt number ``attempt`` (1-based), ending by ``deadline`` (a
    ``time.monotonic()`` reading, or ``None``), and raises an
    :class:`~asyncbyok.errors.APIError` on failure. The error raised at the end is the
    last attempt's, with ``attempts`` set to the number of attempts sent.
    """
    deadline = _deadline(policy, started)
    try:
        result = await send(1, deadline)  # the common case: no state, no tenacity
    except APIError as exc:
        failure = _Failure(policy, gate, budget, method, url, started, deadline, on_retry)
        return await failure.retry(send, exc, reconcile)
    budget.refund(budget.success_refund)
    return result


@attrs.define
class _Failure:
    """A call whose first attempt failed: what attempts 2 and later need."""

    policy: RetryPolicy
    gate: BackoffGate
    budget: RetryBudget
    method: str
    url: str
    started: float
    deadline: float | None
    on_retry: Callable[[RetryEvent], Any] | None

    async def retry(
        self,
        send: Callable[[int, float | None], Awaitable[R]],
        error: APIError,
        reconcile: Reconciliation[R] | None,
    ) -> R:
        """Attempts 2 and later; *error* is attempt 1's."""
        policy, gate, budget, started, deadline = (
            self.policy, self.gate, self.budget, self.started, self.deadline
        )  # fmt: skip
        state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.start_time = started
        stop = stop_before_delay(deadline - started) if deadline is not None else None
        attempt, errors, rate_limits, spent = 1, 0, 0, budget.success_refund
        ambiguous = False
        while True:
            failed_at = time.monotonic()
            if reconcile is not None:
                if ambiguous:
                    settled = reconcile.settle(error, attempts=attempt)
                    if settled is not None:
                        budget.refund(spent)
                        return settled
                ambiguous = ambiguous or reconcile.may_have_committed(error)
            # The decision: retryable, counts, deadline, then (and only then) the budget.
            server_wait, coarse = _server_wait(error)
            if isinstance(error, RateLimitError):
                # A 429 to a request we sent early (a probe) is our guess, not the
                # server's verdict on this call: it does not use up the call's retries.
                rate_limits += 0 if error.sent_early else 1
            else:
                errors += 1
            wait = (
                server_wait
                if server_wait is not None
                else policy.backoff(max(1, errors + rate_limits))
            )
            state.attempt_number = attempt
            state.outcome_timestamp = failed_at
            state.upcoming_sleep = wait
            if (
                not policy.is_retryable(error)
                or policy.max_retries == 0
                or not policy.allows(errors=errors, rate_limits=rate_limits)
                or (stop is not None and stop(state))
                or not budget.try_spend(cost := budget.cost_of(error))
            ):
                error.attempts = attempt
                raise error
            spent = cost
            _announce(RetryEvent(self.method, self.url, attempt, error, wait), self.on_retry)
            if server_wait is not None:
                gate.defer(server_wait, coarse=coarse)  # everyone waits for it; send waits too
            else:
                await asyncio.sleep(wait)
            if ambiguous:
                assert reconcile is not None
                found = await _lookup(reconcile, error, failed_at, attempt, deadline)
                if found is not None:
                    budget.refund(spent)
                    return found
            attempt += 1
            try:
                result = await send(attempt, deadline)
            except APIError as exc:
                error = exc
                continue
            budget.refund(spent)
            return result


async def _lookup(
    reconcile: Reconciliation[R],
    error: APIError,
    failed_at: float,
    attempts: int,
    deadline: float | None,
) -> R | None:
    """The reconciliation's lookup, under the call's deadline; its failure is the write's."""
    token = _OUTER_DEADLINE.set(deadline)
    try:
        return await reconcile.lookup(failed_at=failed_at, attempts=attempts)
    except APIError as lookup_error:
        # The write's own error tells the truth (a create that may exist), not the read's.
        error.attempts = attempts
        raise error from lookup_error
    finally:
        _OUTER_DEADLINE.reset(token)


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
        return f"{exc.status} {exc.message}"
    return f"{type(exc).__name__}: {exc}"
