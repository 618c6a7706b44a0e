"""The token bucket, by hand-moved clock, and the 429s it makes the emulator send."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from asyncbyok.emulator import Emulator, RateLimit
from asyncbyok.emulator.ratelimit import FixedWindow, RateLimiter, TokenBucket

from .conftest import Api


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(RateLimit(rate=10.0, burst=3), clock=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.1)
    clock.now += 0.05
    assert bucket.take() == pytest.approx(0.05)
    clock.now += 0.05
    assert bucket.take() == 0.0
    clock.now += 100  # never more than the burst
    assert [bucket.take() for _ in range(4)][-1] > 0


def test_limiter_keeps_one_bucket_per_key() -> None:
    limiter = RateLimiter(RateLimit(rate=1.0, burst=1), clock=Clock())
    assert limiter.take("a") == (0.0, {})
    assert limiter.take("a")[0] > 0
    assert limiter.take("b") == (0.0, {})


def test_window_allows_rate_per_window_then_waits_for_the_next() -> None:
    clock = Clock()
    window = FixedWindow(RateLimit(rate=3.0, kind="window"), clock=clock)
    assert [window.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 0.25
    assert window.take() == pytest.approx(0.75)  # until the window that began at 100 ends
    clock.now += 0.75
    assert [window.take() for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(1.0)]
    clock.now += 5.5  # idle windows: the next starts on the grid, at 106
    assert window.take() == 0.0
    assert [window.take() for _ in range(3)][-1] == pytest.approx(0.5)


def test_limiter_uses_the_kind_asked_for() -> None:
    limiter = RateLimiter(RateLimit(rate=2.0, burst=1, kind="window"), clock=Clock())
    assert [limiter.take("a")[0] for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_bucket_state_headers_say_what_is_left_and_when_it_is_full() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimit(rate=10.0, burst=4, state_headers="x-ratelimit"), clock=clock)
    assert limiter.take("a") == (
        0.0,
        {"X-RateLimit-Limit": "4", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "0.100"},
    )
    for _ in range(3):
        limiter.take("a")
    wait, refused = limiter.take("a")  # empty: a 429 carries the state and Retry-After
    assert wait == pytest.approx(0.1)
    assert refused["X-RateLimit-Remaining"] == "0"
    assert refused["X-RateLimit-Reset"] == "0.400"
    assert refused["Retry-After"] == "1"


def test_window_state_headers_in_the_ietf_draft_form() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimit(rate=3.0, kind="window", state_headers="ietf"), clock=clock)
    assert limiter.take("a")[1] == {
        "RateLimit-Policy": '"default";q=3;w=1',
        "RateLimit": '"default";r=2;t=1',
    }
    clock.now += 0.5
    limiter.take("a")
    limiter.take("a")
    wait, refused = limiter.take("a")
    assert wait == pytest.approx(0.5)
    assert refused["RateLimit"] == '"default";r=0;t=1'


@pytest.mark.parametrize(
    "bad",
    [{"rate": 0}, {"rate": -1.0}, {"burst": 0}, {"window": 0}, {"kind": "x"}, {"retry_after": 1}],
)
def test_bad_limits_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateLimit(**bad)


@pytest.mark.parametrize(
    ("form", "short", "long"),
    [
        ("seconds", {"Retry-After": "1"}, {"Retry-After": "3"}),
        ("fractional", {"Retry-After": "0.004"}, {"Retry-After": "2.300"}),
        ("ms", {"retry-after-ms": "4"}, {"retry-after-ms": "2300"}),
        (
            "both",
            {"Retry-After": "1", "retry-after-ms": "4"},
            {"Retry-After": "3", "retry-after-ms": "2300"},
        ),
        ("none", {}, {}),
    ],
)
def test_retry_after_in_each_form(form: Any, short: Any, long: Any) -> None:
    limit = RateLimit(retry_after=form)
    assert limit.headers(0.004) == short
    assert limit.headers(2.3) == long


def test_default_sends_whole_seconds_only_like_most_servers() -> None:
    assert RateLimit().headers(0.004) == {"Retry-After": "1"}


@pytest.fixture
def emulator_kwargs() -> dict[str, Any]:
    return {
        "rate_limit": RateLimit(rate=2.0, burst=3, retry_after="both"),
        "management_keys": ["mgmt-one", "mgmt-two"],
    }


async def test_over_the_limit_is_429_with_retry_after(emu: Emulator, api: Api) -> None:
    await api.call("GET", "/byok", auth="Bearer mgmt-two")  # warm the response validator
    statuses = [(await api.list()).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    reply = await api.list()
    assert reply.status == 429
    assert reply.body == {"error": {"code": 429, "message": "Rate limit exceeded"}}
    assert reply.checked == "jsonschema"  # the excerpt documents no 429: component schema
    assert reply.headers["Retry-After"] == "1"
    assert 1 <= int(reply.headers["retry-after-ms"]) <= 500
    assert reply.headers["X-Request-Id"].startswith("req_")
    assert emu.stats.rate_limited == 1
    assert emu.stats.responses[429] == 1
    # Another management key has its own bucket.
    other = await api.call("GET", "/byok", auth="Bearer mgmt-two")
    assert other.status == 200
    assert emu.stats.rate_limited == 1
    # Waiting the advised time is enough.
    await asyncio.sleep(int(reply.headers["retry-after-ms"]) / 1000)
    assert (await api.list()).status == 200


async def test_rate_limit_can_be_changed_or_removed(emu: Emulator, api: Api) -> None:
    for _ in range(3):
        await api.list()
    assert (await api.list()).status == 429
    emu.rate_limit = None
    assert [(await api.list()).status for _ in range(10)] == [200] * 10
    emu.rate_limit = RateLimit(rate=1.0, burst=1)
    assert [(await api.list()).status for _ in range(2)] == [200, 429]
    assert emu.rate_limit == RateLimit(rate=1.0, burst=1)


async def test_refused_keys_do_not_spend_tokens(emu: Emulator, api: Api) -> None:
    for _ in range(5):
        assert (await api.call("GET", "/byok", auth=None)).status == 401
    assert [(await api.list()).status for _ in range(3)] == [200, 200, 200]


async def test_state_headers_ride_on_successes_and_refusals(emu: Emulator, api: Api) -> None:
    emu.rate_limit = RateLimit(rate=2.0, burst=2, state_headers="x-ratelimit")
    first = await api.list()
    assert (first.status, first.headers["X-RateLimit-Remaining"]) == (200, "1")
    assert first.headers["X-RateLimit-Limit"] == "2"
    missing = await api.call("GET", "/byok/11111111-2222-3333-4444-555555555555")
    assert (missing.status, missing.headers["X-RateLimit-Remaining"]) == (404, "0")
    refused = await api.list()
    assert refused.status == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert float(refused.headers["X-RateLimit-Reset"]) > 0
