"""Rate limiting per management key, the ways real servers do it.

A :class:`RateLimit` says how many requests a second a key may make, how the server
counts them, and how it tells the client to wait:

``kind="bucket"`` (the default)
    A token bucket holding up to ``burst`` tokens, refilled at ``rate`` tokens a second.
    A request takes one; with none left it is refused with the time until one is back.
``kind="window"``
    A fixed window: at most ``rate * window`` requests per window of ``window`` seconds,
    counted from the first request; the count resets at each window boundary. A refused
    request waits for the next window.

``retry_after`` is what a 429 carries:

- ``"seconds"`` (the default, like most servers): ``Retry-After`` in whole seconds, at
  least 1, as RFC 9110's delta-seconds has it, even when a token is back in 5 ms;
- ``"fractional"``: ``Retry-After`` with the precise wait in fractional seconds;
- ``"ms"``: only ``retry-after-ms``, the precise wait in milliseconds;
- ``"both"``: whole-second ``Retry-After`` and ``retry-after-ms`` (OpenAI's style);
- ``"none"``: no header at all; the client must find the pace itself.

``state_headers`` adds the limiter's state to *every* answer, 429s and successes alike,
so that a client (or several sharing one key) can see the limit coming:

- ``"none"`` (the default): nothing;
- ``"ietf"``: the IETF draft's structured fields (draft-ietf-httpapi-ratelimit-headers),
  ``RateLimit-Policy: "default";q=20;w=1`` and ``RateLimit: "default";r=13;t=1``: the
  quota, its window in whole seconds, what remains of it, and whole seconds until it is
  whole again;
- ``"x-ratelimit"``: the common ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
  ``X-RateLimit-Reset`` (seconds until the quota is whole again, with fractions).

For a bucket the quota is ``burst`` and it is whole again when the bucket is full; for a
window it is ``rate * window``, whole again at the next window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Literal

import attrs

__all__ = [
    "RATE_LIMIT_KINDS",
    "RETRY_AFTER_FORMS",
    "STATE_HEADER_FORMS",
    "FixedWindow",
    "RateLimit",
    "RateLimiter",
    "TokenBucket",
]

RateLimitKind = Literal["bucket", "window"]
RetryAfterForm = Literal["seconds", "fractional", "ms", "both", "none"]
StateHeaders = Literal["none", "ietf", "x-ratelimit"]
RATE_LIMIT_KINDS: tuple[RateLimitKind, ...] = ("bucket", "window")
RETRY_AFTER_FORMS: tuple[RetryAfterForm, ...] = ("seconds", "fractional", "ms", "both", "none")
STATE_HEADER_FORMS: tuple[StateHeaders, ...] = ("none", "ietf", "x-ratelimit")


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be more than 0, not {value!r}")


@attrs.frozen
class RateLimit:
    """Allow ``rate`` requests a second per management key.

    ``RateLimit(rate=200.0, burst=20)``: a token bucket, twenty requests at once, then one
    every 5 ms, refused with a whole-second ``Retry-After``.
    ``RateLimit(rate=200.0, kind="window", retry_after="none")``: 200 requests in each
    one-second window, refused with no hint at all. ``burst`` is only for buckets.
    """

    rate: float = attrs.field(default=200.0, validator=_positive)
    burst: int = attrs.field(default=20, validator=_positive)
    kind: RateLimitKind = attrs.field(
        default="bucket", validator=attrs.validators.in_(RATE_LIMIT_KINDS)
    )
    retry_after: RetryAfterForm = attrs.field(
        default="seconds", validator=attrs.validators.in_(RETRY_AFTER_FORMS)
    )
    window: float = attrs.field(default=1.0, validator=_positive)
    state_headers: StateHeaders = attrs.field(
        default="none", validator=attrs.validators.in_(STATE_HEADER_FORMS)
    )

    @property
    def quota(self) -> int:
        """Requests the limit allows at once: a full bucket, or one window's worth."""
        if self.kind == "bucket":
            return self.burst
        return max(1, math.floor(self.rate * self.window))

    def state(self, remaining: int, reset: float) -> dict[str, str]:
        """The ``state_headers`` for *remaining* requests, whole again in *reset* s."""
        form = self.state_headers
        if form == "ietf":
            refill = self.window if self.kind == "window" else self.burst / self.rate
            return {
                "RateLimit-Policy": f'"default";q={self.quota};w={max(1, math.ceil(refill))}',
                "RateLimit": f'"default";r={remaining};t={math.ceil(reset)}',
            }
        if form == "x-ratelimit":
            return {
                "X-RateLimit-Limit": str(self.quota),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": f"{reset:.3f}",
            }
        return {}

    def headers(self, wait: float) -> dict[str, str]:
        """The headers of a 429 telling the client to wait *wait* seconds."""
        form = self.retry_after
        headers: dict[str, str] = {}
        if form in ("seconds", "both"):
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        elif form == "fractional":
            headers["Retry-After"] = f"{max(wait, 0.001):.3f}"
        if form in ("ms", "both"):
            headers["retry-after-ms"] = str(max(1, math.ceil(wait * 1000)))
        return headers


