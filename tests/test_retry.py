"""The retry policy as pure decisions: what is retried, how long it waits, the budget."""

from __future__ import annotations

import pytest

from asyncbyok import RetryBudget, RetryPolicy
from asyncbyok.errors import (
    APIConnectionError,
    APITimeoutError,
    ValidationError,
    error_from_response,
)
from asyncbyok.retry import server_retry_after


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    assert RetryPolicy().is_retryable(error_from_response(status, {}, b""))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_other_statuses_are_not_retried(status: int) -> None:
    assert not RetryPolicy().is_retryable(error_from_response(status, {}, b""))


def test_connection_errors_are_retried_bad_input_is_not() -> None:
    policy = RetryPolicy()
    assert policy.is_retryable(APIConnectionError())
    assert policy.is_retryable(APITimeoutError())
    assert not policy.is_retryable(ValidationError([]))
    assert not policy.is_retryable(ValueError())


def test_retry_after_beyond_the_cap_fails_fast() -> None:
    policy = RetryPolicy(max_retry_after=30)
    assert policy.is_retryable(error_from_response(429, {"Retry-After": "30"}, b""))
    assert not policy.is_retryable(error_from_response(429, {"Retry-After": "31"}, b""))


def test_server_retry_after_prefers_milliseconds() -> None:
    exc = error_from_response(429, {"Retry-After": "1", "retry-after-ms": "5"}, b"")
    assert server_retry_after(exc) == 0.005
    assert server_retry_after(error_from_response(503, {"Retry-After": "2"}, b"")) == 2.0
    assert server_retry_after(error_from_response(500, {}, b"")) is None


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(initial_backoff=0.5, max_backoff=4)
    for retry_number, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        waits = [policy.backoff(retry_number) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling / 2  # jitter spreads over the range
    assert RetryPolicy(wait_scale=0).backoff(5) == 0


def test_budget_spends_refunds_and_runs_dry() -> None:
    budget = RetryBudget(capacity=12, retry_cost=5, timeout_cost=10, success_refund=1)
    assert RetryBudget().cost_of(APIConnectionError()) == 1
    assert budget.cost_of(APITimeoutError()) == 10
    assert budget.cost_of(error_from_response(429, {}, b"")) == 0
    assert budget.try_spend(5)
    assert budget.try_spend(5)
    assert not budget.try_spend(5)
    assert budget.exhausted == 1
    budget.refund(100)
    assert budget.tokens == 12
