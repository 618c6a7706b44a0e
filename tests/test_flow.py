"""Flow control around each attempt: the ramp, the pacer, the gate, who feeds them."""

from __future__ import annotations

import asyncio

import pytest

from asyncbyok import Client, RateLimitError, RetryPolicy
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit
from asyncbyok.flow import RAMP_START, Flow


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
