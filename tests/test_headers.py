"""Reading response headers: request ids, Retry-After, and the state of a rate limit."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from asyncbyok._headers import (
    LimitState,
    find_request_id,
    find_retry_after,
    parse_duration,
    parse_rate_limit,
)


def test_request_id_in_any_case() -> None:
    assert find_request_id({"x-REQUEST-id": "req_1"}) == "req_1"
    assert find_request_id(CIMultiDict({"CF-Ray": "abc"})) == "abc"
    assert find_request_id({}) is None


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "2"}, (2.0, True)),
        ({"retry-after": "0.25"}, (0.25, False)),
        ({"Retry-After": "1", "retry-after-ms": "40"}, (0.04, False)),
        ({"Retry-After": "soon"}, (None, False)),
        ({}, (None, False)),
    ],
)
def test_retry_after_in_every_form(headers: dict[str, str], wait: tuple[object, bool]) -> None:
    assert find_retry_after(headers) == wait
    assert find_retry_after(CIMultiDict(headers)) == wait


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30.0), ("1.5", 1.5), ("6m0s", 360.0), ("1m30s", 90.0), ("20ms", 0.02), ("1h", 3600.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "-1", "nan", "inf", "5x", "1m5"])
def test_bad_durations_are_none(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("headers", "state"),
    [
        (  # the IETF draft's structured fields; the most constrained policy wins
            {
                "RateLimit": '"burst";r=13;t=1, "daily";r=900;t=3600',
                "RateLimit-Policy": '"burst";q=20;w=1, "daily";q=1000;w=86400',
            },
            LimitState(20, 13, 1.0, 1.0),
        ),
        (  # the draft's earlier form
            {
                "RateLimit-Limit": "100",
                "RateLimit-Remaining": "50",
                "RateLimit-Reset": "30",
                "RateLimit-Policy": "100;w=60",
            },
            LimitState(100, 50, 30.0, 60.0),
        ),
        (
            {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "0.85"},
            LimitState(20, 3, 0.85, None),
        ),
        (  # OpenAI's
            {
                "x-ratelimit-limit-requests": "500",
                "x-ratelimit-remaining-requests": "499",
                "x-ratelimit-reset-requests": "120ms",
            },
            LimitState(500, 499, 0.12, None),
        ),
    ],
)
def test_rate_limit_state_in_every_common_form(headers: dict[str, str], state: LimitState) -> None:
    assert parse_rate_limit(headers) == state
    assert parse_rate_limit(CIMultiDict(headers)) == state


def test_a_unix_time_reset_becomes_seconds_from_now() -> None:
    headers = {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "2000000030",
    }
    state = parse_rate_limit(headers, now=2_000_000_000)
    assert state == LimitState(60, 0, 30.0, None)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "application/json"},
        {"X-RateLimit-Limit": "20"},  # no remaining
        {"X-RateLimit-Limit": "0", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"},
        {"X-RateLimit-Limit": "a", "X-RateLimit-Remaining": "b", "X-RateLimit-Reset": "c"},
        {"RateLimit": "garbage;;;"},
    ],
)
def test_no_rate_limit_state_when_there_is_none_or_it_is_unreadable(
    headers: dict[str, str],
) -> None:
    assert parse_rate_limit(headers) is None
    assert parse_rate_limit(CIMultiDict(headers)) is None
