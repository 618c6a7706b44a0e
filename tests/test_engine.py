"""The request engine against servers that are not our default emulator (issue 10).

One test per finding: whole-second ``Retry-After`` from a fast bucket, fixed windows, a
limiter that lets go, retries off, safe create matching every field, delete remembering
ambiguity, errors that tell the truth, shutdown, and the cost of lookups.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import pytest

import asyncbyok
from asyncbyok import (
    APITimeoutError,
    Client,
    ClientClosedError,
    CreateBYOKKeyRequest,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
    Timeout,
)
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit
from asyncbyok.pacing import AdaptiveRateLimiter, BackoffGate
from asyncbyok.retry import run
from asyncbyok.safe_create import SafeDelete

RAW = "sk-proj-engine-0123456789-AbCd"
FAST = RetryPolicy(wait_scale=0.0)
# The limits every plain `pytest` meets; CI runs the rest too (`-m slow`).
_FAST_LIMITS = {("bucket", "seconds"), ("window", "seconds")}


def _client(emu: Emulator, **kwargs: Any) -> Client:
    kwargs.setdefault("retry", FAST)
    return Client(api_key=emu.management_key, base_url=emu.base_url, **kwargs)


def _requests(n: int) -> list[CreateBYOKKeyRequest]:
    return [
        CreateBYOKKeyRequest(provider="openai", key=f"sk-proj-{i:06d}-engineAbCd", name=f"e{i}")
        for i in range(n)
    ]


# -- pacing against real servers' rate limits ---------------------------------------------


async def test_a_whole_second_retry_after_from_a_fast_bucket_does_not_stall_the_client() -> None:
    # A bucket refilling every 10 ms that says only "Retry-After: 1" (whole seconds).
    limit = RateLimit(rate=100, burst=1, retry_after="seconds")
    async with Emulator(rate_limit=limit) as emu, _client(emu) as client:
        await client.byok.list()
        # Four of five are refused with "Retry-After: 1". The gate takes it as "within a
        # second" and probes; the token is back in 10 ms, so the probe is accepted long
        # before the second is over, and opens the gate for every one of them.
        start = time.monotonic()
        await asyncio.gather(*(client.byok.list() for _ in range(5)))
        elapsed = time.monotonic() - start
    assert client.gate.probes >= 1
    assert elapsed < 0.8  # not the whole second the header said (probing starts at ~20 ms)


async def test_a_precise_retry_after_is_obeyed_without_probing() -> None:
    limit = RateLimit(rate=2, burst=1, retry_after="ms")
    async with Emulator(rate_limit=limit) as emu, _client(emu) as client:
        await asyncio.gather(*(client.byok.list() for _ in range(3)))
    assert client.gate.probes == 0
    assert client.rate_limited >= 1
    assert emu.stats.rate_limited == client.rate_limited


_EVERY_LIMIT = [
    pytest.param(kind, form, marks=[] if (kind, form) in _FAST_LIMITS else [pytest.mark.slow])
    for kind in ("bucket", "window")
    for form in ("seconds", "fractional", "ms", "both", "none")
]


@pytest.mark.parametrize(("kind", "form"), _EVERY_LIMIT)
async def test_bulk_converges_under_every_limit_kind_and_hint(kind: Any, form: Any) -> None:
    limit = RateLimit(rate=400, burst=20, kind=kind, retry_after=form)
    async with Emulator(rate_limit=limit) as emu, _client(emu, retry=RetryPolicy()) as client:
        results = await client.byok.create_many(_requests(600))
        assert all(r.ok for r in results), next(r.error for r in results if not r.ok)
        names = collections.Counter(r.name for r in emu.store.live())
        assert len(names) == 600
        assert max(names.values()) == 1
    # Paced under the limit rather than bursting into it: few requests were refused.
    assert client.rate_limited < 150, client.rate_limited


def test_the_limiter_lets_go_once_429s_stop() -> None:
    now = [100.0]
    limiter = AdaptiveRateLimiter(lambda: now[0])
    for _ in range(200):
        now[0] += 0.005
        limiter.on_success()
    limiter.on_throttle()
    assert limiter.enabled
    now[0] += 3.0  # three quiet seconds: no 429, nobody held back
    asyncio.run(limiter.acquire())  # free, and it switched itself off
    assert not limiter.enabled
    assert limiter.relaxed == 1


@pytest.mark.slow  # two seconds of quiet, by design
async def test_after_a_burst_into_a_limit_and_quiet_a_client_is_as_fast_as_a_fresh_one() -> None:
    async with Emulator(rate_limit=RateLimit(rate=50, burst=5)) as emu, _client(emu) as client:
        await asyncio.gather(*(client.byok.list() for _ in range(20)))
        assert client.rate_limiter.enabled
        emu.rate_limit = None  # the limit is lifted
        await asyncio.sleep(2.1)  # quiet longer than the limiter's relax period
        await asyncio.gather(*(client.byok.list() for _ in range(50)))
        assert not client.rate_limiter.enabled  # no pacing left: a fresh client's speed
        assert client.rate_limiter.relaxed == 1


async def test_with_retries_off_a_429_shuts_no_gate() -> None:
    limit = RateLimit(rate=0.5, burst=1)  # the second request waits 2 s
    async with Emulator(rate_limit=limit) as emu, _client(emu, max_retries=0) as client:
        await client.byok.list()
        with pytest.raises(RateLimitError) as info:
            await client.byok.list()
        assert info.value.retry_after == 2
        assert client.gate.remaining == 0  # no retry was made, so nobody else waits


# -- safe create and safe delete -----------------------------------------------------------


async def test_safe_create_never_returns_a_credential_with_other_fields() -> None:
    async with Emulator() as emu, _client(emu) as a, _client(emu) as b:
        theirs = await a.byok.create(
            provider="openai", key=RAW, name="prod", allowed_models=["openai/gpt-4o"], disabled=True
        )
        # B's first attempt gets a plain 503 (nothing stored); then the faults stop.
        emu.faults = Faults({"create": FaultConfig(error_rate=1.0, error_statuses=(503,))})
        b = b.with_options(on_retry=lambda event: setattr(emu, "faults", Faults()))
        raw = await b.byok.with_raw_response.create(
            provider="openai", key=RAW, name="prod", allowed_models=["openai/o3"], disabled=False
        )
    assert raw.parsed.id != theirs.id
    assert not raw.recovered
    assert raw.parsed.allowed_models == ["openai/o3"]
    assert raw.parsed.disabled is False
    assert len(emu.store.live()) == 2


async def test_safe_create_recovers_its_own_credential_with_every_field() -> None:
    faults = Faults({"create": FaultConfig(commit_then_error_rate=1.0)})
    async with Emulator(faults=faults) as emu, _client(emu) as client:
        fields: dict[str, Any] = {"allowed_models": ["openai/o3"], "disabled": True}
        client = client.with_options(on_retry=lambda event: setattr(emu, "faults", Faults()))
        raw = await client.byok.with_raw_response.create(
            provider="openai", key=RAW, name="mine", **fields
        )
    assert raw.recovered
    assert raw.attempts == 1
    assert raw.method == "POST"
    assert raw.status == 200  # the facts of the lookup that found it
    assert raw.request_id
    assert raw.parsed.allowed_models == ["openai/o3"]
    assert len(emu.store.live()) == 1


async def test_a_delete_lost_after_it_deleted_is_resent_without_a_lookup() -> None:
    # The first DELETE deletes, then answers 500; every GET would fail (503s, as a busy
    # server's). A DELETE is idempotent: it is resent, and the resend's 404 says the first
    # attempt did it. No GET is needed, so none can fail the call.
    async with Emulator() as emu, _client(emu) as client:
        key = await client.byok.create(provider="openai", key=RAW, name="gone")
        emu.faults = Faults(
            {
                "delete": FaultConfig(commit_then_error_rate=1.0),
                "get": FaultConfig(error_rate=1.0, error_statuses=(503,)),
            }
        )
        raw = await client.byok.with_raw_response.delete(key.id)
    assert raw.parsed.deleted
    assert raw.recovered
    assert (raw.status, raw.attempts) == (404, 2)
    assert emu.store.live() == []
    assert emu.stats.requests["get"] == 0
    assert emu.stats.requests["delete"] == 2


async def test_a_resend_answered_404_after_an_ambiguous_attempt_means_deleted() -> None:
    # The loop itself, with a send that plays the server: attempt 1 is lost after the
    # server deleted (500); the resend gets 404. The earlier attempt did it: the call
    # reports success.
    statuses = iter([500, 404])

    async def send(attempt: int, deadline: float | None) -> Any:
        status = next(statuses)
        body = b'{"error": {"code": %d, "message": "x"}}' % status
        raise asyncbyok.errors.error_from_response(status, {}, body, method="DELETE", url="u")

    safe = SafeDelete("DELETE", "u")
    budget = asyncbyok.RetryBudget()
    result = await run(
        send,
        policy=FAST,
        gate=BackoffGate(),
        budget=budget,
        method="DELETE",
        url="u",
        started=time.monotonic(),
        reconcile=safe,
    )
    assert result.parsed.deleted
    assert result.recovered
    assert (result.status, result.attempts) == (404, 2)
    assert budget.tokens == budget.capacity  # the retry's token came back with the success


async def test_delete_returns_true_when_the_resend_finds_it_already_gone() -> None:
    async with Emulator() as emu, _client(emu) as client:
        key = await client.byok.create(provider="openai", key=RAW, name="gone")
        calls: list[int] = []

        def after_first_failure(event: asyncbyok.RetryEvent) -> None:
            calls.append(event.attempt)
            emu.faults = Faults()  # the resend now reaches the server

        emu.faults = Faults({"delete": FaultConfig(commit_then_error_rate=1.0)})
        raw = await client.with_options(on_retry=after_first_failure).byok.with_raw_response.delete(
            key.id
        )
    assert raw.parsed.deleted
    assert raw.recovered  # the resend's 404 said our first attempt had deleted it
    assert raw.status == 404
    assert calls == [1]


async def test_a_failed_lookup_raises_the_creates_own_error() -> None:
    faults = Faults(
        {
            "create": FaultConfig(commit_then_error_rate=1.0),
            "list": FaultConfig(error_rate=1.0, error_statuses=(503,)),
        }
    )
    async with Emulator(faults=faults) as emu, _client(emu) as client:
        with pytest.raises(InternalServerError) as info:
            await client.byok.create(provider="openai", key=RAW, name="lost")
    err = info.value
    assert err.method == "POST"
    assert str(err.url).endswith("/byok")
    assert err.status == 500
    assert err.attempts == 1  # writes sent: the lookup failed before any resend
    assert isinstance(err.__cause__, InternalServerError)
    assert err.__cause__.method == "GET"
    assert len(emu.store.live()) == 1  # stored once; never sent again blind


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
    async with emulator as emu, _client(emu, retry=policy) as client:
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
    async with emulator as emu, _client(emu, retry=policy, timeout=Timeout(10)) as c:
        start = time.monotonic()
        with pytest.raises(APITimeoutError):
            await c.byok.get("11111111-2222-3333-4444-555555555555")
    assert time.monotonic() - start < 1.5


# -- shutdown ------------------------------------------------------------------------------


async def test_aclose_during_a_lookup_makes_the_create_raise_client_closed() -> None:
    faults = Faults(
        {
            "create": FaultConfig(commit_then_error_rate=1.0),
            "list": FaultConfig(latency=2.0),
        }
    )
    async with Emulator(faults=faults) as emu:
        client = _client(emu)
        create = asyncio.ensure_future(client.byok.create(provider="openai", key=RAW, name="c"))
        for _ in range(300):  # until the create is in its lookup
            if emu.stats.requests["list"]:
                break
            await asyncio.sleep(0.01)
        await client.aclose()
        with pytest.raises(ClientClosedError):
            await asyncio.wait_for(create, 1)
        assert not create.cancelled()
        with pytest.raises(ClientClosedError):
            await client.byok.list()


async def test_aclose_during_a_listing_raises_client_closed_in_a_taskgroup_free_way() -> None:
    async with Emulator(faults=Faults({"list": FaultConfig(latency=0.5)})) as emu:
        client = _client(emu)
        for _ in range(3):
            await client.byok.create(provider="openai", key=RAW, name=None)

        async def collect() -> list[asyncbyok.BYOKKey]:
            return [k async for k in client.byok.list(limit=1)]

        task = asyncio.ensure_future(collect())
        await asyncio.sleep(0.1)
        await client.aclose()
        with pytest.raises(ClientClosedError):
            await task
        current = asyncio.current_task()
        assert current is not None
        assert getattr(current, "cancelling", lambda: 0)() == 0  # nobody cancelled us


# -- lookup cost ---------------------------------------------------------------------------


async def test_concurrent_ambiguous_failures_share_listings() -> None:
    faults = Faults({"create": FaultConfig(commit_then_error_rate=0.3)})
    retry = RetryPolicy(max_retries=10, wait_scale=0.0)  # 0.3**11: no item runs out
    async with Emulator(seed=7, faults=faults) as emu, _client(emu, retry=retry) as client:
        results = await client.byok.create_many(_requests(300), concurrency=64)
        assert all(r.ok for r in results), next(r.error for r in results if not r.ok)
        ambiguous = (
            emu.stats.faults[("create", "commit_then_error")]
            + emu.stats.faults[("create", "error")]
        )
        lists = emu.stats.requests["list"]
    assert len(emu.store.live()) == 300
    assert ambiguous > 50
    assert lists / ambiguous <= 1.5, (lists, ambiguous)


def test_probing_early_never_uses_up_a_calls_retries() -> None:
    # A burst of plain calls into a fast bucket that says "Retry-After: 1", the server on
    # its own loop as a real one would be. Probes, and the calls they release, go before
    # that second is up; their refusals are our guesses, so with the default three
    # retries every call still succeeds.
    async def burst(emu: Emulator, calls: int) -> list[Any]:
        async with _client(emu, retry=RetryPolicy()) as client:
            key = await client.byok.create(provider="openai", key=RAW, name="hot")
            got = await asyncio.gather(
                *(client.byok.get(key.id) for _ in range(calls)), return_exceptions=True
            )
            assert client.rate_limited > 0
        return got

    limit = RateLimit(rate=200, burst=20, retry_after="seconds")
    with Emulator(rate_limit=limit, seed=3).run_in_thread() as emu:
        for calls in (50, 50, 200):
            got = asyncio.run(burst(emu, calls))
            assert [type(g).__name__ for g in got] == ["BYOKKey"] * calls
