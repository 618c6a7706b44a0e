"""The backoff gate and the adaptive rate limiter, on a clock the test moves."""

from __future__ import annotations

import asyncio
import time

import pytest

from asyncbyok.pacing import AdaptiveRateLimiter, BackoffGate


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_gate_keeps_the_latest_moment() -> None:
    clock = FakeClock()
    gate = BackoffGate(clock)
    assert gate.remaining == 0
    gate.defer(2)
    gate.defer(1)  # never shortens
    assert gate.remaining == 2
    clock.now += 1.5
    assert gate.remaining == 0.5


async def test_every_waiter_leaves_the_gate_together() -> None:
    gate = BackoffGate()
    gate.defer(0.05)
    start = time.monotonic()
    await asyncio.gather(*(gate.wait() for _ in range(50)))
    assert time.monotonic() - start >= 0.045


def test_limiter_is_off_until_the_first_throttle_then_cuts_and_recovers() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    for _ in range(200):  # 100 successes a second for two seconds
        clock.now += 0.01
        limiter.on_success()
    assert not limiter.enabled
    limiter.on_throttle()
    assert limiter.enabled
    cut = limiter.rate
    assert 80 <= cut <= 95  # 0.9 x the measured ~100/s
    limiter.on_throttle()  # same burst: one signal
    assert limiter.rate == cut
    for _ in range(300):
        clock.now += 0.02
        limiter.on_success()
    assert limiter.rate > cut  # grew back after the throttles stopped


async def test_limiter_paces_acquires() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    for _ in range(100):  # 100 successes a second
        clock.now += 0.01
        limiter.on_success()
    limiter.on_throttle()
    assert 85 <= limiter.rate <= 95
    with pytest.raises(asyncio.TimeoutError):  # the bucket starts empty: no token yet
        await asyncio.wait_for(limiter.acquire(), 0.05)
    clock.now += 1.05 / limiter.rate
    await asyncio.wait_for(limiter.acquire(), 1)  # one interval later, one token
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.05)


async def test_switching_on_starts_with_an_empty_bucket() -> None:
    # Regression: the first refill used to run at the old, infinite rate and let a burst
    # of hundreds through right after the first 429.
    limiter = AdaptiveRateLimiter()
    for _ in range(50):
        limiter.on_success()
    limiter.on_throttle()
    assert limiter.enabled
    assert limiter.rate < 1e6
    start = time.monotonic()
    for _ in range(3):
        await limiter.acquire()
    assert time.monotonic() - start >= 2 / limiter.rate * 0.9
