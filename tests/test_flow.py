"""Flow control around each attempt: the ramp, the pacer, the gate, who feeds them."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import pytest

from asyncbyok import Client, RateLimitError, RetryPolicy
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit
from asyncbyok.flow import RAMP_START, Flow

from .conftest import RAW, client_for, create_requests


async def test_the_ramp_starts_small_and_opens_one_slot_per_success() -> None:
    flow = Flow()
    turns = [flow.attempt() for _ in range(RAMP_START + 1)]
    for turn in turns[:RAMP_START]:
        await turn.__aenter__()
    late = asyncio.ensure_future(turns[-1].__aenter__())
    await asyncio.sleep(0.01)
    assert not late.done()  # the window is full
    turns[0].report(200, {})
    await turns[0].__aexit__(None, None, None)
    await asyncio.wait_for(late, 1)  # the success gave its slot back, and one more
    assert flow._window == RAMP_START + 1


async def test_a_failed_attempt_gives_its_slot_back_and_a_429_ends_the_ramp() -> None:
    flow = Flow()
    turn = flow.attempt()
    with pytest.raises(OSError, match="dropped"):
        async with turn:
            raise OSError("the connection dropped")
    assert flow._in_flight == 0
    async with flow.attempt() as throttled:
        throttled.report(429, {"Retry-After": "1"})
    assert not flow.ramping
    assert flow.pacer.enabled


async def test_a_fast_server_opens_the_ramp_to_the_whole_pool_at_once() -> None:
    async with (
        Emulator(seed=21) as emu,
        Client(api_key=emu.management_key, base_url=emu.base_url) as client,
    ):
        await asyncio.gather(*(client.byok.list() for _ in range(300)))
        assert not client._shared.flow.ramping  # 256 in flight allowed: the ramp is over
        assert client.rate_limited == 0


async def test_a_client_with_retries_off_makes_nothing_wait_on_its_behalf() -> None:
    # A 429 with Retry-After: 2 to a client that handles 429s itself: raised at once,
    # and the next, unrelated call neither waits at the gate nor is paced.
    limit = RateLimit(rate=50, burst=1, retry_after="both")
    async with (
        Emulator(seed=22, rate_limit=limit) as emu,
        Client(api_key=emu.management_key, base_url=emu.base_url, max_retries=0) as client,
    ):
        await client.byok.list()
        with pytest.raises(RateLimitError):
            await client.byok.list()
        assert not client.rate_limiter.enabled
        assert client.gate.remaining == 0
        await asyncio.sleep(0.05)  # the server's token is back
        await client.byok.list()
        assert emu.stats.rate_limited == 1


async def test_a_copy_with_retries_off_still_follows_its_parents_pace() -> None:
    limit = RateLimit(rate=100, burst=1)
    async with (
        Emulator(seed=23, rate_limit=limit) as emu,
        Client(
            api_key=emu.management_key, base_url=emu.base_url, retry=RetryPolicy(wait_scale=0)
        ) as client,
    ):
        await asyncio.gather(*(client.byok.list() for _ in range(20)))
        assert client.rate_limiter.enabled  # the parent's 429s set a pace...
        quiet = client.with_options(max_retries=0)
        await quiet.byok.list()  # ...which the copy keeps to (and is not refused)
        assert quiet.rate_limiter is client.rate_limiter


async def test_the_servers_count_paces_a_client_before_it_is_refused() -> None:
    limit = RateLimit(rate=100, burst=10, state_headers="x-ratelimit")
    faults = Faults({"list": FaultConfig(latency=0.002)})
    async with (
        Emulator(seed=24, rate_limit=limit, faults=faults) as emu,
        Client(api_key=emu.management_key, base_url=emu.base_url) as client,
    ):
        await asyncio.gather(*(client.byok.list() for _ in range(150)))
        assert client.rate_limiter.coordinated
        # Paced by the count: a handful of refusals at the start, not one per burst.
        assert emu.stats.rate_limited <= 15


# -- against real servers' rate limits ----------------------------------------------------

# The limits every plain `pytest` meets; CI runs the rest too (`-m slow`).
_FAST_LIMITS = {("bucket", "seconds"), ("window", "seconds")}


async def test_a_whole_second_retry_after_from_a_fast_bucket_does_not_stall_the_client() -> None:
    # A bucket refilling every 10 ms that says only "Retry-After: 1" (whole seconds).
    limit = RateLimit(rate=100, burst=1, retry_after="seconds")
    async with Emulator(rate_limit=limit) as emu, client_for(emu) as client:
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
    async with Emulator(rate_limit=limit) as emu, client_for(emu) as client:
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
    async with Emulator(rate_limit=limit) as emu, client_for(emu, retry=RetryPolicy()) as client:
        results = await client.byok.create_many(create_requests(600))
        assert all(r.ok for r in results), next(r.error for r in results if not r.ok)
        names = collections.Counter(r.name for r in emu.store.live())
        assert len(names) == 600
        assert max(names.values()) == 1
    # Paced under the limit rather than bursting into it: few requests were refused.
    assert client.rate_limited < 150, client.rate_limited


@pytest.mark.slow  # two seconds of quiet, by design
async def test_after_a_burst_into_a_limit_and_quiet_a_client_is_as_fast_as_a_fresh_one() -> None:
    async with Emulator(rate_limit=RateLimit(rate=50, burst=5)) as emu, client_for(emu) as client:
        await asyncio.gather(*(client.byok.list() for _ in range(20)))
        assert client.rate_limiter.enabled
        emu.rate_limit = None  # the limit is lifted
        await asyncio.sleep(2.1)  # quiet longer than the limiter's relax period
        await asyncio.gather(*(client.byok.list() for _ in range(50)))
        assert not client.rate_limiter.enabled  # no pacing left: a fresh client's speed
        assert client.rate_limiter.relaxed == 1


async def test_with_retries_off_a_429_shuts_no_gate() -> None:
    limit = RateLimit(rate=0.5, burst=1)  # the second request waits 2 s
    async with Emulator(rate_limit=limit) as emu, client_for(emu, max_retries=0) as client:
        await client.byok.list()
        with pytest.raises(RateLimitError) as info:
            await client.byok.list()
        assert info.value.retry_after == 2
        assert client.gate.remaining == 0  # no retry was made, so nobody else waits


def test_probing_early_never_uses_up_a_calls_retries() -> None:
    # A burst of plain calls into a fast bucket that says "Retry-After: 1", the server on
    # its own loop as a real one would be. Probes, and the calls they release, go before
    # that second is up; their refusals are our guesses, so with the default three
    # retries every call still succeeds.
    async def burst(emu: Emulator, calls: int) -> list[Any]:
        async with client_for(emu, retry=RetryPolicy()) as client:
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


async def test_an_attempt_cancelled_while_waiting_its_turn_gives_its_slot_back() -> None:
    flow = Flow()
    flow.pacer.on_throttle()  # paced: an attempt waits at the pacer, holding a ramp slot
    flow.pacer.rate = 0.5
    flow.ramping = True
    waiting = asyncio.ensure_future(flow.attempt().__aenter__())
    await asyncio.sleep(0.01)
    assert flow._in_flight == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert flow._in_flight == 0
    assert flow._wanting == 0


async def test_the_pacer_hears_when_callers_come_back_after_a_lull() -> None:
    now = [100.0]
    flow = Flow(lambda: now[0])
    heard: list[float] = []
    flow.pacer.busy_again = lambda: heard.append(now[0])  # type: ignore[method-assign]
    async with flow.attempt() as turn:
        turn.report(200, {})
    assert heard == [100.0]  # the first ever: after "forever"
    now[0] += 0.05
    async with flow.attempt() as turn:  # a moment later: the same busy spell
        turn.report(200, {})
    now[0] += 1.0
    async with flow.attempt() as turn:  # a second with nothing to send
        turn.report(200, {})
    assert heard == [100.0, 101.05]
