"""The backoff gate and the adaptive rate limiter, on a clock the test moves."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from asyncbyok._headers import LimitState
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


# -- the server's count (RateLimit headers) ------------------------------------------------


def _count(remaining: int, reset: float, limit: int = 20) -> LimitState:
    return LimitState(limit, remaining, reset)


def test_the_servers_count_starts_every_client_at_the_same_share() -> None:
    # Two clients of one limit, one lucky (many successes), one not: the same start.
    paces = []
    for successes in (0, 150):
        clock = FakeClock()
        limiter = AdaptiveRateLimiter(clock)
        for _ in range(successes):
            clock.now += 0.005
            limiter.on_success()
        limiter.on_count(_count(20, 0.1))  # a full quota that refills in 0.1 s: 200/s
        assert not limiter.enabled  # nothing drains yet
        clock.now += 0.01
        limiter.on_count(_count(2, 0.09))  # 10% left, 90% of the period to go: too fast
        assert limiter.enabled
        assert limiter.coordinated
        paces.append(limiter.rate)
    assert paces[0] == paces[1] == pytest.approx(AdaptiveRateLimiter.HEADER_GROWTH * 20 / 1.0)


def test_the_count_doubles_the_pace_then_cuts_and_grows_it_by_a_common_share() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    limiter.on_count(_count(20, 0.1))
    limiter.on_count(_count(2, 0.09))
    start = limiter.rate
    clock.now += AdaptiveRateLimiter.HEADER_DOUBLING
    limiter.on_count(_count(15, 0.025))  # room again: it keeps doubling
    assert limiter.rate == pytest.approx(2 * start)
    clock.now += 0.3  # two more doublings, then the quota drains too fast: one cut...
    limiter.on_count(_count(1, 0.095))
    cut = limiter.rate
    assert cut == pytest.approx(8 * start * AdaptiveRateLimiter.HEADER_BETA, rel=0.02)
    clock.now += 0.05
    limiter.on_count(_count(0, 0.1))  # ...not two within HEADER_GAP
    assert limiter.rate == cut
    clock.now += 1.0
    limiter.on_count(_count(18, 0.01))  # room: grown by a share of the limit's own rate
    limiter.on_count(_count(18, 0.01))  # (the share is added from when room was seen)
    for _ in range(10):  # answers coming all the while: the pace is in use
        clock.now += 0.1
        limiter.on_count(_count(18, 0.01))
    share = AdaptiveRateLimiter.HEADER_GROWTH * 20 / 0.1
    assert limiter.rate == pytest.approx(cut + share, rel=0.02)
    clock.now += 1.5  # a spell with no answers (a gate shut, nothing to send)...
    limiter.on_count(_count(18, 0.01))
    # ...adds at most HEADER_GAP's growth, not 1.5 seconds' worth of an unused pace.
    assert limiter.rate == pytest.approx(cut + 1.2 * share, rel=0.02)


def test_a_probes_429_does_not_cut_the_pace() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    for _ in range(100):
        clock.now += 0.01
        limiter.on_success()
    limiter.on_throttle()
    pace = limiter.rate
    clock.now += 0.5
    limiter.on_throttle(probe=True)
    assert limiter.rate == pace
    limiter.on_throttle()
    assert limiter.rate < pace


def _ietf(remaining: int, limit: int = 20) -> LimitState:
    """A count in the IETF draft's whole seconds (``r=...;t=1``, ``q=...;w=1``)."""
    return LimitState(limit, remaining, 1.0, 1.0)