class TokenBucket:
    """One bucket. *clock* is injectable so tests can move time by hand."""

    def __init__(self, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._stamp = clock()

    def take(self) -> float:
        """Take a token: ``0.0`` if there was one, else the seconds until one is back."""
        now = self._clock()
        refill = (now - self._stamp) * self.limit.rate
        self._tokens = min(float(self.limit.burst), self._tokens + refill)
        self._stamp = now
        # The epsilon forgives float rounding: 0.05 s at 20/s must give back a whole token.
        if self._tokens >= 1.0 - 1e-9:
            self._tokens = max(0.0, self._tokens - 1.0)
            return 0.0
        return (1.0 - self._tokens) / self.limit.rate

    def state(self) -> tuple[int, float]:
        """``(remaining, reset)``: whole tokens left, seconds until the bucket is full."""
        tokens = self._tokens
        return math.floor(tokens + 1e-9), (self.limit.burst - tokens) / self.limit.rate


class FixedWindow:
    """One fixed window counter: ``rate * window`` requests per window."""

    def __init__(self, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._allowed = max(1, math.floor(limit.rate * limit.window))
        self._start = clock()
        self._count = 0

    def take(self) -> float:
        """Count a request: ``0.0`` if the window has room, else seconds to the next one."""
        now = self._clock()
        length = self.limit.window
        if now - self._start >= length:
            self._start += length * math.floor((now - self._start) / length)
            self._count = 0
        if self._count < self._allowed:
            self._count += 1
            return 0.0
        return max(1e-6, self._start + length - now)

    def state(self) -> tuple[int, float]:
        """``(remaining, reset)``: requests left in this window, seconds until the next."""
        left = self._start + self.limit.window - self._clock()
        return self._allowed - self._count, max(0.0, left)


class RateLimiter:
    """The counters of every management key under one :class:`RateLimit`."""

    def __init__(self, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._counters: dict[str, TokenBucket | FixedWindow] = {}

    def take(self, key: str) -> tuple[float, dict[str, str]]:
        """Count a request of *key*: ``(0.0, state)`` if allowed, else the seconds to
        wait and the headers of the 429; *state* is the ``state_headers`` to add to the
        answer (none unless the limit asks for them)."""
        counter = self._counters.get(key)
        if counter is None:
            kind = TokenBucket if self.limit.kind == "bucket" else FixedWindow
            counter = self._counters[key] = kind(self.limit, clock=self._clock)
        wait = counter.take()
        state = self.limit.state(*counter.state()) if self.limit.state_headers != "none" else {}
        if wait > 0:
            return wait, {**self.limit.headers(wait), **state}
        return 0.0, state
