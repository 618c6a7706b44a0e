"""The retry policy as pure decisions: what is retried, how long it waits, the budget."""

from __future__ import annotations

import time

import pytest

import asyncbyok
from asyncbyok import RetryBudget, RetryPolicy, Timeout
from asyncbyok.emulator import Emulator, FaultConfig, Faults
from asyncbyok.errors import (
    APIConnectionError,
    APITimeoutError,
    ValidationError,
    error_from_response,
)
from asyncbyok.retry import server_retry_after

from .conftest import RAW, client_for


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


# -- the call's deadline, lookups included -------------------------------------------------


async def test_the_whole_call_lookups_included_ends_by_the_deadline() -> None:
    # Creates are stored, then the connection drops; listings never answer in time.
    faults = Faults(
        {
            "create": FaultConfig(commit_then_drop_rate=1.0),
            "list": FaultConfig(slow_rate=1.0, slow_seconds=5.0),
        }
    )
    policy = RetryPolicy(deadline=0.6, wait_scale=0.0)
    emulator = Emulator(faults=faults, shutdown_timeout=0.1)  # don't wait for the slow ones
    async with emulator as emu, client_for(emu, retry=policy) as client:
        start = time.monotonic()
        with pytest.raises(asyncbyok.APIConnectionError) as info:
            await client.byok.create(provider="openai", key=RAW, name="slow")
        elapsed = time.monotonic() - start
    assert info.value.method == "POST"  # the create's own error, not the listing's
    assert isinstance(info.value.__cause__, APITimeoutError)
    assert elapsed < 0.6 + 0.4


async def test_the_deadline_cuts_an_attempt_that_would_run_past_it() -> None:
    faults = Faults({"get": FaultConfig(slow_rate=1.0, slow_seconds=3.0)})
    policy = RetryPolicy(deadline=0.3)
    emulator = Emulator(faults=faults, shutdown_timeout=0.1)
    async with emulator as emu, client_for(emu, retry=policy, timeout=Timeout(10)) as c:
        start = time.monotonic()
        with pytest.raises(APITimeoutError):
            await c.byok.get("11111111-2222-3333-4444-555555555555")
    assert time.monotonic() - start < 1.5


# -- the decision, pure ---------------------------------------------------------------------


def _decide(error: asyncbyok.APIError, **counts: int) -> asyncbyok.retry.Decision:
    from asyncbyok.retry import decide

    return decide(
        RetryPolicy(max_retries=3, initial_backoff=0.5, max_backoff=8),
        error,
        errors=counts.get("errors", 0),
        rate_limits=counts.get("rate_limits", 0),
        started=100.0,
        deadline=160.0,
        now=counts.get("now", 101),
    )


def test_decide_takes_the_servers_wait_at_the_gate() -> None:
    decision = _decide(error_from_response(429, {"Retry-After": "2"}, b""))
    assert (decision.retry, decision.wait, decision.from_server, decision.coarse) == (
        True,
        2.0,
        True,
        True,
    )
    assert (decision.errors, decision.rate_limits) == (0, 1)
    precise = _decide(error_from_response(503, {"retry-after-ms": "250"}, b""))
    assert (precise.wait, precise.from_server, precise.coarse) == (0.25, True, False)


def test_decide_backs_off_and_stops_on_counts_and_on_the_deadline() -> None:
    first = _decide(APIConnectionError())
    assert first.retry
    assert 0 <= first.wait <= 0.5
    assert not first.from_server
    assert not _decide(APIConnectionError(), errors=3).retry  # a fourth retry: over
    # No retry would start after the deadline: 59.9 s in, a 2 s wait is too long.
    late = _decide(error_from_response(503, {"Retry-After": "2"}, b""), now=159.9)
    assert not late.retry
    assert not _decide(error_from_response(400, {}, b"")).retry


def test_decide_does_not_count_a_429_to_a_probe() -> None:
    early = error_from_response(429, {"Retry-After": "1"}, b"")
    assert isinstance(early, asyncbyok.RateLimitError)
    early.sent_early = True
    decision = _decide(early, rate_limits=3)
    assert decision.retry
    assert decision.rate_limits == 3


class _PlayedServer:
    """A Sender that answers each attempt with the next status, as a server would."""

    def __init__(self, *statuses: int) -> None:
        self._statuses = iter(statuses)
        self.sent = 0

    async def send(self, request: object, cls: object, **kwargs: object) -> object:
        self.sent += 1
        status = next(self._statuses)
        body = b'{"error": {"code": %d, "message": "x"}}' % status
        raise error_from_response(status, {}, body, method="DELETE", url="u")


async def test_a_resend_answered_404_after_an_ambiguous_attempt_means_deleted() -> None:
    # Attempt 1 is lost after the server deleted (500); the resend gets 404. The earlier
    # attempt did it: the call reports success, and the retry's token comes back.
    from asyncbyok.models import DeleteResult
    from asyncbyok.pacing import BackoffGate
    from asyncbyok.retry import run
    from asyncbyok.safe_create import SafeDelete
    from asyncbyok.sansio import HTTPRequest

    server = _PlayedServer(500, 404)
    budget = asyncbyok.RetryBudget()
    result = await run(
        server,  # type: ignore[arg-type]
        HTTPRequest("DELETE", "u", {}),
        DeleteResult,
        envelope=False,
        policy=RetryPolicy(wait_scale=0),
        budget=budget,
        gate=BackoffGate(),
        started=time.monotonic(),
        reconcile=SafeDelete("DELETE", "u"),
    )
    assert result.parsed.deleted
    assert result.recovered
    assert (result.status, result.attempts, server.sent) == (404, 2, 2)
    assert budget.tokens == budget.capacity