def test_whole_seconds_still_pace_by_what_is_left_of_the_quota() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    limiter.on_count(_ietf(19))
    assert not limiter.enabled  # the quota nearly whole: nothing drains yet
    limiter.on_count(_ietf(10))  # half gone: too fast, were the quota just refilled
    assert limiter.enabled
    assert limiter.coordinated
    start = limiter.rate
    assert start == pytest.approx(AdaptiveRateLimiter.HEADER_GROWTH * 20 / 1.0)
    clock.now += 0.1
    limiter.on_count(_ietf(0))  # the answer to what was sent before the start...
    assert limiter.rate == pytest.approx(start * 2 ** (0.1 / AdaptiveRateLimiter.HEADER_DOUBLING))
    clock.now += 0.2
    limiter.on_count(_ietf(0), throttled=True)  # ...and a 429's count: neither marks the pace
    assert limiter.rate == pytest.approx(start * 2 ** (0.1 / AdaptiveRateLimiter.HEADER_DOUBLING))
    limiter.on_count(_ietf(2))  # an answer with a tenth left: a mark, cut
    marked = start * 2 ** (0.1 / AdaptiveRateLimiter.HEADER_DOUBLING)
    marked *= 1 - AdaptiveRateLimiter.COARSE_MARK
    assert limiter.rate == pytest.approx(marked)
    clock.now += 0.1
    limiter.on_count(_ietf(15))  # room: it grows again, more slowly after a mark
    assert limiter.rate == pytest.approx(marked * 2 ** (0.1 / AdaptiveRateLimiter.COARSE_DOUBLING))


def _share_a_bucket(
    joins: list[float], seconds: float, *, rate: float = 200.0, burst: int = 20
) -> tuple[list[AdaptiveRateLimiter], list[list[float]], int]:
    """Clients that join at *joins* sharing a token bucket whose counts come in the
    IETF form, simulated in 1 ms steps: the limiters' paces, what each sent per second
    (each would send 400 a second unpaced), and how many 429s the bucket gave."""
    clock = FakeClock()
    start = clock.now
    limiters = [AdaptiveRateLimiter(clock) for _ in joins]
    credit = [0.0 for _ in joins]
    sent: list[list[float]] = [[0.0] * int(seconds) for _ in joins]
    tokens, refused, step = float(burst), 0, 0.001
    order = random.Random(7)
    for tick in range(int(seconds / step)):
        clock.now = start + tick * step
        tokens = min(float(burst), tokens + rate * step)
        for i in order.sample(range(len(limiters)), len(limiters)):  # no one always first
            limiter = limiters[i]
            if clock.now - start < joins[i]:
                continue
            pace = limiter.rate if limiter.enabled else 400.0
            credit[i] = min(credit[i] + min(pace, 400.0) * step, 1.0)
            if credit[i] < 1.0:
                continue
            credit[i] -= 1.0
            ok = tokens >= 1.0
            tokens -= 1.0 if ok else 0.0
            sent[i][int(tick * step)] += 1 if ok else 0
            refused += 0 if ok else 1
            limiter.on_count(_ietf(int(tokens)), throttled=not ok)
            if ok:
                limiter.on_success()
            else:
                limiter.on_throttle()
    return limiters, sent, refused


def test_clients_of_a_bucket_counted_in_whole_seconds_converge_to_equal_shares() -> None:
    # A bucket's whole-second count says nothing of its rate (its quota is its burst),
    # so there is no common share to grow by; what is left of the quota is common, and
    # a client twice as fast meets twice the answers that say "nearly none left".
    # Before, such counts were unused: each client paced by its own 429s.
    limiters, sent, refused = _share_a_bucket([0.0, 3.0], seconds=12)
    assert all(limiter.coordinated for limiter in limiters)
    first, late = sum(sent[0][-5:]) / 5, sum(sent[1][-5:]) / 5
    assert first + late >= 0.9 * 200  # the limit used...
    assert min(first, late) / max(first, late) >= 0.85  # ...in equal shares
    assert refused <= 0.02 * sum(map(sum, sent))


def _drain_windows(limiter: AdaptiveRateLimiter, clock: FakeClock, turns: list[float]) -> None:
    """Counts in the IETF form (t in whole seconds) of a 200-a-second fixed window whose
    quota drains to nothing within each window and is whole again at each of *turns*."""
    for turn in turns:
        for step in range(10):  # a count every 0.1 s of the window, 20 fewer left each time
            clock.now = turn + step * 0.1 + 0.001
            limiter.on_count(LimitState(200, 200 - 20 * (step + 1), 1.0, 1.0))


def test_whole_seconds_of_a_fixed_window_are_made_precise_by_the_quotas_jumps() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    _drain_windows(limiter, clock, [0.3, 1.3])
    assert limiter._phase._phase is None  # one turn of the window seen: phase not yet known
    _drain_windows(limiter, clock, [2.3])
    assert limiter._phase._phase is not None  # two turns a window apart
    phase = limiter._phase.precise(LimitState(200, 100, 1.0, 1.0), 2.55)
    assert phase is not None
    # The window turns again at 3.3; each turn was seen within 0.1 s (counts 0.1 s apart).
    assert phase.reset == pytest.approx(0.75, abs=0.06)


