"""Token-bucket rate limiting per management key.

Each key has a bucket holding up to ``burst`` tokens, refilled at ``rate`` tokens a second.
A request takes one token; with none left it is refused with the time until one is back,
which the emulator sends as ``Retry-After`` (whole seconds, at least 1, as RFC 9110 has
it) and ``retry-after-ms`` (the precise wait, as several real APIs send it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["RateLimit", "RateLimiter", "TokenBucket"]


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be more than 0, not {value!r}")


@attrs.frozen
class RateLimit:
    """Allow ``rate`` requests a second per management key, in bursts of up to ``burst``.

    ``RateLimit(rate=200.0, burst=20)``: twenty requests at once, then one every 5 ms.
    """

    rate: float = attrs.field(default=200.0, validator=_positive)
    burst: int = attrs.field(default=20, validator=_positive)


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


class RateLimiter:
    """The buckets of every management key under one :class:`RateLimit`."""

    def __init__(self, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str) -> float:
        """Take a token from *key*'s bucket; see :meth:`TokenBucket.take`."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.limit, clock=self._clock)
        return bucket.take()


def retry_after_headers(wait: float) -> dict[str, str]:
    """The headers of a 429 for a *wait* in seconds: whole seconds and milliseconds."""
    return {
        "Retry-After": str(max(1, math.ceil(wait))),
        "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
    }
