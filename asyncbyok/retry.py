"""The retry policy: what is retried, how long to wait, when to give up. All of it.

Retried: connection errors, timeouts, and the statuses 408, 429, 500, 502, 503, 504.
Never other 4xx, never bad input. Each call gets a fresh tenacity ``AsyncRetrying``:

- bounded by attempts (``max_retries``, default 3) AND by time (``deadline``, default
  60 s from the first attempt: a retry that would start later is not made);
- exponential backoff with full jitter (a random wait between 0 and
  ``initial_backoff * 2**n``, capped at ``max_backoff``);
- ``Retry-After`` (seconds, an HTTP date, or ``retry-after-ms``) is obeyed instead, up to
  ``max_retry_after``; a longer one fails fast with the
  :class:`~asyncbyok.errors.RateLimitError`, rather than sleeping for minutes;
- a client-wide :class:`RetryBudget`: each retry of an error spends tokens and each
  success earns one back, so thousands of tasks facing a dead server stop retrying
  together instead of multiplying its load. 429s spend nothing: the server said when to
  come back, and the :class:`~asyncbyok.pacing.BackoffGate` makes everyone wait for it.

Retries are visible: each logs a line on the ``asyncbyok`` logger, and calls the client's
``on_retry`` hook with a :class:`RetryEvent`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_any
from tenacity.stop import stop_after_attempt, stop_base

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
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    RateLimitError,
    parse_retry_after,
)
from .pacing import BackoffGate

__all__ = ["RetryBudget", "RetryEvent", "RetryPolicy", "make_retrying", "server_retry_after"]

logger = logging.getLogger("asyncbyok")


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
        ceiling = min(self.max_backoff, self.initial_backoff * 2 ** (retry_number - 1))
        return random.uniform(0, ceiling) * self.wait_scale


def server_retry_after(exc: BaseException) -> float | None:
    """The wait the server asked for on *exc*, in seconds, if any.

    ``retry-after-ms`` (sent by some APIs for sub-second precision) wins over
    ``Retry-After``.
    """
    if not isinstance(exc, APIStatusError):
        return None
    headers: Mapping[str, str] = {k.lower(): v for k, v in exc.headers.items()}
    millis = parse_retry_after(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    if isinstance(exc, RateLimitError) and exc.retry_after is not None:
        return exc.retry_after
    return parse_retry_after(headers.get("retry-after"))


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
        self.tokens = min(self.capacity, self.tokens + amount)


@attrs.frozen
class RetryEvent:
    """One retry about to happen: passed to the client's ``on_retry`` hook."""

    method: str
    url: str
    attempt: int  # the attempt that failed, 1-based
    error: BaseException
    wait: float  # seconds until the next attempt


class _stop_when_out_of_budget(stop_base):
    """Last in the stop chain: spends the retry's tokens, or stops when there are none."""

    def __init__(self, budget: RetryBudget, spent: list[float]) -> None:
        self.budget = budget
        self.spent = spent

    def __call__(self, retry_state: RetryCallState) -> bool:
        assert retry_state.outcome is not None
        cost = self.budget.cost_of(retry_state.outcome.exception() or Exception())
        if not self.budget.try_spend(cost):
            return True
        self.spent.append(cost)
        return False


class _stop_before_deadline(stop_base):
    """Stop when the next attempt would start after *deadline* seconds from *started*."""

    def __init__(self, started: float, deadline: float) -> None:
        self.started = started
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        next_start = time.monotonic() + retry_state.upcoming_sleep
        return next_start - self.started >= self.deadline


class _stop_after_rate_limits(stop_base):
    """Counts 429s against ``rate_limit_retries`` and other errors against ``max_retries``."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.errors = 0
        self.rate_limits = 0

    def __call__(self, retry_state: RetryCallState) -> bool:
        assert retry_state.outcome is not None
        if isinstance(retry_state.outcome.exception(), RateLimitError):
            self.rate_limits += 1
            limit = self.policy.rate_limit_retries
            return self.rate_limits > (self.policy.max_retries if limit is None else limit)
        self.errors += 1
        return self.errors > self.policy.max_retries


def make_retrying(
    policy: RetryPolicy,
    *,
    method: str,
    url: str,
    gate: BackoffGate,
    budget: RetryBudget,
    spent: list[float],
    on_retry: Callable[[RetryEvent], Any] | None = None,
    started: float | None = None,
) -> AsyncRetrying:
    """A fresh tenacity ``AsyncRetrying`` for one call.

    The deadline counts from *started* (a ``time.monotonic()`` reading; default: now),
    so a first attempt made before entering the loop counts too.

    *spent* collects the tokens each retry took from *budget*, so the caller can refund
    the last one on success.
    """

    def wait(retry_state: RetryCallState) -> float:
        assert retry_state.outcome is not None
        exc = retry_state.outcome.exception()
        assert exc is not None
        server_wait = server_retry_after(exc)
        if server_wait is not None:
            gate.defer(server_wait)  # everyone waits for it, not just this call
            return server_wait
        return policy.backoff(retry_state.attempt_number)

    def before_sleep(retry_state: RetryCallState) -> None:
        assert retry_state.outcome is not None
        exc = retry_state.outcome.exception()
        assert exc is not None
        event = RetryEvent(method, url, retry_state.attempt_number, exc, retry_state.upcoming_sleep)
        logger.info(
            "retrying %s %s in %.3fs after attempt %d failed: %s",
            method,
            url,
            event.wait,
            event.attempt,
            _describe(exc),
        )
        if on_retry is not None:
            on_retry(event)

    stops: list[stop_base] = [_stop_after_rate_limits(policy)]
    if policy.rate_limit_retries is None:
        stops.append(stop_after_attempt(policy.max_retries + 1))
    if policy.deadline is not None:
        stops.append(_stop_before_deadline(started or time.monotonic(), policy.deadline))
    stops.append(_stop_when_out_of_budget(budget, spent))
    return AsyncRetrying(
        retry=retry_if_exception(policy.is_retryable),
        wait=wait,
        stop=stop_any(*stops),
        before_sleep=before_sleep,
        reraise=True,
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, APIStatusError):
        return f"{exc.status} {exc.message}"
    return f"{type(exc).__name__}: {exc}"