def test_a_token_bucket_shows_no_phase_and_paces_by_what_is_left() -> None:
    # A bucket refills all the time: its quota rises at no regular moment.
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    rises = [(0.0, 2), (0.17, 15), (0.2, 1), (0.61, 18), (0.65, 0), (0.93, 19), (1.0, 3)]
    for moment, remaining in [*rises, (1.15, 1), (1.49, 17)]:
        clock.now = moment
        limiter.on_count(_ietf(remaining))
    assert limiter._phase._phase is None
    assert limiter.coordinated  # by the coarse count


def test_a_count_in_fractions_at_a_whole_second_by_chance_is_no_coarse_count() -> None:
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    limiter.on_count(LimitState(200, 200, 0.5))
    clock.now += 0.01
    limiter.on_count(LimitState(200, 100, 0.49))  # half gone with half to go: ahead
    clock.now += 0.3
    limiter.on_count(LimitState(200, 150, 0.19))  # room: grows by a share
    pace = limiter.rate
    clock.now += 0.01
    limiter.on_count(LimitState(200, 10, 1.0))  # X-RateLimit-Reset: 1.000, exactly
    assert not limiter._coarse
    assert limiter.rate == pace


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


def test_a_busy_spell_after_a_lull_is_read_on_its_own() -> None:
    # 200 successes a second, half a second with nothing to send, then 200 a second again:
    # the last second holds the lull, which is no sign of a slower server.
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    for _ in range(100):
        clock.now += 0.005
        limiter.on_success()
    clock.now += 0.5
    limiter.busy_again()
    for _ in range(40):
        clock.now += 0.005
        limiter.on_success()
    limiter.on_throttle()
    assert limiter.rate >= 0.9 * 190  # not 0.9 x the ~140 a second the window holds


def test_a_pace_the_server_sustained_is_cut_from_itself_not_from_a_stall() -> None:
    # Paced at ~200 a second, callers held back, for seconds without a 429; then a stall
    # (of the server, or a full garbage collection here) and one 429 after it.
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    for _ in range(400):
        clock.now += 0.005
        limiter.on_success()
    limiter.on_throttle()  # switched on at 0.9 x ~200
    for _ in range(600):  # three seconds at the pace, callers waiting on it
        clock.now += 0.005
        limiter.on_success()
        limiter._last_held = clock.now
    clock.now += 0.4  # the stall: nothing came back
    for _ in range(20):
        clock.now += 0.005
        limiter.on_success()
        limiter._last_held = clock.now
    paced = limiter.rate
    assert paced > 180
    limiter.on_throttle()
    assert limiter.rate == pytest.approx(0.9 * paced)  # not 0.9 x the ~0.6 x a window reads


def test_a_throttle_soon_after_another_is_still_cut_from_what_the_server_took() -> None:
    # While the pace is still being found (a 429 less than a second ago), a held pace says
    # nothing the server sustained: what came back is the base.
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    for _ in range(200):
        clock.now += 0.005
        limiter.on_success()
    limiter.on_throttle()
    for _ in range(40):  # 0.4 s at 100 a second, held
        clock.now += 0.01
        limiter.on_success()
        limiter._last_held = clock.now
    before = limiter.rate
    limiter.on_throttle()
    assert limiter.rate < 0.9 * before


def test_after_a_cut_the_served_rate_is_measured_afresh() -> None:
    # A fresh client empties a bucket (20 stored tokens, 200 a second) in a burst: 40
    # successes in 0.1 s read as 400 a second. After the first cut, what the server
    # serves is measured from the cut on, so the next 429 cuts from 200, not from 300.
    clock = FakeClock()
    limiter = AdaptiveRateLimiter(clock)
    for _ in range(40):
        clock.now += 0.0025
        limiter.on_success()
    limiter.on_throttle()
    assert limiter.rate == pytest.approx(360, rel=0.05)
    for _ in range(24):  # 0.12 s at 200 a second
        clock.now += 0.005
        limiter.on_success()
    limiter.on_throttle()
    assert limiter.rate == pytest.approx(0.9 * 200, rel=0.05)
